"""offset_boxes swaps the coding weights: 5 for the centre, 10 for the size.

Bug: ``(5 dx / w_a, 5 dy / h_a, 10 log(..), 10 log(..))`` instead of
``(10 dx / w_a, 10 dy / h_a, 5 log(..), 5 log(..))``. The weights are the
inverse of SSD's variances (0.1, 0.2); mixing up which variance goes with which
pair of coordinates is an easy, silent mistake.
"""

from __future__ import annotations

from properties.broken._mutate import Edit, implementation

CAUGHT_BY: list[str] = [
    "test_offsets.py::test_offset_boxes_matches_reference",
    "test_offsets.py::test_round_trip_recovers_boxes_up_to_eps",
    "test_offsets.py::test_anchor_codes_itself_and_zero_decodes_to_anchor",
]

BUGS = (
    Edit("coding.py", "offset_xy = 10 *", "offset_xy = 5 *"),
    Edit("coding.py", "offset_wh = 5 *", "offset_wh = 10 *"),
)
globals().update(implementation(__name__, *BUGS))
