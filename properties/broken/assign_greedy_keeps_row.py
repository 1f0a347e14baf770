"""assign_anchor_to_bbox's greedy step discards the ground truth's column but not the anchor's row.

Bug: after a round assigns anchor ``a`` to ground truth ``g``, only column
``g`` is removed; anchor ``a`` stays available, so a later round can take it
again for another ground truth, overwriting the earlier assignment and
leaving that ground truth with no anchor. Forgetting one of the two discards
is an easy slip when porting d2l's ``jaccard[:, box_idx] = col_discard;
jaccard[anc_idx, :] = row_discard``.
"""

from __future__ import annotations

from properties.broken._mutate import Edit, implementation

CAUGHT_BY: list[str] = [
    "test_assign.py::test_assign_every_ground_truth_owns_an_anchor",
    "test_assign.py::test_assign_matches_reference_on_lattice",
]

BUG = Edit("matching.py", "remaining[a, :] = -np.inf\n        remaining[:, g]", "remaining[:, g]")
globals().update(implementation(__name__, BUG))
