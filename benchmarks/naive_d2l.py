"""The baseline our speed-ups are quoted against: the d2l "Anchor Boxes" chapter, ported to JAX.

This is what a reader of the chapter writes when moving its PyTorch code to JAX,
keeping the chapter's structure:

- ``box_iou`` and ``multibox_prior``: the chapter's tensor code, jitted;
- ``assign_anchor_to_bbox``: a jitted ``lax.fori_loop`` that, each greedy round,
  takes a flat ``argmax`` over the whole ``(A, G)`` IoU matrix and rewrites the
  whole matrix, filling the removed row and column with -1 (O(min(A, G) * A * G));
- ``multibox_target``: a Python loop over the images of the batch, each image one
  call of a jitted per-image function (assignment + box coding);
- ``nms``: the chapter's host-side ``while`` loop over the sorted indices, in NumPy
  (one IoU row and one gather per kept box: O(N * kept));
- ``multibox_detection``: a Python loop over images; per image a jitted decode
  (class argmax, ``offset_inverse``), a transfer to the host, the NumPy NMS and the
  reordering, and one transfer of the stacked result back to the device;
- ``multibox_target_jit``: the chapter's whole ``multibox_target`` (its loop over the
  images included) under one ``jax.jit``, as a JAX user would write it (the benchmarks'
  ``d2l-jit`` contender; ``box_iou`` and ``multibox_prior`` are jitted whole already).

It follows the contract (``CONTRACT.md``, §8), not the chapter, wherever the two
differ, so that it computes the same thing as ``jaximpl`` and the reference: IoU 0
where the union is 0, NMS ties broken by the lower index (stable sort), ``min(A, G)``
greedy rounds, padding label rows (``class < 0``) ignored, and an integer (not true)
division to turn the flat argmax into a row (the chapter's ``max_idx / G`` is wrong
once ``A * G > 2^24`` in float32). ``benchmarks/test_naive_d2l.py`` checks it against
``reference``.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax


def box_corner_to_center(boxes):
    x1, y1, x2, y2 = boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3]
    return jnp.stack(((x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1), axis=-1)


def box_center_to_corner(boxes):
    cx, cy, w, h = boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3]
    return jnp.stack((cx - 0.5 * w, cy - 0.5 * h, cx + 0.5 * w, cy + 0.5 * h), axis=-1)


def _box_iou(boxes1, boxes2):
    """The chapter's ``box_iou`` (``(N, 1, 2)`` against ``(M, 2)``), 0 on an empty union."""

    def box_area(boxes):
        return (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])

    areas1, areas2 = box_area(boxes1), box_area(boxes2)
    inter_upperlefts = jnp.maximum(boxes1[:, None, :2], boxes2[:, :2])
    inter_lowerrights = jnp.minimum(boxes1[:, None, 2:], boxes2[:, 2:])
    inters = jnp.clip(inter_lowerrights - inter_upperlefts, 0)
    inter_areas = inters[:, :, 0] * inters[:, :, 1]
    union_areas = areas1[:, None] + areas2 - inter_areas
    return jnp.where(union_areas > 0, inter_areas / jnp.where(union_areas > 0, union_areas, 1), 0)


box_iou = jax.jit(_box_iou)


@partial(jax.jit, static_argnums=(0, 1))
def _multibox_prior(in_height, in_width, sizes, ratios):
    num_sizes, num_ratios = sizes.shape[0], ratios.shape[0]
    boxes_per_pixel = num_sizes + num_ratios - 1
    offset_h, offset_w = 0.5, 0.5
    steps_h, steps_w = 1.0 / in_height, 1.0 / in_width
    center_h = (jnp.arange(in_height) + offset_h) * steps_h
    center_w = (jnp.arange(in_width) + offset_w) * steps_w
    shift_y, shift_x = jnp.meshgrid(center_h, center_w, indexing="ij")
    shift_y, shift_x = shift_y.reshape(-1), shift_x.reshape(-1)
    w = (
        jnp.concatenate((sizes * jnp.sqrt(ratios[0]), sizes[0] * jnp.sqrt(ratios[1:])))
        * in_height
        / in_width
    )
    h = jnp.concatenate((sizes / jnp.sqrt(ratios[0]), sizes[0] / jnp.sqrt(ratios[1:])))
    anchor_manipulations = jnp.tile(jnp.stack((-w, -h, w, h)).T, (in_height * in_width, 1)) / 2
    out_grid = jnp.repeat(
        jnp.stack([shift_x, shift_y, shift_x, shift_y], axis=1), boxes_per_pixel, axis=0
    )
    return (out_grid + anchor_manipulations)[None]


def multibox_prior(data, sizes, ratios):
    in_height, in_width = data.shape[-2:]
    return _multibox_prior(
        int(in_height),
        int(in_width),
        jnp.asarray(sizes, jnp.float32),
        jnp.asarray(ratios, jnp.float32),
    )


def _assign_anchor_to_bbox(ground_truth, valid, anchors, iou_threshold=0.5):
    """The chapter's assignment; ``valid`` marks the real (non-padding) ground-truth rows."""
    num_anchors, num_gt_boxes = anchors.shape[0], ground_truth.shape[0]
    if num_gt_boxes == 0:  # the chapter's torch.max fails on an empty axis; contract: all -1
        return jnp.full(num_anchors, -1, jnp.int32)
    jaccard = _box_iou(anchors, ground_truth)
    jaccard = jnp.where(valid[None, :], jaccard, -1.0)  # padding columns never win
    max_ious = jnp.max(jaccard, axis=1)
    indices = jnp.argmax(jaccard, axis=1)
    anchors_bbox_map = jnp.where(max_ious >= iou_threshold, indices, -1).astype(jnp.int32)
    rows = jnp.arange(num_anchors)[:, None]
    cols = jnp.arange(num_gt_boxes)[None, :]

    def one_round(_, state):
        jaccard, anchors_bbox_map = state
        max_idx = jnp.argmax(jaccard)  # flat, row-major: first maximum on ties
        box_idx = (max_idx % num_gt_boxes).astype(jnp.int32)
        anc_idx = max_idx // num_gt_boxes
        anchors_bbox_map = anchors_bbox_map.at[anc_idx].set(box_idx)
        jaccard = jnp.where((rows == anc_idx) | (cols == box_idx), -1.0, jaccard)
        return jaccard, anchors_bbox_map

    num_rounds = jnp.minimum(num_anchors, jnp.sum(valid))
    _, anchors_bbox_map = lax.fori_loop(0, num_rounds, one_round, (jaccard, anchors_bbox_map))
    return anchors_bbox_map


@partial(jax.jit, static_argnames=("iou_threshold",))
def assign_anchor_to_bbox(ground_truth, anchors, device=None, iou_threshold=0.5):
    valid = jnp.ones(ground_truth.shape[0], bool)
    return _assign_anchor_to_bbox(ground_truth, valid, anchors, iou_threshold)


def offset_boxes(anchors, assigned_bb, eps=1e-6):
    c_anc = box_corner_to_center(anchors)
    c_assigned_bb = box_corner_to_center(assigned_bb)
    offset_xy = 10 * (c_assigned_bb[:, :2] - c_anc[:, :2]) / c_anc[:, 2:]
    offset_wh = 5 * jnp.log(eps + c_assigned_bb[:, 2:] / c_anc[:, 2:])
    return jnp.concatenate([offset_xy, offset_wh], axis=1)


def offset_inverse(anchors, offset_preds):
    anc = box_corner_to_center(anchors)
    pred_bbox_xy = (offset_preds[:, :2] * anc[:, 2:] / 10) + anc[:, :2]
    pred_bbox_wh = jnp.exp(offset_preds[:, 2:] / 5) * anc[:, 2:]
    return box_center_to_corner(jnp.concatenate((pred_bbox_xy, pred_bbox_wh), axis=1))


@jax.jit
def _target_one_image(anchors, label):
    valid = label[:, 0] >= 0
    anchors_bbox_map = _assign_anchor_to_bbox(label[:, 1:], valid, anchors)
    assigned = anchors_bbox_map >= 0
    bbox_mask = jnp.repeat(assigned.astype(jnp.float32)[:, None], 4, axis=1)
    bb_idx = jnp.maximum(anchors_bbox_map, 0)
    if label.shape[0] == 0:  # no rows to gather from: one all-background row
        label = jnp.zeros((1, 5), label.dtype)
    class_labels = jnp.where(assigned, label[bb_idx, 0].astype(jnp.int32) + 1, 0)
    assigned_bb = jnp.where(assigned[:, None], label[bb_idx, 1:], 0.0)
    offset = offset_boxes(anchors, assigned_bb) * bbox_mask
    return offset.reshape(-1), bbox_mask.reshape(-1), class_labels


def multibox_target(anchors, labels):
    """Python loop over the images; one jitted call (fori_loop assignment) per image."""
    batch_size, anchors = labels.shape[0], anchors[0]
    batch_offset, batch_mask, batch_class_labels = [], [], []
    for i in range(batch_size):
        offset, mask, class_labels = _target_one_image(anchors, labels[i])
        batch_offset.append(offset)
        batch_mask.append(mask)
        batch_class_labels.append(class_labels)
    return jnp.stack(batch_offset), jnp.stack(batch_mask), jnp.stack(batch_class_labels)


# The chapter's whole multibox_target, its Python loop over the images included, under one
# jax.jit: what a JAX user writes (the loop is unrolled into one XLA program).
multibox_target_jit = jax.jit(multibox_target)


def _np_box_iou(boxes1, boxes2):
    def area(b):
        return (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])

    lt = np.maximum(boxes1[:, None, :2], boxes2[:, :2])
    rb = np.minimum(boxes1[:, None, 2:], boxes2[:, 2:])
    wh = np.clip(rb - lt, 0, None)
    inter = wh[:, :, 0] * wh[:, :, 1]
    union = area(boxes1)[:, None] + area(boxes2) - inter
    out = np.zeros_like(inter)
    np.divide(inter, union, out=out, where=union > 0)
    return out


def nms(boxes, scores, iou_threshold):
    """The chapter's host-side NMS loop, in NumPy (stable sort: ties to the lower index)."""
    boxes, scores = np.asarray(boxes), np.asarray(scores)
    B = np.argsort(-scores, kind="stable")
    keep = []
    while B.size > 0:
        i = B[0]
        keep.append(i)
        if B.size == 1:
            break
        iou = _np_box_iou(boxes[i, :].reshape(-1, 4), boxes[B[1:], :].reshape(-1, 4)).reshape(-1)
        inds = np.nonzero(iou <= iou_threshold)[0]
        B = B[inds + 1]
    return np.asarray(keep, dtype=np.int64)


@jax.jit
def _decode_one_image(cls_prob, offset_pred, anchors):
    conf = jnp.max(cls_prob[1:], axis=0)
    class_id = jnp.argmax(cls_prob[1:], axis=0)
    predicted_bb = offset_inverse(anchors, offset_pred.reshape(-1, 4))
    return conf, class_id, predicted_bb


def multibox_detection(
    cls_probs, offset_preds, anchors, nms_threshold=0.5, pos_threshold=0.009999999
):
    """Python loop over images, host NMS per image, the result sent back to the device."""
    batch_size = cls_probs.shape[0]
    anchors = anchors[0]
    num_anchors = cls_probs.shape[2]
    out = []
    for i in range(batch_size):
        conf, class_id, predicted_bb = _decode_one_image(cls_probs[i], offset_preds[i], anchors)
        conf, predicted_bb = np.asarray(conf), np.asarray(predicted_bb)
        class_id = np.array(class_id)
        keep = nms(predicted_bb, conf, nms_threshold)
        kept = np.zeros(num_anchors, dtype=bool)
        kept[keep] = True
        non_keep = np.flatnonzero(~kept)
        all_id_sorted = np.concatenate((keep, non_keep))
        class_id[non_keep] = -1
        class_id = class_id[all_id_sorted]
        conf, predicted_bb = conf[all_id_sorted], predicted_bb[all_id_sorted]
        below_min_idx = conf < pos_threshold
        class_id[below_min_idx] = -1
        conf[below_min_idx] = 1 - conf[below_min_idx]
        out.append(
            np.concatenate(
                (class_id[:, None].astype(np.float32), conf[:, None], predicted_bb), axis=1
            )
        )
    return jnp.asarray(np.stack(out))
