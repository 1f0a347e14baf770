"""The d2l "Anchor Boxes" chapter's own code, ported faithfully to NumPy.

``box_iou``, ``assign_anchor_to_bbox``, ``multibox_target``, ``nms`` and
``multibox_detection`` follow the chapter line by line (the MXNet edition's
``nms``, whose NumPy-style ``scores.argsort()[::-1]`` is the one NumPy can
reproduce; the PyTorch edition's ``torch.argsort(descending=True)`` is unstable
too, but in no order NumPy can imitate). The chapter's ``multibox_prior``,
``box_corner_to_center``, ``box_center_to_corner``, ``offset_boxes`` and
``offset_inverse`` compute what the contract says, so they are the
reference's. Two things are not the chapter's: every function checks its
arguments as the reference does (d2l checks nothing) and empty inputs do not
crash (``torch.max`` over zero ground truths raises), so that the suite's
failures are the chapter's *behaviour*, not missing validation. The chapter's
``box_iou``, ``assign_anchor_to_bbox`` and ``nms`` (``d2l_*`` here) are swapped
into a copy of the reference for its check-free cores (see
:mod:`properties.broken._mutate`), so the copy's public functions check their
arguments and then run the chapter's code.

The four deliberate departures of CONTRACT.md §8, each a bug here:

1. ``box_iou`` of two zero-area boxes is NaN (0/0), not 0;
2. ``nms`` visits equal scores highest index first (``argsort()[::-1]``), not
   lowest index first;
3. ``assign_anchor_to_bbox`` runs G greedy rounds, not min(A, G): when
   A < G, the extra rounds find an all -1 matrix and re-assign anchor 0 to
   ground truth 0;
4. ``multibox_target`` assigns over every label row, so padding rows
   (class -1) claim anchors.
"""

from __future__ import annotations

import numpy as np

import reference
from properties.broken._mutate import Swap, implementation
from reference.coding import encode

CAUGHT_BY = [
    "test_box_iou.py::test_box_iou_empty_union_is_zero",
    "test_nms.py::test_nms_score_ties_go_to_lower_index",
    "test_assign.py::test_assign_greedy_runs_min_a_g_rounds",
    "test_multibox_target.py::test_multibox_target_ignores_padding",
]


def d2l_box_iou(boxes1: np.ndarray, boxes2: np.ndarray) -> np.ndarray:
    def box_area(boxes):
        return (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])

    areas1, areas2 = box_area(boxes1), box_area(boxes2)
    inter_upperlefts = np.maximum(boxes1[:, None, :2], boxes2[:, :2])
    inter_lowerrights = np.minimum(boxes1[:, None, 2:], boxes2[:, 2:])
    inters = np.clip(inter_lowerrights - inter_upperlefts, 0, None)
    inter_areas = inters[:, :, 0] * inters[:, :, 1]
    union_areas = areas1[:, None] + areas2 - inter_areas
    with np.errstate(invalid="ignore", divide="ignore"):
        return inter_areas / union_areas  # departure 1: NaN where the union is 0


def d2l_assign_anchor_to_bbox(
    ground_truth: np.ndarray, anchors: np.ndarray, iou_threshold: float
) -> np.ndarray:
    num_anchors, num_gt_boxes = anchors.shape[0], ground_truth.shape[0]
    anchors_bbox_map = np.full((num_anchors,), -1, dtype=np.int64)
    if num_anchors == 0 or num_gt_boxes == 0:  # not in d2l: torch.max would raise
        return anchors_bbox_map
    jaccard = d2l_box_iou(anchors, ground_truth)
    indices = np.argmax(jaccard, axis=1)
    max_ious = jaccard[np.arange(num_anchors), indices]
    anc_i = np.flatnonzero(max_ious >= iou_threshold)
    box_j = indices[max_ious >= iou_threshold]
    anchors_bbox_map[anc_i] = box_j
    col_discard = np.full((num_anchors,), -1.0)
    row_discard = np.full((num_gt_boxes,), -1.0)
    for _ in range(num_gt_boxes):  # departure 3: G rounds, not min(A, G)
        max_idx = int(np.argmax(jaccard))
        box_idx = max_idx % num_gt_boxes
        anc_idx = max_idx // num_gt_boxes
        anchors_bbox_map[anc_idx] = box_idx
        jaccard[:, box_idx] = col_discard
        jaccard[anc_idx, :] = row_discard
    return anchors_bbox_map


def d2l_nms(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float) -> np.ndarray:
    B = scores.argsort()[::-1]  # departure 2: equal scores, highest index first
    keep = []
    while B.size > 0:
        i = B[0]
        keep.append(i)
        if B.size == 1:
            break
        iou = d2l_box_iou(boxes[i, :].reshape(-1, 4), boxes[B[1:], :].reshape(-1, 4)).reshape(-1)
        inds = np.nonzero(iou <= iou_threshold)[0]
        B = B[inds + 1]
    return np.asarray(keep, dtype=np.int64)


globals().update(
    implementation(
        __name__,
        Swap("boxes.py", "iou", d2l_box_iou),
        Swap("matching.py", "assign", d2l_assign_anchor_to_bbox),
        Swap("nms.py", "greedy_nms", d2l_nms),
    )
)


def multibox_target(anchors, labels):
    reference.multibox_target(anchors, labels)  # the reference's argument checks
    anchors = np.asarray(anchors, dtype=np.float64)[0]
    labels = np.asarray(labels, dtype=np.float64)
    batch_offset, batch_mask, batch_class_labels = [], [], []
    num_anchors = anchors.shape[0]
    for i in range(labels.shape[0]):
        label = labels[i, :, :]
        # departure 4: every row, padding included, takes part in the assignment
        anchors_bbox_map = d2l_assign_anchor_to_bbox(label[:, 1:], anchors, 0.5)
        bbox_mask = np.repeat((anchors_bbox_map >= 0).astype(np.float64)[:, None], 4, axis=1)
        class_labels = np.zeros(num_anchors, dtype=np.int64)
        assigned_bb = np.zeros((num_anchors, 4))
        indices_true = np.flatnonzero(anchors_bbox_map >= 0)
        bb_idx = anchors_bbox_map[indices_true]
        class_labels[indices_true] = label[bb_idx, 0].astype(np.int64) + 1
        assigned_bb[indices_true] = label[bb_idx, 1:]
        with np.errstate(invalid="ignore", divide="ignore"):
            offset = encode(anchors, assigned_bb, 1e-6) * bbox_mask
        batch_offset.append(offset.reshape(-1))
        batch_mask.append(bbox_mask.reshape(-1))
        batch_class_labels.append(class_labels)
    return (
        np.stack(batch_offset).reshape(labels.shape[0], -1),
        np.stack(batch_mask).reshape(labels.shape[0], -1),
        np.stack(batch_class_labels).reshape(labels.shape[0], -1),
    )


def multibox_detection(
    cls_probs, offset_preds, anchors, nms_threshold=0.5, pos_threshold=0.009999999
):
    # The reference's argument checks (shapes, finiteness, thresholds, overflow).
    reference.multibox_detection(cls_probs, offset_preds, anchors, nms_threshold, pos_threshold)
    cls_probs = np.asarray(cls_probs, dtype=np.float64)
    offset_preds = np.asarray(offset_preds, dtype=np.float64)
    anchors = np.asarray(anchors, dtype=np.float64)[0]
    batch_size, num_anchors = cls_probs.shape[0], anchors.shape[0]
    out = []
    for i in range(batch_size):
        cls_prob, offset_pred = cls_probs[i], offset_preds[i].reshape(-1, 4)
        conf, class_id = cls_prob[1:].max(axis=0), cls_prob[1:].argmax(axis=0).astype(float)
        predicted_bb = reference.offset_inverse(anchors, offset_pred)
        keep = d2l_nms(predicted_bb, conf, float(nms_threshold))
        # Find all non-`keep` indices and set the class to background
        all_idx = np.arange(num_anchors, dtype=np.int64)
        combined = np.concatenate((keep, all_idx))
        uniques, counts = np.unique(combined, return_counts=True)
        non_keep = uniques[counts == 1]
        all_id_sorted = np.concatenate((keep, non_keep))
        class_id[non_keep] = -1
        class_id = class_id[all_id_sorted]
        conf, predicted_bb = conf[all_id_sorted], predicted_bb[all_id_sorted]
        # pos_threshold is a threshold for positive (non-background) predictions
        below_min_idx = conf < pos_threshold
        class_id[below_min_idx] = -1
        conf[below_min_idx] = 1 - conf[below_min_idx]
        pred_info = np.concatenate((class_id[:, None], conf[:, None], predicted_bb), axis=1)
        out.append(pred_info)
    return np.stack(out)
