"""The rules where libraries differ on purpose, as the check-free cores take them.

Every core that computes an IoU or runs NMS (:func:`reference.boxes.iou`,
:func:`reference.nms.greedy_nms`, :func:`reference.matching.assign`) takes a :class:`Rules`
whose defaults, :data:`CONTRACT`, are this project's contract; the public functions always use
those. The suite's ``properties.conventions`` builds a copy of the reference whose cores follow
another library's rules (CONTRACT.md §7).
"""

from __future__ import annotations

from typing import NamedTuple

TIE_ORDERS = ("lowest", "highest", "any")


class Rules(NamedTuple):
    """How IoU and NMS decide. The defaults are the contract's (CONTRACT.md §2.3, §2.8)."""

    # The IoU of two boxes whose union is 0 (both of zero area): 0 (the contract) or NaN (0/0,
    # as torchvision and the d2l chapter compute it).
    nan_for_empty_union: bool = False
    # Added to every union before the division (Keras adds 1e-7): no union is then 0, and a box
    # of positive area has an IoU below 1 with itself.
    union_eps: float = 0.0
    # Added to every width and height (legacy pixel boxes, whose x2 is the last pixel's index:
    # a box from pixel 0 to pixel 0 is 1 wide). 0 in the contract, 1 in old mmdetection.
    pixel_offset: float = 0.0
    # NMS suppresses a box whose IoU with a kept box is >= the threshold (True), or only > it.
    suppress_at_threshold: bool = False
    # The order NMS visits equal scores in: "lowest" index first (the contract), "highest"
    # first, or "any" (unspecified; here an arbitrary but fixed order, see greedy_nms).
    ties: str = "lowest"


CONTRACT = Rules()
