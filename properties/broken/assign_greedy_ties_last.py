"""assign_anchor_to_bbox's greedy step breaks ties by the *last* maximum.

Bug: each greedy round takes the last entry equal to the maximum in row-major
order (``argmax`` of the reversed, flattened matrix) instead of the first.
PITFALLS.md, Matching: "last wins" in old d2l code (discussion t/1603, fixed in
d2l-en PR #1630); the contract pins ties to the lowest index.
"""

from __future__ import annotations

from properties.broken._mutate import Edit, implementation

CAUGHT_BY: list[str] = [
    "test_assign.py::test_assign_ties_go_to_lowest_index",
    "test_assign.py::test_assign_matches_reference_on_lattice",
]

BUG = Edit(
    "matching.py",
    "np.argmax(remaining)",
    "remaining.size - 1 - np.argmax(remaining[::-1, ::-1])",
)
globals().update(implementation(__name__, BUG))
