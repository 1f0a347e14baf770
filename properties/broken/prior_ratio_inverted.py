"""multibox_prior inverts the aspect ratio (height / width instead of width / height).

Bug: width ``s / sqrt(r) * H / W`` and height ``s * sqrt(r)``: a ratio-2
anchor comes out tall instead of wide. Conventions differ between codebases
(SSD's ``ar`` is w/h, some Faster R-CNN ports use h/w), so copying a formula
across them flips every non-square anchor.
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
    shapes = [(s, ratios[0]) for s in sizes] + [(sizes[0], r) for r in ratios[1:]]
    # BUG: sqrt(r) divides the width and multiplies the height (ratio read as h / w).
    half = [(s / math.sqrt(r) * height / width / 2, s * math.sqrt(r) / 2) for s, r in shapes]
    cy, cx = np.meshgrid(
        (np.arange(height) + 0.5) / height, (np.arange(width) + 0.5) / width, indexing="ij"
    )
    anchors = np.empty((height, width, len(shapes), 4))
    for k, (hw, hh) in enumerate(half):
        anchors[:, :, k] = np.stack([cx - hw, cy - hh, cx + hw, cy + hh], -1)
    return anchors.reshape(1, -1, 4)
