"""multibox_prior lists each pixel's anchor shapes in the wrong order.

Bug: the shapes come as ``(sizes[0], ratios[r])`` for every ratio first, then
``(sizes[k], ratios[0])`` for ``k = 1..n-1``: the same set of boxes, in a
different order, so anchor ``k`` of a pixel is not the one a trained head
expects. Ports that build the shape list "ratios, then sizes" ship this.
"""

from __future__ import annotations

import math

import numpy as np

from reference import *  # noqa: F403 -- every other function is the reference's
from reference import _validate as v

CAUGHT_BY: list[str] = [
    "test_multibox_prior.py::test_multibox_prior_shapes_in_contract_order",
    "test_multibox_prior.py::test_multibox_prior_matches_reference",
]


def multibox_prior(data, sizes, ratios):
    shape = np.shape(data)
    if len(shape) < 2:
        raise ValueError(f"data: needs at least 2 dimensions (..., H, W), got shape {shape}")
    sizes = v.positive_list(sizes, "sizes")
    ratios = v.positive_list(ratios, "ratios")
    height, width = shape[-2], shape[-1]
    # BUG: ratios before sizes.
    shapes = [(sizes[0], r) for r in ratios] + [(s, ratios[0]) for s in sizes[1:]]
    half = [(s * math.sqrt(r) * height / width / 2, s / math.sqrt(r) / 2) for s, r in shapes]
    cy, cx = np.meshgrid(
        (np.arange(height) + 0.5) / height, (np.arange(width) + 0.5) / width, indexing="ij"
    )
    anchors = np.empty((height, width, len(shapes), 4))
    for k, (hw, hh) in enumerate(half):
        anchors[:, :, k] = np.stack([cx - hw, cy - hh, cx + hw, cy + hh], -1)
    return anchors.reshape(1, -1, 4)
