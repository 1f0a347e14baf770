"""Broken implementations made from the reference by checked edits of its source.

A one-token bug is written as the exact text it changes in the reference, not as a retyped
copy of the function that holds it::

    from properties.broken._mutate import Edit, implementation

    CAUGHT_BY = ["test_nms.py::test_nms_iou_exactly_at_threshold_is_kept"]

    BUG = Edit("nms.py", "[0] > iou_threshold", "[0] >= iou_threshold")
    globals().update(implementation(__name__, BUG))

:func:`implementation` loads a private copy of the whole ``reference`` package (named
``reference_edited_for_<module>``), every module read from the reference's own source with
the edits applied before it runs, and returns the copy's public functions (the ten of
``reference.__all__``) for the broken module to export, plus ``CHANGES``, the edits it made.
Because the whole package is copied, a bug reaches every caller, as it would in a real
implementation: an edit of the IoU core ``boxes.iou`` also changes ``nms``,
``assign_anchor_to_bbox``, ``multibox_target`` and ``multibox_detection`` of the copy. The real
``reference`` is never touched.

Every edit is checked: its snippet must occur exactly once in the file (so a change of the
reference that moves or removes it fails loudly, naming the file and the snippet, instead of
silently testing the unbroken reference), and it must change something. A structural bug
(another algorithm, not an edit) swaps a whole check-free core for a hand-written one with
:class:`Swap`: the copy's public functions keep the reference's argument checks and call it.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import linecache
import sys
from collections.abc import Callable
from pathlib import Path
from types import FunctionType, ModuleType
from typing import NamedTuple

import reference

REFERENCE_DIR = Path(reference.__file__).resolve().parent


class EditError(Exception):
    """An edit or swap that does not apply to the reference as it is."""


class Edit(NamedTuple):
    """Replace ``old``, which must occur exactly once in ``reference/<file>``, by ``new``."""

    file: str
    old: str
    new: str


class Swap(NamedTuple):
    """Replace the function ``name`` of ``reference/<file>`` by ``function`` in the copy.

    Every function of the copy that calls ``name`` (in that module, or in another that
    imports it) calls ``function`` instead.
    """

    file: str
    name: str
    function: Callable


def apply_edit(source: str, edit: Edit, where: str) -> str:
    """``source`` with ``edit`` applied; :class:`EditError` unless its snippet occurs once."""
    if edit.old == edit.new:
        raise EditError(f"{where}: the edit changes nothing ({edit.old!r})")
    count = source.count(edit.old)
    if count != 1:
        raise EditError(
            f"{where}: the snippet {edit.old!r} occurs {count} times, expected exactly once "
            "(has the reference changed? then update the edit)"
        )
    return source.replace(edit.old, edit.new)


def _swap(module: ModuleType, swap: Swap, where: str) -> None:
    current = getattr(module, swap.name, None)
    if not isinstance(current, FunctionType) or current.__module__ != module.__name__:
        raise EditError(f"{where}: defines no function {swap.name!r} to swap")
    if not callable(swap.function):
        raise EditError(f"{where}: {swap.name} swapped for {swap.function!r}, not a function")
    setattr(module, swap.name, swap.function)


class _Loader(importlib.abc.Loader):
    """Runs one module of the copy: the reference's source with its edits, then its swaps."""

    def __init__(self, path: Path, owner: str, edits: list[Edit], swaps: list[Swap]):
        self.path, self.owner, self.edits, self.swaps = path, owner, edits, swaps
        self.loaded = False

    def create_module(self, spec):
        return None  # the default module object

    def exec_module(self, module: ModuleType) -> None:
        where = f"reference/{self.path.name} (edited for {self.owner})"
        source = self.path.read_text()
        for edit in self.edits:
            source = apply_edit(source, edit, where)
        filename = str(self.path)
        if self.edits:  # tracebacks show the edited lines
            filename = f"{self.path} [edited for {self.owner}]"
            linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        exec(compile(source, filename, "exec", dont_inherit=True), module.__dict__)
        for swap in self.swaps:
            _swap(module, swap, where)
        self.loaded = True


class _Finder(importlib.abc.MetaPathFinder):
    """Finds the modules of one copy (``<prefix>`` and ``<prefix>.*``) in the reference's folder."""

    def __init__(self, prefix: str, owner: str, loaders: dict[str, _Loader]):
        self.prefix, self.owner, self.loaders = prefix, owner, loaders

    def find_spec(self, fullname, path=None, target=None):
        if fullname == self.prefix:
            file, search = "__init__.py", [str(REFERENCE_DIR)]
        elif fullname.startswith(self.prefix + ".") and "." not in fullname[len(self.prefix) + 1 :]:
            file, search = fullname[len(self.prefix) + 1 :] + ".py", None
        else:
            return None
        if not (REFERENCE_DIR / file).is_file():
            return None
        loader = self.loaders.setdefault(file, _Loader(REFERENCE_DIR / file, self.owner, [], []))
        return importlib.util.spec_from_file_location(
            fullname, REFERENCE_DIR / file, loader=loader, submodule_search_locations=search
        )


def edited_reference(name: str, *changes: Edit | Swap) -> ModuleType:
    """A fresh copy of the ``reference`` package with ``changes`` made.

    The copy is the package ``reference_edited_for_<name>`` (dots in ``name`` become ``_``).

    Raises :class:`EditError` if there are no changes, or one does not apply: a snippet that
    does not occur exactly once, a file that is not part of the package, a swapped name that
    is not a function of its module.
    """
    if not changes:
        raise EditError(f"{name}: no edits, so this would be the reference itself")
    prefix = "reference_edited_for_" + name.replace(".", "_")  # a top-level module name
    loaders: dict[str, _Loader] = {}
    for change in changes:
        if not (REFERENCE_DIR / change.file).is_file():
            raise EditError(f"{name}: reference/{change.file} does not exist")
        loader = loaders.setdefault(change.file, _Loader(REFERENCE_DIR / change.file, name, [], []))
        (loader.edits if isinstance(change, Edit) else loader.swaps).append(change)
    # A module built twice (re-imported) gets a fresh copy.
    for key in [k for k in sys.modules if k == prefix or k.startswith(prefix + ".")]:
        del sys.modules[key]
    sys.meta_path[:] = [f for f in sys.meta_path if getattr(f, "prefix", None) != prefix]
    sys.meta_path.insert(0, _Finder(prefix, name, loaders))
    package = importlib.import_module(prefix)
    unused = sorted(f for f, loader in loaders.items() if not loader.loaded)
    if unused:
        raise EditError(f"{name}: reference/{unused[0]} is not part of the implementation")
    package.__changes__ = changes
    return package


def implementation(name: str, *changes: Edit | Swap) -> dict[str, object]:
    """The public functions of :func:`edited_reference` ``(name, *changes)``, and ``CHANGES``.

    A broken module exports them with ``globals().update(implementation(__name__, ...))``.
    """
    package = edited_reference(name, *changes)
    api: dict[str, object] = {n: getattr(package, n) for n in reference.__all__}
    api["CHANGES"] = changes
    return api
