"""multibox_detection marks low-confidence rows as background but does not flip their confidence.

Bug: a row with ``conf < pos_threshold`` gets ``class_id = -1`` but keeps
``conf`` instead of ``1 - conf`` (the chapter's "confidence of being
background"). Half of a two-line step, dropped.
"""

from __future__ import annotations

from properties.broken._mutate import Edit, implementation

CAUGHT_BY: list[str] = [
    "test_multibox_detection.py::test_multibox_detection_flips_confidence_below_pos_threshold",
    "test_multibox_detection.py::test_multibox_detection_rows_are_a_permutation_of_decoded_anchors",
    "test_multibox_detection.py::test_multibox_detection_matches_reference",
]

BUG = Edit("nms.py", "        rows[below, 1] = 1 - rows[below, 1]\n", "")
globals().update(implementation(__name__, BUG))
