"""The JAX implementation of the anchor-box contract.

Every operation of the contract under its d2l name, returning JAX arrays
(float32 unless float64 is given with x64 enabled):

- :func:`box_corner_to_center`, :func:`box_center_to_corner`, :func:`box_iou`,
  :func:`multibox_prior`, :func:`offset_boxes`, :func:`offset_inverse`;
- :func:`assign_anchor_to_bbox`, :func:`multibox_target` (whole batch, padded
  labels with ``class < 0`` ignored);
- :func:`nms` (eager, variable length), :func:`nms_padded` (static shape,
  ``max_output_size`` static), :func:`nms_keep_mask` (static shape),
  :func:`multibox_detection` (whole batch).

The public functions validate concrete arguments (``ValueError`` naming the
argument) and skip value checks on tracers, so ``jax.jit(f)`` works on all of
them except :func:`nms` and :func:`batched_nms` (variable length) and, for ``nms_padded``, with
``max_output_size`` marked static. Integer and float arrays are read as
numbers; bool, complex, object and string arrays, and scalar arguments that
are bools, complex numbers or strings, are rejected (jitted too: dtypes are
static). Zero-length axes give empty results. Each docstring says what the jitted form
returns for invalid input. :func:`nms_padded_jit` is the check-free jitted core.

The detector operations of CONTRACT.md §3 (torchvision's names): :func:`box_convert`,
:class:`BoxCoder`, :class:`Matcher`, :func:`generalized_box_iou`, :func:`distance_box_iou`,
:func:`complete_box_iou` and their ``*_loss`` functions (differentiable with ``jax.grad``),
:func:`clip_boxes_to_image`, :func:`remove_small_boxes` (eager) and its static twin
:func:`remove_small_boxes_keep_mask`, :func:`batched_nms` (class-aware NMS, eager) and its
static twin :func:`batched_nms_padded` (a batch of images, jittable).

:data:`COMPILER_OPTIONS` are the XLA options the NMS and detection entry points
compile with on CPU; pass them to your own top-level ``jax.jit`` around those
(``jax.jit(step, compiler_options=jaximpl.COMPILER_OPTIONS)``) for the same speed.
"""

from ._compile import COMPILER_OPTIONS
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
    distance_box_iou,
    distance_box_iou_loss,
    generalized_box_iou,
    generalized_box_iou_loss,
)
from .matcher import Matcher
from .matching import assign_anchor_to_bbox, multibox_target
from .nms import multibox_detection, nms, nms_keep_mask, nms_padded, nms_padded_jit

__all__ = [
    "COMPILER_OPTIONS",
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
    "distance_box_iou",
    "distance_box_iou_loss",
    "generalized_box_iou",
    "generalized_box_iou_loss",
    "multibox_detection",
    "multibox_prior",
    "multibox_target",
    "nms",
    "nms_keep_mask",
    "nms_padded",
    "nms_padded_jit",
    "offset_boxes",
    "offset_inverse",
    "remove_small_boxes",
    "remove_small_boxes_keep_mask",
]
