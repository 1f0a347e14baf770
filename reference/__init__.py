"""The NumPy reference: the executable form of the anchor-box contract.

Plain NumPy, float64, written to be read. Every public function validates its
arguments and raises ``ValueError`` naming the argument and the problem.
The independent oracles (shapely IoU, torchvision NMS) live in
:mod:`reference.oracles` and share no code with this package.
"""

from .anchors import multibox_prior
from .batched_nms import batched_nms, batched_nms_padded
from .box_coder import BoxCoder
from .boxes import box_center_to_corner, box_corner_to_center, box_iou
from .clipping import clip_boxes_to_image, remove_small_boxes, remove_small_boxes_keep_mask
from .coding import offset_boxes, offset_inverse
from .convert import box_convert
from .iou_losses import (
    complete_box_iou,
    complete_box_iou_loss,
    complete_box_iou_loss_grad,
    distance_box_iou,
    distance_box_iou_loss,
    distance_box_iou_loss_grad,
    generalized_box_iou,
    generalized_box_iou_loss,
    generalized_box_iou_loss_grad,
)
from .matcher import Matcher
from .matching import assign_anchor_to_bbox, multibox_target
from .nms import multibox_detection, nms

__all__ = [
    "BoxCoder",
    "Matcher",
    "assign_anchor_to_bbox",
    "batched_nms",
    "batched_nms_padded",
    "box_center_to_corner",
    "box_convert",
    "box_corner_to_center",
    "box_iou",
    "clip_boxes_to_image",
    "complete_box_iou",
    "complete_box_iou_loss",
    "complete_box_iou_loss_grad",
    "distance_box_iou",
    "distance_box_iou_loss",
    "distance_box_iou_loss_grad",
    "generalized_box_iou",
    "generalized_box_iou_loss",
    "generalized_box_iou_loss_grad",
    "multibox_detection",
    "multibox_prior",
    "multibox_target",
    "nms",
    "offset_boxes",
    "offset_inverse",
    "remove_small_boxes",
    "remove_small_boxes_keep_mask",
]
