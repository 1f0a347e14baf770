"""nms hard-codes 0.5 in its self-suppression step, so chains go wrong below 0.5.

Bug: a NumPy port of the tiled JAX NMS forked from mlperf into
google-research/scenic (``scenic/projects/baselines/centernet/modeling/nms.py``,
``_self_suppression``) for a single tile. The pairwise IoU matrix is masked
to ``IoU > iou_threshold``, then iterated: a box "can suppress others" when
its largest masked IoU with a higher-ranked box is ``<= 0.5``, the literal
0.5, where it should be ``== 0`` (not suppressed at all). Above 0.5 the two
agree; below it a box that was itself suppressed still suppresses the next
one in a chain (A suppresses B, B overlaps C, A does not overlap C: C is lost).
PITFALLS.md, NMS (chains).
"""

from __future__ import annotations

import numpy as np

from properties.broken._mutate import Swap, implementation
from reference.boxes import iou

CAUGHT_BY: list[str] = [
    "test_nms.py::test_nms_suppression_chains_keep_every_other_box",
    "test_nms.py::test_nms_every_suppressed_box_has_an_earlier_kept_box_over_threshold",
    "test_nms.py::test_nms_matches_reference_on_lattice",
]


def self_suppression_nms(boxes, scores, iou_threshold):
    """scenic's single-tile self-suppression, with its literal 0.5."""
    order = np.asarray(sorted(range(len(scores)), key=lambda i: -scores[i]), dtype=np.int64)
    n = len(order)
    if n == 0:
        return order
    ranked = boxes[order]
    pairs = iou(ranked, ranked)
    upper = np.arange(n)[None, :] > np.arange(n)[:, None]  # row i ranks above column j
    pairs = pairs * (upper & (pairs > iou_threshold))
    while True:  # iterate to a fixed point, as scenic's while_loop does
        can_suppress = pairs.max(axis=0) <= 0.5  # BUG: the literal 0.5, should be == 0
        unsuppressed = (can_suppress[:, None] * pairs).max(axis=0) <= 0.5
        new_pairs = unsuppressed[:, None] * pairs  # suppressed boxes lose their row
        if np.array_equal(new_pairs, pairs):
            break
        pairs = new_pairs
    suppressed = pairs.sum(axis=0) > 0
    return order[~suppressed]


globals().update(implementation(__name__, Swap("nms.py", "greedy_nms", self_suppression_nms)))
