"""offset_boxes drops the ``eps`` inside the log: ``5 log(w_b / w_a)``.

Bug: a zero-width (or zero-height) assigned box gives ``log(0) = -inf``
instead of the finite ``5 log(eps)``, and every other offset is off by the
missing ``eps``. PITFALLS.md, Box coding and anchors: amdegroot/ssd.pytorch
PR #116, pytorch/vision #2144.
"""

from __future__ import annotations

from properties.broken._mutate import Edit, implementation

CAUGHT_BY: list[str] = [
    "test_offsets.py::test_zero_width_boxes_give_finite_offsets",
    "test_offsets.py::test_offset_boxes_matches_reference",
    "test_offsets.py::test_round_trip_recovers_boxes_up_to_eps",
]

BUG = Edit(
    "coding.py",
    "np.log(eps + c_bb[:, 2:] / c_anc[:, 2:])",
    "np.log(c_bb[:, 2:] / c_anc[:, 2:])",
)
globals().update(implementation(__name__, BUG))
