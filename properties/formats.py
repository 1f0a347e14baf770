"""Box formats at the boundary (CONTRACT.md §7, ``box_format``): which arguments and results of
each function hold boxes, and their conversion from ``xyxy`` to a declared format and back
(exact on the lattice, CONTRACT.md §5). Used by :mod:`properties.conventions` and the plugin."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

# Which arguments and results of each function hold boxes: ``(position, name, kind)`` of each
# box argument, then the result's kind. Kinds: "corner" (boxes in the box format, last axis 4),
# "center" (the center form, last axis 4), "labels" (last axis 5: class, then a box),
# "detections" (last axis 6: class, score, then a box); None: no boxes.
BOXES: dict[str, tuple[tuple[tuple[int, str, str], ...], str | None]] = {
    "box_corner_to_center": (((0, "boxes", "corner"),), "center"),
    "box_center_to_corner": (((0, "boxes", "center"),), "corner"),
    "multibox_prior": ((), "corner"),
    "box_iou": (((0, "boxes1", "corner"), (1, "boxes2", "corner")), None),
    "assign_anchor_to_bbox": (((0, "ground_truth", "corner"), (1, "anchors", "corner")), None),
    "offset_boxes": (((0, "anchors", "corner"), (1, "assigned_bb", "corner")), None),
    "offset_inverse": (((0, "anchors", "corner"),), "corner"),
    "multibox_target": (((0, "anchors", "corner"), (1, "labels", "labels")), None),
    "nms": (((0, "boxes", "corner"),), None),
    "nms_padded": (((0, "boxes", "corner"),), None),
    "nms_keep_mask": (((0, "boxes", "corner"),), None),
    "multibox_detection": (((2, "anchors", "corner"),), "detections"),
}
_COLUMNS = {"corner": 0, "center": 0, "labels": 1, "detections": 2}


def _namespace(x: Any) -> Any:
    """NumPy for NumPy arrays and lists, ``jax.numpy`` for JAX arrays and tracers."""
    if type(x).__module__.startswith(("jax", "jaxlib")):
        import jax.numpy as jnp

        return jnp
    return np


def _corner_from_xyxy(b: Any, fmt: str, xp: Any) -> Any:
    x1, y1, x2, y2 = b[..., 0], b[..., 1], b[..., 2], b[..., 3]
    if fmt == "yxyx":
        return xp.stack([y1, x1, y2, x2], axis=-1)
    if fmt == "xywh":
        return xp.stack([x1, y1, x2 - x1, y2 - y1], axis=-1)
    return xp.stack([(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1], axis=-1)  # cxcywh


def _corner_to_xyxy(b: Any, fmt: str, xp: Any) -> Any:
    a0, a1, a2, a3 = b[..., 0], b[..., 1], b[..., 2], b[..., 3]
    if fmt == "yxyx":
        return xp.stack([a1, a0, a3, a2], axis=-1)
    if fmt == "xywh":
        return xp.stack([a0, a1, a0 + a2, a1 + a3], axis=-1)
    return xp.stack([a0 - a2 / 2, a1 - a3 / 2, a0 + a2 / 2, a1 + a3 / 2], axis=-1)  # cxcywh


def _center_swap(b: Any, fmt: str, xp: Any) -> Any:
    """``(cx, cy, w, h)`` <-> the format's center form: ``(cy, cx, h, w)`` under ``yxyx``."""
    if fmt != "yxyx":
        return b
    return xp.stack([b[..., 1], b[..., 0], b[..., 3], b[..., 2]], axis=-1)


def convert(
    value: Any, kind: str | None, fmt: str, to_format: bool, keep_dtype: bool = True
) -> Any:
    """``value`` (an argument or result of ``kind``) from ``xyxy`` to ``fmt`` (``to_format``)
    or back. NumPy input is converted in float64 and returned in its own dtype (exact on the
    lattice), or in float64 unless ``keep_dtype``; JAX arrays and tracers in their dtype, so
    that jitted forms still trace."""
    if fmt == "xyxy" or kind is None or value is None:
        return value
    xp = _namespace(value)
    arr = np.asarray(value) if xp is np else value
    if xp is np and (arr.dtype.kind != "f" or arr.ndim == 0 or arr.shape[-1] < 4):
        return value  # not boxes: leave a wrong argument for the implementation to reject
    dtype = arr.dtype
    work = arr.astype(np.float64) if xp is np else arr
    first = _COLUMNS[kind]
    boxes = work[..., first : first + 4]
    if kind == "center":
        converted = _center_swap(boxes, fmt, xp)
    elif to_format:
        converted = _corner_from_xyxy(boxes, fmt, xp)
    else:
        converted = _corner_to_xyxy(boxes, fmt, xp)
    if first or work.shape[-1] > first + 4:
        converted = xp.concatenate([work[..., :first], converted, work[..., first + 4 :]], -1)
    return converted.astype(dtype) if xp is np and keep_dtype else converted


def convert_arguments(
    function: str, args: tuple, kwargs: dict, fmt: str, to_format: bool, keep_dtype: bool = True
):
    """``(args, kwargs)`` of a call of ``function`` with its box arguments converted."""
    params, _ = BOXES.get(function, ((), None))
    args, kwargs = list(args), dict(kwargs)
    with np.errstate(invalid="ignore", over="ignore"):  # padding rows may hold anything
        for position, name, kind in params:
            if position < len(args):
                args[position] = convert(args[position], kind, fmt, to_format, keep_dtype)
            elif name in kwargs:
                kwargs[name] = convert(kwargs[name], kind, fmt, to_format, keep_dtype)
    return tuple(args), kwargs


def convert_result(function: str, result: Any, fmt: str, to_format: bool) -> Any:
    _, kind = BOXES.get(function, ((), None))
    with np.errstate(invalid="ignore", over="ignore"):
        return convert(result, kind, fmt, to_format)


def in_format(
    function: str, f: Callable, fmt: str, to_format: bool, keep_dtype: bool = True
) -> Callable:
    """``f`` called with box arguments converted (``xyxy`` to ``fmt`` when ``to_format``, in
    their dtype unless not ``keep_dtype``) and its box result converted back; ``f`` itself when
    nothing needs converting."""
    if fmt == "xyxy" or function not in BOXES:
        return f

    def converted(*args: Any, **kwargs: Any) -> Any:
        args, kwargs = convert_arguments(function, args, kwargs, fmt, to_format, keep_dtype)
        return convert_result(function, f(*args, **kwargs), fmt, not to_format)

    converted.__name__ = getattr(f, "__name__", function)
    converted.__doc__ = getattr(f, "__doc__", None)
    converted.__wrapped__ = f
    return converted


# Box formats whose conversion from xyxy rounds off the lattice.
ROUNDING_FORMATS = ("xywh", "cxcywh")


def as_received(function: str, args: tuple, kwargs: dict, fmt: str) -> tuple[tuple, dict]:
    """The box arguments of a call as an implementation declaring ``fmt`` receives them
    (converted to ``fmt`` in their dtype), back in ``xyxy`` in float64."""
    args, kwargs = convert_arguments(function, args, kwargs, fmt, True)
    return convert_arguments(function, args, kwargs, fmt, False, keep_dtype=False)
