"""nms sorts the scores with an unstable sort (``np.argsort(-scores)``).

Bug: NumPy's default ``quicksort`` (an introsort, vectorised on recent CPUs) is
not stable: among equal scores the visiting order is whatever the partitioning
leaves, not ascending index (in practice once there are more than 16 boxes).
PITFALLS.md, NMS: ties are implementation-defined elsewhere; torchvision's CPU
and CUDA kernels disagree (pytorch/vision #2157, PR #2159); d2l's PyTorch
edition uses the unstable ``torch.argsort(scores, descending=True)``.
"""

from __future__ import annotations

from properties.broken._mutate import Edit, implementation

CAUGHT_BY: list[str] = [
    "test_nms.py::test_nms_score_ties_go_to_lower_index",
    "test_nms.py::test_nms_matches_reference_many_boxes",
]

BUG = Edit(
    "nms.py",
    "order = sorted(range(len(scores)), key=lambda i: -scores[i])",
    "order = np.argsort(-scores)",
)
globals().update(implementation(__name__, BUG))
