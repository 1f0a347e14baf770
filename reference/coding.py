"""Box coding: offsets of a box relative to an anchor, and back.

The check-free cores :func:`encode` (of ``offset_boxes``) and :func:`decode` (of
``offset_inverse``) hold the arithmetic; :func:`check_anchor_extent` is the
check both codings need. ``multibox_target`` and ``multibox_detection`` use them.
"""

from __future__ import annotations

import numpy as np

from . import _validate as v
from .boxes import center_to_corner, corner_to_center


def check_anchor_extent(anchors: np.ndarray, name: str) -> None:
    """Box coding divides by the anchor's width and height: both must be > 0."""
    for col_lo, col_hi, what in ((0, 2, "width"), (1, 3, "height")):
        zero = anchors[:, col_hi] - anchors[:, col_lo] <= 0
        if zero.any():
            i = int(np.argmax(zero))
            raise ValueError(f"{name}: zero {what} in row {i} (box coding divides by it)")


def encode(anchors: np.ndarray, assigned_bb: np.ndarray, eps: float) -> np.ndarray:
    """Check-free core of :func:`offset_boxes`: ``(A, 4), (A, 4) -> (A, 4)``."""
    c_anc = corner_to_center(anchors)
    c_bb = corner_to_center(assigned_bb)
    offset_xy = 10 * (c_bb[:, :2] - c_anc[:, :2]) / c_anc[:, 2:]
    offset_wh = 5 * np.log(eps + c_bb[:, 2:] / c_anc[:, 2:])
    return np.concatenate([offset_xy, offset_wh], axis=1)


def offset_boxes(anchors, assigned_bb, eps: float = 1e-6) -> np.ndarray:
    """Offsets of each box from its anchor: ``(A, 4), (A, 4) -> (A, 4)``.

    With both in center form ``(cx, cy, w, h)``::

        (10 (cx_b - cx_a) / w_a, 10 (cy_b - cy_a) / h_a,
         5 log(eps + w_b / w_a), 5 log(eps + h_b / h_a))

    ``eps`` keeps a zero-width box finite (``5 log(eps)``). Anchors must have
    positive width and height (the coding divides by them); boxes may be
    degenerate. Raises ``ValueError`` otherwise.
    """
    a = v.boxes(anchors, "anchors")
    b = v.boxes(assigned_bb, "assigned_bb")
    v.same_length(a, "anchors", b, "assigned_bb")
    check_anchor_extent(a, "anchors")
    return encode(a, b, v.nonnegative(eps, "eps"))


def decode(anchors: np.ndarray, offset_preds: np.ndarray) -> np.ndarray:
    """Check-free core of :func:`offset_inverse`: ``(A, 4), (A, 4) -> (A, 4)`` corners."""
    anc = corner_to_center(anchors)
    pred_xy = offset_preds[:, :2] * anc[:, 2:] / 10 + anc[:, :2]
    pred_wh = np.exp(offset_preds[:, 2:] / 5) * anc[:, 2:]
    return center_to_corner(np.concatenate([pred_xy, pred_wh], axis=1))


def offset_inverse(anchors, offset_preds) -> np.ndarray:
    """Boxes predicted from anchors and offsets: ``(A, 4), (A, 4) -> (A, 4)`` corners.

    ``cx = o_x w_a / 10 + cx_a``, ``cy = o_y h_a / 10 + cy_a``,
    ``w = exp(o_w / 5) w_a``, ``h = exp(o_h / 5) h_a``. The inverse of
    :func:`offset_boxes` up to ``eps * w_a`` in width (``eps * h_a`` in height)
    and rounding. Raises ``ValueError`` for invalid anchors, non-finite offsets,
    mismatched lengths, or offsets so large that the decoded box overflows.
    """
    a = v.boxes(anchors, "anchors")
    o = v.as_array(offset_preds, "offset_preds", ndim=2, last=4)
    v.check_finite(o, "offset_preds")
    v.same_length(a, "anchors", o, "offset_preds")
    with np.errstate(over="ignore"):
        out = decode(a, o)
    if not np.isfinite(out).all():
        raise ValueError("offset_preds: too large, the decoded boxes overflow")
    return out
