"""``clip_boxes_to_image`` and ``remove_small_boxes`` (CONTRACT.md §3.6).

torchvision's post-processing helpers. Nothing else in the contract clips (§1.2: SSD keeps
anchors that stick out of the image on purpose); these clip or filter only when called.
"""

from __future__ import annotations

import numpy as np

from . import _validate as v


def _corner_boxes(boxes) -> np.ndarray:
    b = v.as_array(boxes, "boxes", last=4)
    v.check_corner_boxes(np.atleast_2d(b), "boxes")
    return b


def _size(size) -> tuple[float, float]:
    arr = v.as_array(size, "size")
    if arr.shape != (2,):
        raise ValueError(f"size: expected (height, width), got shape {arr.shape}")
    v.check_finite(arr, "size")
    if (arr < 0).any():
        raise ValueError(f"size: height and width must be >= 0, got {tuple(arr.tolist())}")
    return float(arr[0]), float(arr[1])


def _min_size(min_size) -> float:
    if isinstance(min_size, bool):
        raise ValueError(f"min_size: must be a finite number >= 0, got {min_size!r}")
    m = v.as_array(min_size, "min_size")
    if m.ndim != 0 or not np.isfinite(m) or m < 0:
        raise ValueError(f"min_size: must be a finite number >= 0, got {min_size!r}")
    return float(m)


def clip_boxes_to_image(boxes, size) -> np.ndarray:
    """Boxes clipped to an image: ``(..., 4), (height, width) -> (..., 4)`` float64.

    ``x1`` and ``x2`` are clipped to ``[0, width]``, ``y1`` and ``y2`` to ``[0, height]``
    (``size`` is torchvision's ``(height, width)``, in the boxes' units: ``(1, 1)`` for the
    contract's normalised coordinates). A box outside the image becomes a degenerate box on
    its border. Raises ``ValueError`` for invalid boxes and a ``size`` that is not two
    finite numbers ``>= 0``.
    """
    b = _corner_boxes(boxes)
    height, width = _size(size)
    out = b.copy()
    out[..., 0::2] = np.clip(b[..., 0::2], 0.0, width)
    out[..., 1::2] = np.clip(b[..., 1::2], 0.0, height)
    return out


def remove_small_boxes_keep_mask(boxes, min_size: float) -> np.ndarray:
    """``(..., 4) -> (...)`` bool: True where both the width and the height are ``>= min_size``.

    The static-shape twin of :func:`remove_small_boxes`. Errors as there.
    """
    b = _corner_boxes(boxes)
    m = _min_size(min_size)
    return (b[..., 2] - b[..., 0] >= m) & (b[..., 3] - b[..., 1] >= m)


def remove_small_boxes(boxes, min_size: float) -> np.ndarray:
    """Indices of the boxes to keep: ``(N, 4), min_size -> (K,)`` int64, ascending.

    A box is kept when its width and its height are both ``>= min_size`` (torchvision's
    code; so a box exactly ``min_size`` wide stays, and ``min_size = 0`` keeps every box).
    Raises ``ValueError`` for invalid boxes and a ``min_size`` that is not a finite number
    ``>= 0``.
    """
    b = v.as_array(boxes, "boxes", ndim=2, last=4)
    return np.flatnonzero(remove_small_boxes_keep_mask(b, min_size)).astype(np.int64)
