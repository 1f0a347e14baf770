"""Anchor generation: ``multibox_prior``."""

from __future__ import annotations

import math

import numpy as np

from . import _validate as v


def multibox_prior(data, sizes, ratios) -> np.ndarray:
    """Anchor boxes centred on every pixel of a feature map.

    Args:
        data: any array whose last two dimensions are the map's height ``H``
            and width ``W`` (only its shape is used).
        sizes: ``n`` positive scales ``s`` (fractions of the image height).
        ratios: ``m`` positive aspect ratios ``r`` (width / height, in pixels).

    Returns:
        ``(1, H * W * (n + m - 1), 4)`` corner boxes, float64, normalised to the
        image. Pixel ``(i, j)`` is centred at ``((j + 0.5) / W, (i + 0.5) / H)``
        and carries, in this order, the shapes ``(sizes[k], ratios[0])`` for
        ``k = 0..n-1`` then ``(sizes[0], ratios[r])`` for ``r = 1..m-1``; anchor
        index ``= (i * W + j) * (n + m - 1) + k``. A shape ``(s, r)`` has
        normalised width ``s * sqrt(r) * H / W`` and height ``s / sqrt(r)``: in
        pixels its aspect ratio is exactly ``r`` and its geometric-mean side is
        ``s * H``. Nothing is clipped to the image.
    """
    shape = np.shape(data)
    if len(shape) < 2:
        raise ValueError(f"data: needs at least 2 dimensions (..., H, W), got shape {shape}")
    sizes = v.positive_list(sizes, "sizes")
    ratios = v.positive_list(ratios, "ratios")
    height, width = shape[-2], shape[-1]
    if height == 0 or width == 0:  # no pixels, no anchors (and no H / W to take)
        return np.zeros((1, 0, 4))

    # The n + m - 1 shapes every pixel carries, in the contract's order.
    shapes = [(s, ratios[0]) for s in sizes] + [(sizes[0], r) for r in ratios[1:]]
    half_sizes = [(s * math.sqrt(r) * height / width / 2, s / math.sqrt(r) / 2) for s, r in shapes]

    # Pixel centres, shape (H, W): row i, column j -> ((j + 0.5) / W, (i + 0.5) / H).
    cy, cx = np.meshgrid(
        (np.arange(height) + 0.5) / height, (np.arange(width) + 0.5) / width, indexing="ij"
    )
    anchors = np.empty((height, width, len(shapes), 4), dtype=np.float64)
    for k, (half_w, half_h) in enumerate(half_sizes):
        anchors[:, :, k] = np.stack([cx - half_w, cy - half_h, cx + half_w, cy + half_h], -1)
    return anchors.reshape(1, -1, 4)
