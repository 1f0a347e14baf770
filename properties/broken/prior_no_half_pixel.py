"""multibox_prior centres anchors on the pixel's corner, not its centre.

Bug: pixel ``(i, j)`` gets centre ``(j / W, i / H)`` instead of
``((j + 0.5) / W, (i + 0.5) / H)``: the ``+ 0.5`` offset is missing, so every
anchor is shifted half a pixel up and left. The classic off-by-half in anchor
generators (d2l writes ``offset_h, offset_w = 0.5, 0.5`` precisely to avoid it).
"""

from __future__ import annotations

import math

import numpy as np

from reference import *  # noqa: F403 -- every other function is the reference's
from reference import _validate as v

CAUGHT_BY: list[str] = [
    "test_multibox_prior.py::test_multibox_prior_anchor_index_and_pixel_centres",
    "test_multibox_prior.py::test_multibox_prior_matches_reference",
]


def multibox_prior(data, sizes, ratios):
    shape = np.shape(data)
    if len(shape) < 2:
        raise ValueError(f"data: needs at least 2 dimensions (..., H, W), got shape {shape}")
    sizes = v.positive_list(sizes, "sizes")
    ratios = v.positive_list(ratios, "ratios")
    height, width = shape[-2], shape[-1]
    shapes = [(s, ratios[0]) for s in sizes] + [(sizes[0], r) for r in ratios[1:]]
    half = [(s * math.sqrt(r) * height / width / 2, s / math.sqrt(r) / 2) for s, r in shapes]
    # BUG: no + 0.5, the centre of pixel (i, j) is put at its top-left corner.
    cy, cx = np.meshgrid(np.arange(height) / height, np.arange(width) / width, indexing="ij")
    anchors = np.empty((height, width, len(shapes), 4))
    for k, (hw, hh) in enumerate(half):
        anchors[:, :, k] = np.stack([cx - hw, cy - hh, cx + hw, cy + hh], -1)
    return anchors.reshape(1, -1, 4)
