"""nms sorts the scores with an unstable sort (``np.argsort(-scores)``).

Bug: NumPy's default ``quicksort`` (an introsort, vectorised on recent CPUs) is
not stable: among equal scores the visiting order is whatever the partitioning
leaves, not ascending index (in practice once there are more than 16 boxes).
PITFALLS "NMS": ties are implementation-defined elsewhere; torchvision's CPU
and CUDA kernels disagree (pytorch/vision #2157, PR #2159); d2l's PyTorch
edition uses the unstable ``torch.argsort(scores, descending=True)``.
"""

from __future__ import annotations

import numpy as np

from reference import *  # noqa: F403 -- every other function is the reference's
from reference import _validate as v
from reference.boxes import _iou

CAUGHT_BY: list[str] = [
    "test_nms.py::test_nms_score_ties_go_to_lower_index",
    "test_nms.py::test_nms_matches_reference_many_boxes",
]


def nms(boxes, scores, iou_threshold):
    b = v.boxes(boxes, "boxes")
    s = v.as_array(scores, "scores", ndim=1)
    v.check_finite(s, "scores")
    v.same_length(b, "boxes", s, "scores")
    t = v.threshold(iou_threshold, "iou_threshold")
    order = np.argsort(-s)  # BUG: not a stable sort; equal scores come in any order
    keep: list[int] = []
    suppressed = np.zeros(len(s), dtype=bool)
    for i in order:
        if suppressed[i]:
            continue
        keep.append(int(i))
        suppressed |= _iou(b[i : i + 1], b)[0] > t
    return np.asarray(keep, dtype=np.int64)
