"""offset_boxes drops the ``eps`` inside the log: ``5 log(w_b / w_a)``.

Bug: a zero-width (or zero-height) assigned box gives ``log(0) = -inf``
instead of the finite ``5 log(eps)``, and every other offset is off by the
missing ``eps``. PITFALLS "Box coding and anchors": amdegroot/ssd.pytorch
PR #116, pytorch/vision #2144.
"""

from __future__ import annotations

import numpy as np

from reference import *  # noqa: F403 -- every other function is the reference's
from reference import _validate as v
from reference.boxes import _corner_to_center
from reference.coding import _check_anchor_extent

CAUGHT_BY: list[str] = [
    "test_offsets.py::test_zero_width_boxes_give_finite_offsets",
    "test_offsets.py::test_offset_boxes_matches_reference",
    "test_offsets.py::test_round_trip_recovers_boxes_up_to_eps",
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
    offset_xy = 10 * (c_bb[:, :2] - c_anc[:, :2]) / c_anc[:, 2:]
    with np.errstate(divide="ignore"):
        offset_wh = 5 * np.log(c_bb[:, 2:] / c_anc[:, 2:])  # BUG: eps is accepted but unused
    return np.concatenate([offset_xy, offset_wh], axis=1)
