"""multibox_prior walks the pixels column by column.

Bug: ``np.meshgrid`` with its default ``indexing="xy"`` on (columns, rows)
and a reshape in the wrong order give anchor index ``(j * H + i) * (n+m-1) + k``
instead of ``(i * W + j) * (n+m-1) + k``: the anchors are all there, but
pixel (0, 1)'s anchors sit where pixel (1, 0)'s belong. The meshgrid
``indexing`` mix-up is a perennial NumPy / PyTorch porting bug.
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
    # BUG: the grid is (W, H), so the flattening below runs down the columns.
    cx, cy = np.meshgrid(
        (np.arange(width) + 0.5) / width, (np.arange(height) + 0.5) / height, indexing="ij"
    )
    anchors = np.empty((width, height, len(shapes), 4))
    for k, (hw, hh) in enumerate(half):
        anchors[:, :, k] = np.stack([cx - hw, cy - hh, cx + hw, cy + hh], -1)
    return anchors.reshape(1, -1, 4)
