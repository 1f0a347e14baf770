"""offset_inverse decodes the size with ``exp(o / 10)`` instead of ``exp(o / 5)``.

Bug: the decoder uses the centre's weight (10) for the size as well, so it is
no longer the inverse of ``offset_boxes``: a box coded as ``5 log 2`` decodes
to width ``sqrt(2) w_a``. Encoder and decoder written apart, with the weights
copied from the wrong line.
"""

from __future__ import annotations

import numpy as np

from reference import *  # noqa: F403 -- every other function is the reference's
from reference import _validate as v
from reference.boxes import _center_to_corner, _corner_to_center

CAUGHT_BY: list[str] = [
    "test_offsets.py::test_round_trip_recovers_boxes_up_to_eps",
    "test_offsets.py::test_offset_inverse_matches_reference",
]


def offset_inverse(anchors, offset_preds):
    a = v.boxes(anchors, "anchors")
    o = v.as_array(offset_preds, "offset_preds", ndim=2, last=4)
    v.check_finite(o, "offset_preds")
    v.same_length(a, "anchors", o, "offset_preds")
    anc = _corner_to_center(a)
    pred_xy = o[:, :2] * anc[:, 2:] / 10 + anc[:, :2]
    with np.errstate(over="ignore"):
        pred_wh = np.exp(o[:, 2:] / 10) * anc[:, 2:]  # BUG: should be / 5
        out = _center_to_corner(np.concatenate([pred_xy, pred_wh], axis=1))
    if not np.isfinite(out).all():
        raise ValueError("offset_preds: too large, the decoded boxes overflow")
    return out
