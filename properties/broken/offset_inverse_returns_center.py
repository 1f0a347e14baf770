"""offset_inverse returns the decoded boxes in centre form, not corner form.

Bug: the final ``box_center_to_corner`` is missing, so ``(cx, cy, w, h)``
comes back where ``(x1, y1, x2, y2)`` is expected. Decoders that keep boxes in
centre form internally (SSD's ``decode`` does the conversion as a separate
last step) lose it easily.
"""

from __future__ import annotations

from properties.broken._mutate import Edit, implementation

CAUGHT_BY: list[str] = [
    "test_offsets.py::test_round_trip_recovers_boxes_up_to_eps",
    "test_offsets.py::test_offset_inverse_matches_reference",
    "test_offsets.py::test_anchor_codes_itself_and_zero_decodes_to_anchor",
]

BUG = Edit(
    "coding.py",
    "return center_to_corner(np.concatenate([pred_xy, pred_wh], axis=1))",
    "return np.concatenate([pred_xy, pred_wh], axis=1)",
)
globals().update(implementation(__name__, BUG))
