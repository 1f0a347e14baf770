"""offset_inverse returns the decoded boxes in centre form, not corner form.

Bug: the final ``box_center_to_corner`` is missing, so ``(cx, cy, w, h)``
comes back where ``(x1, y1, x2, y2)`` is expected. Decoders that keep boxes in
centre form internally (SSD's ``decode`` does the conversion as a separate
last step) lose it easily.
"""

from __future__ import annotations

import numpy as np

from reference import *  # noqa: F403 -- every other function is the reference's
from reference import _validate as v
from reference.boxes import _corner_to_center

CAUGHT_BY: list[str] = [
    "test_offsets.py::test_round_trip_recovers_boxes_up_to_eps",
    "test_offsets.py::test_offset_inverse_matches_reference",
    "test_offsets.py::test_anchor_codes_itself_and_zero_decodes_to_anchor",
]


def offset_inverse(anchors, offset_preds):
    a = v.boxes(anchors, "anchors")
    o = v.as_array(offset_preds, "offset_preds", ndim=2, last=4)
    v.check_finite(o, "offset_preds")
    v.same_length(a, "anchors", o, "offset_preds")
    anc = _corner_to_center(a)
    pred_xy = o[:, :2] * anc[:, 2:] / 10 + anc[:, :2]
    with np.errstate(over="ignore"):
        pred_wh = np.exp(o[:, 2:] / 5) * anc[:, 2:]
    out = np.concatenate([pred_xy, pred_wh], axis=1)  # BUG: never converted to corners
    if not np.isfinite(out).all():
        raise ValueError("offset_preds: too large, the decoded boxes overflow")
    return out
