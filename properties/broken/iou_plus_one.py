"""box_iou uses the "+1 pixel" convention: width ``x2 - x1 + 1``.

Bug: areas and overlaps add 1 to every side, the integer-pixel convention of
py-faster-rcnn's ``bbox_overlaps`` and Detectron's legacy mode. On normalised
coordinates it is simply wrong: a 0.1 x 0.1 box gets area 1.21.
"""

from __future__ import annotations

from properties.broken._mutate import Edit, implementation

CAUGHT_BY: list[str] = [
    "test_box_iou.py::test_box_iou_is_zero_for_disjoint_and_touching_boxes",
    "test_box_iou.py::test_box_iou_is_scale_invariant",
    "test_box_iou.py::test_box_iou_matches_reference_on_lattice",
]

BUGS = (
    Edit(
        "boxes.py",
        "np.clip(right - left, 0, None) * np.clip(bottom - top, 0, None)",
        "np.clip(right - left + 1, 0, None) * np.clip(bottom - top + 1, 0, None)",
    ),
    Edit(
        "boxes.py",
        "(b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])",
        "(b[..., 2] - b[..., 0] + 1) * (b[..., 3] - b[..., 1] + 1)",
    ),
)
globals().update(implementation(__name__, *BUGS))
