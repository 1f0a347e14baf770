"""Conventions: the documented, deliberate choices where libraries differ (CONTRACT.md §7).

The contract fixes one answer for each of these; other libraries fix others, on purpose. An
implementation declares its conventions and the suite judges it by them: a failure is then a
real disagreement, not a convention. The closed set, each with the contract's value first:

=============== ========================================== =====================================
key             values                                     what it changes
=============== ========================================== =====================================
box_format      ``xyxy``, ``yxyx``, ``xywh``, ``cxcywh``   how boxes are passed in and out
empty_union     ``0``, ``nan``, ``eps:VALUE``              the IoU of two zero-area boxes; with
                                                           ``eps`` every IoU is
                                                           ``inter / (union + VALUE)``
pixel_offset    ``0``, ``1``                               ``+1`` pixel widths and heights in IoU
nms_suppress    ``>``, ``>=``                              NMS suppresses at ``IoU > t`` or
                                                           ``IoU >= t``
nms_ties        ``lowest``, ``highest``, ``any``           the order NMS visits equal scores in
=============== ========================================== =====================================

An implementation's module declares them as ``CONVENTIONS``: a preset name (:data:`PRESETS`:
``contract``, ``torchvision``, ``keras``, ``tensorflow``, ...) or a mapping of keys to values
(optionally with ``"preset"``, the base the other keys override). On the command line,
``--conventions=PRESET`` replaces the declaration and ``--convention KEY=VALUE`` (repeatable)
overrides one key. An unknown preset, key or value is a :class:`ConventionError` (a
``pytest.UsageError`` on the command line) that lists the valid ones.

How the suite follows them:

- ``box_format`` is a translation at the boundary: the plugin's ``Implementation`` converts box
  arguments from ``xyxy`` to the declared format and box results back (:data:`BOXES` says which
  arguments and results hold boxes), so the properties never see it. The conversions are exact
  on the lattice (CONTRACT.md §5). Under ``yxyx`` the center form is ``(cy, cx, h, w)``; under
  ``xywh`` and ``cxcywh`` it is ``(cx, cy, w, h)`` (CONTRACT.md §7).
- The other keys are :class:`reference.rules.Rules` of the reference's cores:
  :attr:`Conventions.reference` is a copy of the reference that computes under them, and the
  properties whose laws they change read them from the ``conventions`` fixture.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property, partial
from types import ModuleType
from typing import Any

from reference.rules import Rules

# Re-exported: the suite has always imported the box-format conversion from here.
from .formats import (  # noqa: F401
    BOXES,
    ROUNDING_FORMATS,
    as_received,
    convert,
    convert_arguments,
    convert_result,
    in_format,
)

BOX_FORMATS = ("xyxy", "yxyx", "xywh", "cxcywh")
PIXEL_OFFSETS = ("0", "1")
NMS_SUPPRESS = (">", ">=")
NMS_TIES = ("lowest", "highest", "any")
VALID = {
    "box_format": BOX_FORMATS,
    "empty_union": ("0", "nan", "eps:VALUE"),
    "pixel_offset": PIXEL_OFFSETS,
    "nms_suppress": NMS_SUPPRESS,
    "nms_ties": NMS_TIES,
}
KEYS = tuple(VALID)
# The keys that change an IoU, and the ones that change NMS beyond its IoU.
IOU_KEYS = ("empty_union", "pixel_offset")
NMS_KEYS = ("nms_suppress", "nms_ties")


class ConventionError(ValueError):
    """An unknown preset, key or value; the message lists the valid ones."""


@dataclass(frozen=True)
class Conventions:
    """One value for each key of the closed set; the defaults are the contract's."""

    box_format: str = "xyxy"
    empty_union: str = "0"
    pixel_offset: str = "0"
    nms_suppress: str = ">"
    nms_ties: str = "lowest"

    def __post_init__(self) -> None:
        for key in KEYS:
            canonical = parse_value(key, getattr(self, key))
            object.__setattr__(self, key, canonical)

    # --- what the values mean ---------------------------------------------------------------

    @property
    def union_eps(self) -> float:
        """The epsilon added to every union (0 unless ``empty_union`` is ``eps:VALUE``)."""
        return float(self.empty_union[4:]) if self.empty_union.startswith("eps:") else 0.0

    @property
    def rules(self) -> Rules:
        """These conventions as the reference cores' :class:`~reference.rules.Rules`."""
        return Rules(
            nan_for_empty_union=self.empty_union == "nan",
            union_eps=self.union_eps,
            pixel_offset=float(self.pixel_offset),
            suppress_at_threshold=self.nms_suppress == ">=",
            ties=self.nms_ties,
        )

    @property
    def exact_on_lattice(self) -> bool:
        """Whether IoU decisions stay exact on the lattice (CONTRACT.md §5): an epsilon in the
        union makes every IoU one more rounding away from the exact ratio, so a float32 IoU at
        a dyadic threshold may land on either side of it."""
        return not self.union_eps

    @cached_property
    def reference(self) -> ModuleType:
        """The reference computing under these conventions (boxes ``xyxy`` in and out).

        A copy of the reference package (:func:`properties.broken._mutate.edited_reference`)
        whose IoU, NMS and assignment cores take :attr:`rules`; its public functions keep their
        argument checks. The contract's conventions give the reference itself.
        """
        if self.rules == Rules():
            import reference

            return reference
        return _reference_under(self.rules)

    # --- presenting them --------------------------------------------------------------------

    def items(self) -> list[tuple[str, str]]:
        return [(key, getattr(self, key)) for key in KEYS]

    def describe(self) -> str:
        """``box_format=xyxy empty_union=0 pixel_offset=0 nms_suppress=> nms_ties=lowest``."""
        return " ".join(f"{k}={v}" for k, v in self.items())

    def preset_names(self) -> list[str]:
        """The presets with exactly these values."""
        from .presets import PRESETS

        return [n for n, p in PRESETS.items() if p.conventions == self]

    def differences(self, other: Conventions) -> list[str]:
        """The keys whose values differ from ``other``'s."""
        return [k for k in KEYS if getattr(self, k) != getattr(other, k)]

    def overrides(self) -> dict[str, str]:
        """The keys that differ from the contract's, with their values."""
        return {k: getattr(self, k) for k in self.differences(CONTRACT)}

    def contract_with_format(self) -> Conventions:
        """The contract's conventions in this box format: what a library is held to when the
        conformance table compares it with the contract (a format is how boxes are passed, not
        what is computed)."""
        return Conventions(box_format=self.box_format)


def parse_value(key: str, value: Any) -> str:
    """The canonical text of ``value`` for ``key``; :class:`ConventionError` if invalid."""
    if key not in VALID:
        raise ConventionError(f"unknown convention {key!r}; the conventions are: {', '.join(KEYS)}")
    text = str(value).strip()
    if key == "empty_union":
        return _parse_empty_union(text)
    if key == "nms_suppress":
        text = {"gt": ">", "ge": ">="}.get(text, text)
    if key == "pixel_offset" and text in ("0.0", "1.0", "False", "True"):
        text = {"0.0": "0", "1.0": "1", "False": "0", "True": "1"}[text]
    if text not in VALID[key]:
        raise ConventionError(
            f"convention {key}: unknown value {text!r}; valid values: {', '.join(VALID[key])}"
        )
    return text


def _parse_empty_union(text: str) -> str:
    low = text.lower()
    if low in ("0", "0.0", "zero"):
        return "0"
    if low == "nan":
        return "nan"
    if low.startswith("eps:"):
        try:
            eps = float(low[4:])
        except ValueError:
            eps = math.nan
        if math.isfinite(eps) and eps > 0:
            return f"eps:{eps!r}"
        raise ConventionError(
            f"convention empty_union: {text!r} needs a finite epsilon > 0 after 'eps:' "
            "(e.g. eps:1e-07)"
        )
    raise ConventionError(
        f"convention empty_union: unknown value {text!r}; valid values: 0, nan, eps:VALUE "
        "(an epsilon > 0 added to every union, e.g. eps:1e-07)"
    )


CONTRACT = Conventions()


def resolve(
    declared: str | Mapping[str, Any] | Conventions | None = None,
    preset: str | None = None,
    overrides: Iterable[str] | Mapping[str, Any] = (),
    where: str = "",
) -> Conventions:
    """The conventions in force: ``declared`` (a module's ``CONVENTIONS``: a preset name, a
    mapping, or None for the contract's), replaced by ``preset`` when given, then each of
    ``overrides`` (``"KEY=VALUE"`` strings or a mapping). ``where`` prefixes error messages."""
    try:
        base = declared if preset is None else preset
        values = dict(_as_mapping(base))
        pairs = overrides.items() if isinstance(overrides, Mapping) else map(_split, overrides)
        for key, value in pairs:
            values[key] = value
        return Conventions(**{k: parse_value(k, v) for k, v in values.items()})
    except ConventionError as e:
        raise ConventionError(f"{where}{e}") from None


def _as_mapping(spec: str | Mapping[str, Any] | Conventions | None) -> dict[str, Any]:
    if spec is None:
        return {}
    if isinstance(spec, Conventions):
        return dict(spec.items())
    if isinstance(spec, str):
        from .presets import PRESETS

        if spec not in PRESETS:
            raise ConventionError(
                f"unknown conventions preset {spec!r}; the presets are: {', '.join(PRESETS)}"
            )
        return dict(PRESETS[spec].conventions.items())
    if isinstance(spec, Mapping):
        values = dict(spec)
        base = _as_mapping(values.pop("preset")) if "preset" in values else {}
        for key in values:
            parse_value(key, values[key])  # unknown keys and values fail here, named
        return base | values
    raise ConventionError(
        f"conventions must be a preset name or a mapping of keys to values, got {spec!r}"
    )


def _split(item: str) -> tuple[str, str]:
    key, sep, value = str(item).partition("=")  # keys hold no "=": "nms_suppress=>=" splits
    if not sep or not key.strip():
        raise ConventionError(
            f"--convention expects KEY=VALUE, got {item!r}; the keys are: {', '.join(KEYS)}"
        )
    return key.strip(), value.strip()


def help_text() -> str:
    """The keys, their values and the presets, for ``--help`` and error messages."""
    from .presets import PRESETS

    keys = "; ".join(f"{k}: {'|'.join(v)}" for k, v in VALID.items())
    return f"{keys}. Presets: {', '.join(PRESETS)}"


# --- the reference under other rules ------------------------------------------------------


_REFERENCES: dict[Rules, ModuleType] = {}


def _reference_under(rules: Rules) -> ModuleType:
    """A copy of the reference package whose IoU, NMS and assignment cores follow ``rules``."""
    if rules not in _REFERENCES:
        from reference.boxes import iou
        from reference.matching import assign
        from reference.nms import greedy_nms

        from .broken._mutate import Swap, edited_reference

        name = "conventions_" + "_".join(_slug(v) for v in rules)
        _REFERENCES[rules] = edited_reference(
            name,
            Swap("boxes.py", "iou", partial(iou, rules=rules)),
            Swap("nms.py", "greedy_nms", partial(greedy_nms, rules=rules)),
            Swap("matching.py", "assign", partial(assign, rules=rules)),
        )
    return _REFERENCES[rules]


def _slug(value: Any) -> str:
    return "".join(c if c.isalnum() else "_" for c in str(value))


def reference_under(**values: str) -> dict[str, Callable]:
    """The reference as an implementation under ``values`` (keys of the closed set): the ten
    functions of ``reference.__all__``, taking and returning boxes in ``box_format`` and
    computing under the other keys, plus ``CONVENTIONS`` (nothing: the caller declares).

    For testing the suite's machinery: a module ``globals().update(reference_under(
    nms_ties="highest"))`` is a correct implementation of those conventions.
    """
    import reference

    conventions = resolve(values)
    module = conventions.reference
    api: dict[str, Callable] = {}
    for name in reference.__all__:  # boxes to xyxy in float64: the reference computes in it
        f = getattr(module, name)
        api[name] = in_format(name, f, conventions.box_format, False, keep_dtype=False)
    return api


# The presets (properties/presets.py) and the ``conventions`` fixture (properties/reading.py)
# build on :class:`Conventions`, so they are imported from here on first use.
_ELSEWHERE = {
    "PRESETS": "presets",
    "Preset": "presets",
    "Reading": "reading",
    "start_reading": "reading",
    "stop_reading": "reading",
}


def __getattr__(name: str) -> Any:
    if name in _ELSEWHERE:
        import importlib

        return getattr(importlib.import_module(f".{_ELSEWHERE[name]}", __package__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
