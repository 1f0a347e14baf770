"""The NumPy reference: the executable form of the anchor-box contract.

Plain NumPy, float64, written to be read. Every public function validates its
arguments and raises ``ValueError`` naming the argument and the problem.
The independent oracles (shapely IoU, torchvision NMS) live in
:mod:`reference.oracles` and share no code with this package.
"""

from .anchors import multibox_prior
from .boxes import box_center_to_corner, box_corner_to_center, box_iou
from .coding import offset_boxes, offset_inverse
from .matching import assign_anchor_to_bbox, multibox_target
from .nms import multibox_detection, nms

__all__ = [
    "assign_anchor_to_bbox",
    "box_center_to_corner",
    "box_corner_to_center",
    "box_iou",
    "multibox_detection",
    "multibox_prior",
    "multibox_target",
    "nms",
    "offset_boxes",
    "offset_inverse",
]
