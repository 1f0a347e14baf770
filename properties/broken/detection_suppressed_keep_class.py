"""multibox_detection keeps the class id of suppressed anchors.

Bug: the anchors NMS suppressed are appended after the kept ones but keep
their ``class_id`` instead of getting -1, so a consumer that filters on
``class_id >= 0`` sees every suppressed duplicate as a detection. The
``class_id[non_keep] = -1`` line of d2l, lost.
"""

from __future__ import annotations

from properties.broken._mutate import Edit, implementation

CAUGHT_BY: list[str] = [
    "test_multibox_detection.py::test_multibox_detection_kept_rows_first_in_descending_conf_order",
    "test_multibox_detection.py::test_multibox_detection_kept_set_is_nms_of_decoded_boxes",
    "test_multibox_detection.py::test_multibox_detection_matches_reference",
]

BUG = Edit("nms.py", "        class_id[rest] = -1\n", "")
globals().update(implementation(__name__, BUG))
