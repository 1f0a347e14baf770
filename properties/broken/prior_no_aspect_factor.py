"""multibox_prior forgets the ``H / W`` factor in the anchor width.

Bug: normalised width ``s * sqrt(r)`` instead of ``s * sqrt(r) * H / W``. On a
non-square feature map the anchors' pixel aspect ratio is then ``r * W / H``,
not ``r``. PITFALLS "Box coding and anchors": d2l-en PR #442, d2l-zh PR #1190
and #1357 argued over exactly this factor; early d2l code had it wrong.
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
    # BUG: the width lacks * height / width.
    half = [(s * math.sqrt(r) / 2, s / math.sqrt(r) / 2) for s, r in shapes]
    cy, cx = np.meshgrid(
        (np.arange(height) + 0.5) / height, (np.arange(width) + 0.5) / width, indexing="ij"
    )
    anchors = np.empty((height, width, len(shapes), 4))
    for k, (hw, hh) in enumerate(half):
        anchors[:, :, k] = np.stack([cx - hw, cy - hh, cx + hw, cy + hh], -1)
    return anchors.reshape(1, -1, 4)
