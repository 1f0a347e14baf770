"""offset_inverse decodes the size with ``exp(o / 10)`` instead of ``exp(o / 5)``.

Bug: the decoder uses the centre's weight (10) for the size as well, so it is
no longer the inverse of ``offset_boxes``: a box coded as ``5 log 2`` decodes
to width ``sqrt(2) w_a``. Encoder and decoder written apart, with the weights
copied from the wrong line.
"""

from __future__ import annotations

from properties.broken._mutate import Edit, implementation

CAUGHT_BY: list[str] = [
    "test_offsets.py::test_round_trip_recovers_boxes_up_to_eps",
    "test_offsets.py::test_offset_inverse_matches_reference",
]

BUG = Edit("coding.py", "np.exp(offset_preds[:, 2:] / 5)", "np.exp(offset_preds[:, 2:] / 10)")
globals().update(implementation(__name__, BUG))
