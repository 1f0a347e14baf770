"""Which conventions a test read, for the conformance table's "why" (CONTRACT.md §7): the
``conventions`` fixture (:class:`Reading`) notes the keys of :mod:`properties.conventions` that a
test reads, directly or through the reference under them."""

from __future__ import annotations

from types import ModuleType
from typing import Any

from .conventions import IOU_KEYS, KEYS, NMS_KEYS, Conventions
from .formats import BOXES, ROUNDING_FORMATS, as_received

_READ: set[str] | None = None


def start_reading() -> None:
    """Record, until :func:`stop_reading`, which keys the running test reads."""
    global _READ
    _READ = set()


def stop_reading() -> list[str]:
    """The keys read since :func:`start_reading`, in the order of :data:`KEYS`."""
    global _READ
    read, _READ = _READ or set(), None
    return [k for k in KEYS if k in read]


def _note(*keys: str) -> None:
    if _READ is not None:
        _READ.update(keys)


# What each function of the reference computes under: the IoU's keys, and NMS's.
_REFERENCE_READS = {
    "box_iou": IOU_KEYS,
    "assign_anchor_to_bbox": IOU_KEYS,
    "multibox_target": IOU_KEYS,
    "nms": IOU_KEYS + NMS_KEYS,
    "multibox_detection": IOU_KEYS + NMS_KEYS,
}


class Reading:
    """The ``conventions`` fixture: a :class:`Conventions` that notes which keys a test reads
    (directly, or through :attr:`reference`), so that the conformance table can say which
    convention a departure from the contract comes from."""

    def __init__(self, conventions: Conventions):
        self._conventions = conventions

    def __getattr__(self, name: str) -> Any:
        if name in KEYS:
            _note(name)
        elif name in ("rules",):
            _note(*IOU_KEYS, *NMS_KEYS)
        elif name in ("union_eps", "exact_on_lattice"):
            _note("empty_union")
        elif name == "reference":
            return _ReadingReference(self._conventions.reference, self._conventions.box_format)
        return getattr(self._conventions, name)

    def received(self, function: str, *args: Any) -> tuple:
        """``args`` of ``function`` as the implementation receives them (see
        :class:`_ReadingReference`), box arguments back in ``xyxy`` in float64."""
        if self._conventions.box_format not in ROUNDING_FORMATS:
            return args
        return as_received(function, args, {}, self._conventions.box_format)[0]

    def __repr__(self) -> str:
        return f"Reading({self._conventions!r})"


class _ReadingReference:
    """The reference under the conventions, on the boxes as the implementation received them.

    A box format whose conversion rounds (``xywh``, ``cxcywh`` off the lattice: the inputs are
    handed over in their own float32) gives the implementation boxes a rounding away from the
    test's: expected values are computed on those (exactly the test's boxes on the lattice).
    """

    def __init__(self, module: ModuleType, fmt: str):
        self._module, self._fmt = module, fmt

    def __getattr__(self, name: str) -> Any:
        _note(*_REFERENCE_READS.get(name, ()))
        f = getattr(self._module, name)
        if self._fmt not in ROUNDING_FORMATS or name not in BOXES:
            return f

        def on_received(*args: Any, **kwargs: Any) -> Any:
            args, kwargs = as_received(name, args, kwargs, self._fmt)
            return f(*args, **kwargs)

        return on_received
