"""``box_convert``: boxes between the four usual formats (CONTRACT.md §3.1).

- ``xyxy``: ``(x1, y1, x2, y2)``, the corners (the contract's own form, §1.1);
- ``xywh``: ``(x1, y1, w, h)``, the top-left corner and the size (COCO's form);
- ``cxcywh``: ``(cx, cy, w, h)``, the centre and the size (§2.1's center form);
- ``yxyx``: ``(y1, x1, y2, x2)``, the corners with y first (TensorFlow's form).

Every conversion goes through ``xyxy``: ``in_fmt -> xyxy -> out_fmt``, with the formulas
below (torchvision's for the first three formats). Everything here is float64.
"""

from __future__ import annotations

import numpy as np

from . import _validate as v

FORMATS = ("xyxy", "xywh", "cxcywh", "yxyx")


def _to_xyxy(b: np.ndarray, fmt: str) -> np.ndarray:
    """``(..., 4)`` boxes in ``fmt`` -> corners ``(x1, y1, x2, y2)``."""
    p, q, r, s = b[..., 0], b[..., 1], b[..., 2], b[..., 3]
    if fmt == "xyxy":
        corners = (p, q, r, s)
    elif fmt == "xywh":  # (x1, y1, w, h)
        corners = (p, q, p + r, q + s)
    elif fmt == "cxcywh":  # (cx, cy, w, h): half the size on either side of the centre
        corners = (p - r / 2, q - s / 2, p + r / 2, q + s / 2)
    else:  # yxyx: (y1, x1, y2, x2)
        corners = (q, p, s, r)
    return np.stack(corners, axis=-1)


def _from_xyxy(b: np.ndarray, fmt: str) -> np.ndarray:
    """Corners ``(..., 4)`` -> boxes in ``fmt``."""
    x1, y1, x2, y2 = b[..., 0], b[..., 1], b[..., 2], b[..., 3]
    if fmt == "xyxy":
        out = (x1, y1, x2, y2)
    elif fmt == "xywh":
        out = (x1, y1, x2 - x1, y2 - y1)
    elif fmt == "cxcywh":
        out = ((x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1)
    else:  # yxyx
        out = (y1, x1, y2, x2)
    return np.stack(out, axis=-1)


def check_format(fmt, name: str) -> str:
    """One of :data:`FORMATS` (a ``ValueError`` naming ``name`` otherwise)."""
    if not isinstance(fmt, str) or fmt not in FORMATS:
        raise ValueError(f"{name}: must be one of {', '.join(map(repr, FORMATS))}, got {fmt!r}")
    return fmt


def check_boxes_in(b: np.ndarray, fmt: str, name: str) -> None:
    """Finite, and a valid box in ``fmt``: ordered corners, or a size ``>= 0``."""
    b = np.atleast_2d(b)  # a single (4,) box is row 0
    if fmt == "xyxy":
        v.check_corner_boxes(b, name)
        return
    if fmt == "yxyx":
        v.check_corner_boxes(b[..., [1, 0, 3, 2]], name)
        return
    v.check_finite(b, name, "coordinates")
    for col, what in ((2, "width"), (3, "height")):
        bad = b[..., col] < 0
        if bad.any():
            row = tuple(int(i) for i in np.argwhere(bad)[0])
            where = row if len(row) > 1 else row[0]
            raise ValueError(f"{name}: negative {what} in row {where} ({b[row][col]})")


def box_convert(boxes, in_fmt: str, out_fmt: str) -> np.ndarray:
    """Boxes from ``in_fmt`` to ``out_fmt``: ``(..., 4) -> (..., 4)`` float64.

    Formats: ``"xyxy"`` ``(x1, y1, x2, y2)``, ``"xywh"`` ``(x1, y1, w, h)``, ``"cxcywh"``
    ``(cx, cy, w, h)``, ``"yxyx"`` ``(y1, x1, y2, x2)``. The conversion is
    ``in_fmt -> xyxy -> out_fmt`` with ``x2 = x1 + w``, ``x1 = cx - w / 2``,
    ``x2 = cx + w / 2`` one way and ``w = x2 - x1``, ``cx = (x1 + x2) / 2`` the other (and
    the same in y); ``in_fmt == out_fmt`` returns a float64 copy. Any number of leading
    dimensions, zero boxes included.

    Raises ``ValueError`` for an unknown format, a last dimension other than 4, non-finite
    values, and boxes that are not valid in ``in_fmt`` (``x2 < x1`` or ``y2 < y1`` in the
    corner formats, a negative width or height in the others).
    """
    in_fmt = check_format(in_fmt, "in_fmt")
    out_fmt = check_format(out_fmt, "out_fmt")
    b = v.as_array(boxes, "boxes", last=4)
    check_boxes_in(b, in_fmt, "boxes")
    if in_fmt == out_fmt:
        return b.copy()
    return _from_xyxy(_to_xyxy(b, in_fmt), out_fmt)
