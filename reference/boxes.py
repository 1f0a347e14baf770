"""Box conversions and IoU.

A box is ``(x1, y1, x2, y2)`` in corner form or ``(cx, cy, w, h)`` in center
form. Everything here is float64.

Each public function checks its arguments, then calls a check-free core that
holds the arithmetic: :func:`corner_to_center`, :func:`center_to_corner`,
:func:`area` and :func:`iou`. The other modules of the reference call these
cores on arrays they have already checked. :func:`iou` also computes other
libraries' IoU (:mod:`reference.rules`); the public functions never ask it to.
"""

from __future__ import annotations

import numpy as np

from . import _validate as v
from .rules import CONTRACT, Rules


def box_corner_to_center(boxes) -> np.ndarray:
    """``(N, 4)`` corner boxes -> ``(N, 4)`` center boxes ``(cx, cy, w, h)``.

    Raises ``ValueError`` for a wrong shape, non-finite coordinates or
    ``x2 < x1`` / ``y2 < y1``.
    """
    return corner_to_center(v.boxes(boxes, "boxes"))


def corner_to_center(b: np.ndarray) -> np.ndarray:
    """Check-free core of :func:`box_corner_to_center`: ``(N, 4) -> (N, 4)``."""
    x1, y1, x2, y2 = b[:, 0], b[:, 1], b[:, 2], b[:, 3]
    return np.stack([(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1], axis=-1)


def box_center_to_corner(boxes) -> np.ndarray:
    """``(N, 4)`` center boxes ``(cx, cy, w, h)`` -> ``(N, 4)`` corner boxes.

    Raises ``ValueError`` for a wrong shape, non-finite values or a negative
    width or height.
    """
    b = v.as_array(boxes, "boxes", ndim=2, last=4)
    v.check_finite(b, "boxes")
    for col, what in ((2, "width"), (3, "height")):
        if (b[:, col] < 0).any():
            i = int(np.argmax(b[:, col] < 0))
            raise ValueError(f"boxes: negative {what} in row {i} ({b[i, col]})")
    return center_to_corner(b)


def center_to_corner(b: np.ndarray) -> np.ndarray:
    """Check-free core of :func:`box_center_to_corner`: ``(N, 4) -> (N, 4)``."""
    cx, cy, w, h = b[:, 0], b[:, 1], b[:, 2], b[:, 3]
    return np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=-1)


def area(b: np.ndarray) -> np.ndarray:
    """Areas of corner boxes: ``(..., 4) -> (...)``."""
    return (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])


def iou(b1: np.ndarray, b2: np.ndarray, rules: Rules = CONTRACT) -> np.ndarray:
    """Check-free core of :func:`box_iou`: ``(N, 4), (M, 4) -> (N, M)``.

    ``rules`` are the contract's unless a caller asks for another library's (CONTRACT.md §7):
    ``+1`` pixel widths, an epsilon in the union, NaN for an empty union.
    """
    if rules.pixel_offset:
        # Legacy pixel boxes: x2 and y2 are the last pixel's index, so every box reaches one
        # pixel further. Widths and overlaps then both gain the offset, exactly as
        # ``x2 - x1 + 1`` and ``min(x2) - max(x1) + 1`` do in that code.
        grow = np.array([0.0, 0.0, rules.pixel_offset, rules.pixel_offset])
        b1, b2 = b1 + grow, b2 + grow
    # Intersection rectangle of every pair, by broadcasting (N, 1) against (1, M).
    left = np.maximum(b1[:, None, 0], b2[None, :, 0])
    top = np.maximum(b1[:, None, 1], b2[None, :, 1])
    right = np.minimum(b1[:, None, 2], b2[None, :, 2])
    bottom = np.minimum(b1[:, None, 3], b2[None, :, 3])
    inter = np.clip(right - left, 0, None) * np.clip(bottom - top, 0, None)
    union = area(b1)[:, None] + area(b2)[None, :] - inter
    if rules.union_eps:  # Keras: inter / (union + eps), so no union is 0
        union = union + rules.union_eps
    # Two boxes of zero area have union 0: their IoU is 0 (d2l gives NaN, 0/0, as the rules
    # nan_for_empty_union do).
    out = np.full_like(inter, np.nan if rules.nan_for_empty_union else 0.0)
    np.divide(inter, union, out=out, where=union > 0)
    return out


def box_iou(boxes1, boxes2) -> np.ndarray:
    """Intersection over union of every pair: ``(N, 4), (M, 4) -> (N, M)``.

    ``IoU = |A ∩ B| / |A ∪ B|``, and 0 where the union is empty (both boxes
    have zero area). Degenerate boxes (zero width or height) are valid and
    have IoU 0 with everything. Raises ``ValueError`` for invalid boxes.
    """
    b1 = v.boxes(boxes1, "boxes1")
    b2 = v.boxes(boxes2, "boxes2")
    return iou(b1, b2)
