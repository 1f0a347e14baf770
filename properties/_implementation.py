"""The implementation under test, for the plugin (:mod:`properties.plugin`, which re-exports
these names): the contract's functions, :class:`Implementation` (skips for what a module lacks,
box formats converted at the call), :func:`load_implementation` and the ``--impl-plan`` file."""

from __future__ import annotations

import functools
import importlib
import importlib.util
import inspect
import json
import os
import sys
import textwrap
from pathlib import Path
from types import ModuleType
from typing import NamedTuple

import pytest

from . import asserts
from . import conventions as conv

# The detector operations beyond the chapter (CONTRACT.md §3), their static-shape twins, and the
# losses' gradients as functions (the reference has them; a JAX implementation gives jax.grad).
DETECTOR_FUNCTIONS = (
    "box_convert",
    "batched_nms",
    "batched_nms_padded",
    "BoxCoder",
    "Matcher",
    "generalized_box_iou",
    "distance_box_iou",
    "complete_box_iou",
    "generalized_box_iou_loss",
    "distance_box_iou_loss",
    "complete_box_iou_loss",
    "generalized_box_iou_loss_grad",
    "distance_box_iou_loss_grad",
    "complete_box_iou_loss_grad",
    "clip_boxes_to_image",
    "remove_small_boxes",
    "remove_small_boxes_keep_mask",
)
# The functions of the contract (the chapter's, §2, then §3's: an implementation of the chapter
# need not have those; a test of a function the implementation lacks skips), and the optional
# static-shape forms the suite tests when present.
CONTRACT_FUNCTIONS = (
    "box_corner_to_center",
    "box_center_to_corner",
    "multibox_prior",
    "box_iou",
    "assign_anchor_to_bbox",
    "offset_boxes",
    "offset_inverse",
    "multibox_target",
    "nms",
    "multibox_detection",
    *DETECTOR_FUNCTIONS,
)
OPTIONAL_FUNCTIONS = ("nms_padded", "nms_keep_mask")
ADAPTERS_DIR = Path(__file__).resolve().parent / "adapters"


def adapter_names() -> list[str]:
    """The short names of the shipped adapters (``--impl=torchvision``, ...)."""
    return sorted(p.stem for p in ADAPTERS_DIR.glob("*.py") if not p.stem.startswith("_"))


class Implementation:
    """The implementation under test: attribute access returns its functions.

    A contract function (or optional form) the module lacks skips the calling test with
    "NAME not provided by IMPL"; any other missing attribute is an ``AttributeError``.
    Functions with box arguments or results take and return ``xyxy`` boxes: they are converted
    to and from the declared ``conventions.box_format`` around the module's function.
    """

    def __init__(
        self,
        name: str,
        module: ModuleType,
        conventions: conv.Conventions | None = None,
        spec: str | None = None,
    ):
        self.name = name
        self.module = module
        self.conventions = conventions if conventions is not None else conv.CONTRACT
        self.spec = spec if spec is not None else name

    @property
    def path(self) -> str:
        return getattr(self.module, "__file__", None) or "<no file>"

    def has(self, function: str) -> bool:
        return callable(getattr(self.module, function, None))

    def __getattr__(self, function: str):
        f = getattr(self.module, function, None)
        if callable(f):
            if hasattr(self.module, "LIBRARY"):  # an adapter: some calls are not provided
                f = _adapter_call(f, function, self)
            return conv.in_format(function, f, self.conventions.box_format, to_format=True)
        if function in CONTRACT_FUNCTIONS or function in OPTIONAL_FUNCTIONS:
            pytest.skip(f"{function} not provided by {self.name}")
        raise AttributeError(f"{self.name} has no function {function!r}")

    def repro(self, function: str, args: dict) -> str:
        """A snippet that reproduces ``function(*args.values())``: the boxes as the module
        receives them (in its box format); an adapter (a module with ``repro``) writes one that
        calls its library directly, anything else loads this implementation."""
        fmt = self.conventions.box_format
        values, _ = conv.convert_arguments(function, tuple(args.values()), {}, fmt, True)
        converted = dict(zip(args, values, strict=True))
        writer = getattr(self.module, "repro", None)
        if callable(writer):
            return writer(function, converted)
        declared = conv.resolve(getattr(self.module, "CONVENTIONS", None))
        extra = "" if declared == self.conventions else f", {self.conventions.overrides()!r}"
        lines = ["import numpy as np", "from properties.plugin import load_implementation"]
        lines.append(f"impl = load_implementation({self.spec!r}{extra})")
        lines += [f"{key} = {asserts.literal(value)}" for key, value in args.items()]
        lines.append(f"print(impl.{function}({', '.join(args)}))")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"Implementation({self.name!r}, {self.path!r})"


def _adapter_call(f, function: str, impl: Implementation):
    """An adapter's ``f``: its :class:`~properties.adapters.NotProvided` turned into a skip, and
    an exception from the library given a note with the repro snippet that calls the library
    itself (a crash is a finding too; the conformance table shows the snippet)."""
    from .adapters import NotProvided

    @functools.wraps(f)
    def call(*args, **kwargs):
        try:
            return f(*args, **kwargs)
        except NotProvided as e:
            pytest.skip(f"{function} ({e}) not provided by {impl.name}")
        except Exception as e:
            try:  # the arguments as the library received them (in its box format)
                bound = dict(inspect.signature(f).bind(*args, **kwargs).arguments)
                snippet = impl.module.repro(function, bound)
            except Exception:  # no snippet for this call: the exception as it is
                raise e from None
            e.add_note("To reproduce:\n" + textwrap.indent(snippet, "    "))
            raise

    return call


def load_implementation(
    spec: str, conventions: str | dict | conv.Conventions | None = None, overrides=()
) -> Implementation:
    """Import ``spec``: an adapter's short name, a module name, or a path to a ``.py`` file.

    Its conventions: the module's ``CONVENTIONS`` (the contract's if it declares none), replaced
    by ``conventions`` when given, then ``overrides`` (``"KEY=VALUE"`` strings or a mapping).
    """
    if spec.endswith(".py") or os.sep in spec or "/" in spec:
        path = Path(spec).expanduser().resolve()
        if not path.is_file():
            raise pytest.UsageError(f"--impl: no such file: {path}")
        mod_name = f"_impl_under_test_{path.stem}"
        module_spec = importlib.util.spec_from_file_location(mod_name, path)
        module = importlib.util.module_from_spec(module_spec)
        sys.modules[mod_name] = module
        module_spec.loader.exec_module(module)
        name, spec = path.name, str(path)
    else:
        module_name = f"properties.adapters.{spec}" if spec in adapter_names() else spec
        try:
            module = importlib.import_module(module_name)
        except ImportError as e:
            raise pytest.UsageError(f"--impl: cannot import {spec!r}: {e}") from e
        name = spec
    try:
        in_force = conv.resolve(
            getattr(module, "CONVENTIONS", None),
            conventions if not isinstance(conventions, conv.Conventions) else None,
            overrides,
            where=f"{name}: ",
        )
    except conv.ConventionError as e:
        raise pytest.UsageError(f"{e}") from None
    if isinstance(conventions, conv.Conventions):
        in_force = conventions
    return Implementation(name, module, in_force, spec)


class PlanEntry(NamedTuple):
    """One implementation of an ``--impl-plan``: its spec, its tests (None: all), and its
    conventions (None: its module's)."""

    impl: str
    tests: frozenset[str] | None
    conventions: str | dict | None = None


def read_plan(path: str) -> dict[str, PlanEntry]:
    """The ``--impl-plan`` file: ``{name: PlanEntry}``; a ``pytest.UsageError`` if malformed."""
    try:
        raw = json.loads(Path(path).expanduser().read_text())
    except (OSError, ValueError) as e:
        raise pytest.UsageError(f"--impl-plan: cannot read {path}: {e}") from None
    if not isinstance(raw, dict) or not raw:
        raise pytest.UsageError(f"--impl-plan: {path} must hold a non-empty JSON object")
    plan = {}
    for name, entry in raw.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("impl"), str):
            raise pytest.UsageError(f'--impl-plan: {name!r} needs an "impl" string')
        tests = entry.get("tests")
        if tests is not None and not (
            isinstance(tests, list) and all(isinstance(t, str) and "::" in t for t in tests)
        ):
            raise pytest.UsageError(
                f'--impl-plan: {name!r}: "tests" must be a list of "file.py::test_name"'
            )
        conventions = entry.get("conventions")
        try:
            if conventions is not None:
                conv.resolve(conventions)
        except conv.ConventionError as e:
            raise pytest.UsageError(f"--impl-plan: {name!r}: {e}") from None
        tests = None if tests is None else frozenset(tests)
        plan[name] = PlanEntry(entry["impl"], tests, conventions)
    return plan
