"""multibox_detection lists the suppressed anchors by descending score, not by index.

Bug: after the kept anchors, the rest come in score order (the NMS visiting
order with the kept ones removed) instead of ascending anchor index. d2l
builds the rest with ``unique`` over ``cat(keep, arange)``, which sorts them
by index; a port that reuses the sorted order ships this.
"""

from __future__ import annotations

from properties.broken._mutate import Edit, implementation

CAUGHT_BY: list[str] = [
    "test_multibox_detection.py::test_multibox_detection_suppressed_rows_follow_by_anchor_index",
]

BUG = Edit(
    "nms.py",
    "rest = np.flatnonzero(~kept)",
    "rest = np.asarray(sorted(np.flatnonzero(~kept), key=lambda i: -conf[i]), np.int64)",
)
globals().update(implementation(__name__, BUG))
