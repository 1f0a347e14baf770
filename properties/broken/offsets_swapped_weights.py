"""offset_boxes swaps the coding weights: 5 for the centre, 10 for the size.

Bug: ``(5 dx / w_a, 5 dy / h_a, 10 log(..), 10 log(..))`` instead of
``(10 dx / w_a, 10 dy / h_a, 5 log(..), 5 log(..))``. The weights are the
inverse of SSD's variances (0.1, 0.2); mixing up which variance goes with which
pair of coordinates is an easy, silent mistake.
"""

from __future__ import annotations

import numpy as np

from reference import *  # noqa: F403 -- every other function is the reference's
from reference import _validate as v
from reference.boxes import _corner_to_center
from reference.coding import _check_anchor_extent

CAUGHT_BY: list[str] = [
    "test_offsets.py::test_offset_boxes_matches_reference",
    "test_offsets.py::test_round_trip_recovers_boxes_up_to_eps",
    "test_offsets.py::test_anchor_codes_itself_and_zero_decodes_to_anchor",
]


def offset_boxes(anchors, assigned_bb, eps=1e-6):
    a = v.boxes(anchors, "anchors")
    b = v.boxes(assigned_bb, "assigned_bb")
    v.same_length(a, "anchors", b, "assigned_bb")
    _check_anchor_extent(a, "anchors")
    eps_arr = np.asarray(eps, dtype=np.float64)
    if eps_arr.ndim != 0 or not np.isfinite(eps_arr) or eps_arr < 0:
        raise ValueError(f"eps: must be a finite number >= 0, got {eps!r}")
    c_anc, c_bb = _corner_to_center(a), _corner_to_center(b)
    # BUG: the weights 10 and 5 are swapped.
    offset_xy = 5 * (c_bb[:, :2] - c_anc[:, :2]) / c_anc[:, 2:]
    offset_wh = 10 * np.log(float(eps_arr) + c_bb[:, 2:] / c_anc[:, 2:])
    return np.concatenate([offset_xy, offset_wh], axis=1)
