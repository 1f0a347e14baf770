"""multibox_detection reports class ids shifted by one (the background row counted).

Bug: ``class_id`` is the argmax over ``cls_probs[1:]`` plus 1, i.e. the row
index in ``cls_probs`` rather than the object class (``multibox_target``'s
``class + 1`` convention leaking into the decoder). The chapter prints
class 0 for the dog: this prints 1.
"""

from __future__ import annotations

from properties.broken._mutate import Edit, implementation

CAUGHT_BY: list[str] = [
    "test_multibox_detection.py::test_multibox_detection_class_id_is_first_argmax_on_ties",
    "test_multibox_detection.py::test_multibox_detection_rows_are_a_permutation_of_decoded_anchors",
    "test_multibox_detection.py::test_multibox_detection_matches_reference",
]

BUG = Edit(
    "nms.py",
    "class_id = probs[b, 1:].argmax(axis=0).astype(np.float64)",
    "class_id = probs[b, 1:].argmax(axis=0).astype(np.float64) + 1",
)
globals().update(implementation(__name__, BUG))
