"""remove_small_boxes keeps only boxes whose sides are strictly larger than min_size.

Bug: ``>`` for ``>=``, as torchvision's own docstring says it ("indices of the boxes that
have both sides larger than min_size") while its code keeps ``>=``: a box exactly
``min_size`` wide is dropped, and ``min_size = 0`` drops every degenerate box. The contract
follows the code (CONTRACT.md §3.6).
"""

from __future__ import annotations

import numpy as np

import reference
from reference import *  # noqa: F403 -- every other function is the reference's

CAUGHT_BY: list[str] = [
    "test_clipping.py::test_remove_small_boxes_matches_reference_and_known_values",
    "test_clipping.py::test_remove_small_boxes_keep_mask_is_membership",
]


def remove_small_boxes_keep_mask(boxes, min_size):
    reference.remove_small_boxes_keep_mask(boxes, min_size)  # the validation
    b = np.asarray(boxes, dtype=np.float64)
    return (b[..., 2] - b[..., 0] > min_size) & (b[..., 3] - b[..., 1] > min_size)  # BUG: >


def remove_small_boxes(boxes, min_size):
    reference.remove_small_boxes(boxes, min_size)  # the validation
    return np.flatnonzero(remove_small_boxes_keep_mask(boxes, min_size)).astype(np.int64)
