"""multibox_target does not multiply the offsets by the mask.

Bug: as in d2l, unassigned anchors get the all-zero box as their "assigned
box" and ``offset_boxes`` is computed for every anchor, but the final
``* bbox_mask`` is dropped: background anchors carry large offsets towards the
origin (``5 log(eps)`` in size) instead of exact zeros.
"""

from __future__ import annotations

from properties.broken._mutate import Edit, implementation

CAUGHT_BY: list[str] = [
    "test_multibox_target.py::test_multibox_target_offsets_zero_where_unmasked",
    "test_multibox_target.py::test_multibox_target_matches_reference",
]

BUG = Edit(
    "matching.py",
    "offsets[b, hit] = encode(anc[hit], matched[:, 1:], 1e-6)",
    "assigned_bb = np.zeros((num_anchors, 4))  # unassigned anchors: the zero box\n"
    "        assigned_bb[hit] = matched[:, 1:]\n"
    "        offsets[b] = encode(anc, assigned_bb, 1e-6)  # never multiplied by the mask",
)
globals().update(implementation(__name__, BUG))
