"""Golden cases: the d2l chapter's printed outputs, and small cases worked out by hand.

Every expected value here was computed on paper (the derivation is in the
comments), not by running an implementation. They run against ``--impl``.

Conventions (CONTRACT.md §7, the ``conventions`` fixture): where a declared convention changes
a hand-worked answer (NaN for an empty union, ``>=``, the tie order) the other answer is worked
out here too; under ``+1`` pixel widths no IoU of these small boxes is the contract's, and the
cases that depend on one are skipped (:func:`hand_worked_for`).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from .conventions import CONTRACT

F32 = np.float32
# float32 implementations against values worked out exactly: a few ulps of the
# largest magnitude involved (offsets reach 10, coordinates 1).
RTOL, ATOL = 2e-6, 2e-6


def hand_worked_for(conventions, *keys: str) -> None:
    """Skip unless ``keys`` have the contract's values: the answers were worked out under them."""
    other = [
        f"{k}={getattr(conventions, k)}"
        for k in keys
        if getattr(conventions, k) != getattr(CONTRACT, k)
    ]
    if other:
        pytest.skip(
            f"worked out by hand for the contract's {', '.join(keys)}; declared {', '.join(other)}"
        )


def arr(x, dtype=F32):
    return np.asarray(x, dtype=dtype)


def close(got, expected, what: str, rtol: float = RTOL, atol: float = ATOL):
    got = np.asarray(got, dtype=np.float64)
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=atol, err_msg=what)


def exact(got, expected, what: str):
    got = np.asarray(got)
    assert got.shape == np.shape(expected), (
        f"{what}: shape {got.shape}, expected {np.shape(expected)}"
    )
    assert np.array_equal(got, expected), f"{what}: got {got.tolist()}, expected {list(expected)}"


# The chapter's dog/cat example (labels are (class, x1, y1, x2, y2)).
DOG_CAT_GT = [[0, 0.1, 0.08, 0.52, 0.92], [1, 0.55, 0.2, 0.9, 0.88]]
DOG_CAT_ANCHORS = [
    [0, 0.1, 0.2, 0.3],
    [0.15, 0.2, 0.4, 0.4],
    [0.63, 0.05, 0.88, 0.98],
    [0.66, 0.45, 0.8, 0.8],
    [0.57, 0.3, 0.92, 0.9],
]
# By hand, IoU(anchor, gt) = intersection / union:
#   a0-gt0 0.02/0.3728 = 0.054   a1-gt0 0.05/0.3528 = 0.142
#   a2-gt1 0.17/0.3005 = 0.566   a3-gt1 0.049/0.238 = 0.206   a4-gt1 0.1914/0.2566 = 0.746
# Step a (>= 0.5): a2 -> gt1, a4 -> gt1. Greedy: (a4, gt1) 0.746, then (a1, gt0) 0.142.
DOG_CAT_ASSIGNED = [-1, 0, 1, -1, 1]

# The chapter's four-box NMS example.
NMS_ANCHORS = [
    [0.1, 0.08, 0.52, 0.92],
    [0.08, 0.2, 0.56, 0.95],
    [0.15, 0.3, 0.62, 0.91],
    [0.55, 0.2, 0.9, 0.88],
]
NMS_CLS_PROBS = [[0] * 4, [0.9, 0.8, 0.7, 0.1], [0.1, 0.2, 0.3, 0.9]]


# --- multibox_prior --------------------------------------------------------------


def test_multibox_prior_chapter_shape_and_printed_box(impl):
    # d2l: a 561 x 728 map, sizes (0.75, 0.5, 0.25), ratios (1, 2, 0.5).
    data = np.zeros((1, 3, 561, 728), dtype=F32)
    anchors = np.asarray(impl.multibox_prior(data, [0.75, 0.5, 0.25], [1, 2, 0.5]))
    assert anchors.shape == (1, 2042040, 4)
    # The chapter prints boxes[250, 250, 0, :] as (0.06, 0.07, 0.63, 0.82):
    # centre (250.5/728, 250.5/561), width 0.75 * 561/728, height 0.75.
    boxes = anchors.reshape(561, 728, 5, 4)
    cx, cy, w, h = 250.5 / 728, 250.5 / 561, 0.75 * 561 / 728, 0.75
    close(boxes[250, 250, 0], [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], "box (250, 250, 0)")


def test_multibox_prior_small_map_by_hand(impl):
    # H = 2, W = 4, one size 0.5, ratios (1, 4): two anchors per pixel.
    # (0.5, 1): width 0.5 * 1 * 2/4 = 0.25, height 0.5.
    # (0.5, 4): width 0.5 * 2 * 2/4 = 0.5,  height 0.5 / 2 = 0.25.
    anchors = np.asarray(impl.multibox_prior(np.zeros((2, 4), F32), [0.5], [1, 4]))
    assert anchors.shape == (1, 16, 4)
    # Pixel (0, 0), centre (0.125, 0.25): anchors 0 and 1.
    close(anchors[0, 0], [0.0, 0.0, 0.25, 0.5], "pixel (0, 0), anchor 0")
    close(anchors[0, 1], [-0.125, 0.125, 0.375, 0.375], "pixel (0, 0), anchor 1")
    # Pixel (1, 3), centre (0.875, 0.75): index (1 * 4 + 3) * 2 = 14.
    close(anchors[0, 14], [0.75, 0.5, 1.0, 1.0], "pixel (1, 3), anchor 0")
    close(anchors[0, 15], [0.625, 0.625, 1.125, 0.875], "pixel (1, 3), anchor 1")


# --- conversions and IoU ---------------------------------------------------------


def test_conversions_by_hand(impl):
    corner = arr([[0, 0, 2, 4], [1, 1, 1, 3]])
    center = arr([[1, 2, 2, 4], [1, 2, 0, 2]])
    close(impl.box_corner_to_center(corner), center, "box_corner_to_center")
    close(impl.box_center_to_corner(center), corner, "box_center_to_corner")


def test_box_iou_by_hand(impl, conventions):
    boxes1 = arr([[0, 0, 2, 2], [0, 0, 1, 1], [0, 0, 4, 4], [0, 0, 0, 1]])
    boxes2 = arr([[1, 1, 3, 3], [1, 0, 2, 1], [1, 1, 2, 2], [0, 0, 0, 2]])
    expected = np.array(
        [
            # [0,0,2,2] vs: overlap 1 / union 7; contains [1,0,2,1]: 1 / 4; and [1,1,2,2]; line
            [1 / 7, 1 / 4, 1 / 4, 0.0],
            # [0,0,1,1] vs: touches at the point (1, 1); shares an edge; touches; line
            [0.0, 0.0, 0.0, 0.0],
            # [0,0,4,4] vs: overlap 4 / union 16 + 4 - 4; overlap 1 / 16; nested 1 / 16; line
            [4 / 16, 1 / 16, 1 / 16, 0.0],
            # a zero-width box: IoU 0 with everything, also another zero-area box (0/0 -> 0)
            [0.0, 0.0, 0.0, 0.0],
        ]
    )
    hand_worked_for(conventions, "pixel_offset")
    if conventions.empty_union == "nan":
        expected[3, 3] = np.nan  # 0/0 (an epsilon in the union changes the rest within RTOL)
    close(impl.box_iou(boxes1, boxes2), expected, "box_iou")


def test_box_iou_empty_inputs(impl):
    assert np.asarray(impl.box_iou(np.zeros((0, 4), F32), arr([[0, 0, 1, 1]] * 3))).shape == (0, 3)
    assert np.asarray(impl.box_iou(arr([[0, 0, 1, 1]] * 2), np.zeros((0, 4), F32))).shape == (2, 0)


# --- assignment and targets ------------------------------------------------------


def test_assign_dog_cat(impl, conventions):
    hand_worked_for(conventions, "pixel_offset")
    gt = arr(DOG_CAT_GT)[:, 1:]
    got = impl.assign_anchor_to_bbox(gt, arr(DOG_CAT_ANCHORS), None, 0.5)
    exact(got, DOG_CAT_ASSIGNED, "assign_anchor_to_bbox(dog/cat)")


def test_assign_fewer_anchors_than_ground_truths(impl):
    # One anchor, two ground truths: IoU 0.5 with gt0, 1 with gt1. Step a gives
    # gt1; the single greedy round (min(A, G) = 1) picks (a0, gt1) too.
    # d2l runs a second round over an all -1 matrix whose argmax re-assigns anchor 0 to gt0.
    gt = arr([[0, 0, 0.5, 1], [0, 0, 1, 1]])
    exact(impl.assign_anchor_to_bbox(gt, arr([[0, 0, 1, 1]]), None, 0.5), [1], "A < G")


def test_assign_zero_iou_round_still_runs(impl):
    # gt1 overlaps no anchor, yet the second greedy round (max remaining IoU 0)
    # gives it the first remaining anchor in row-major order: anchor 1.
    anchors = arr([[0, 0, 1, 1], [2, 2, 3, 3], [4, 4, 5, 5]])
    gt = arr([[0, 0, 1, 1], [10, 10, 11, 11]])
    exact(impl.assign_anchor_to_bbox(gt, anchors, None, 0.5), [0, 1, -1], "zero-IoU round")


def test_assign_no_ground_truth(impl):
    got = impl.assign_anchor_to_bbox(np.zeros((0, 4), F32), arr(DOG_CAT_ANCHORS), None, 0.5)
    exact(got, [-1] * 5, "assign with G = 0")


def _dog_cat_offsets() -> np.ndarray:
    """offset_boxes of the three assigned dog/cat anchors, from the formulas by hand."""

    def center(b):
        return ((b[0] + b[2]) / 2, (b[1] + b[3]) / 2, b[2] - b[0], b[3] - b[1])

    def offset(a, b):
        (ax, ay, aw, ah), (bx, by, bw, bh) = center(a), center(b)
        return [
            10 * (bx - ax) / aw,
            10 * (by - ay) / ah,
            5 * math.log(1e-6 + bw / aw),
            5 * math.log(1e-6 + bh / ah),
        ]

    dog, cat = DOG_CAT_GT[0][1:], DOG_CAT_GT[1][1:]
    out = np.zeros((5, 4))
    out[1] = offset(DOG_CAT_ANCHORS[1], dog)  # (1.4, 10, 2.59, 7.18) in the chapter
    out[2] = offset(DOG_CAT_ANCHORS[2], cat)  # (-1.2, 0.269, 1.68, -1.57)
    out[4] = offset(DOG_CAT_ANCHORS[4], cat)  # (-0.571, -1, 4.17e-06, 0.626)
    return out.reshape(-1)


def test_multibox_target_dog_cat(impl, conventions):
    hand_worked_for(conventions, "pixel_offset")
    anchors = arr(DOG_CAT_ANCHORS)[None]
    labels = arr(DOG_CAT_GT)[None]
    offsets, mask, classes = impl.multibox_target(anchors, labels)
    exact(np.asarray(mask), [[0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1]], "mask")
    exact(classes, [[0, 1, 2, 0, 2]], "class_labels")
    # The chapter prints (1.40, 10.0, 2.59, 7.18), (-1.20, 0.269, 1.68, -1.57), (-0.571, -1.00,
    # 4.17e-06, 0.626); offsets divide by anchor sides of 0.2, so allow float32 rounding of 10.
    close(np.asarray(offsets)[0], _dog_cat_offsets(), "offsets", rtol=1e-5, atol=1e-5)
    assert np.abs(np.asarray(offsets)[0, [0, 1, 2, 3, 12, 13, 14, 15]]).max() == 0


def test_multibox_target_padding_and_empty_image(impl, conventions):
    hand_worked_for(conventions, "pixel_offset")
    # Image 0: dog/cat with padding rows before, between and after. Image 1: all padding.
    pad = [-1, -1, -1, -1, -1]
    labels = arr([[pad, DOG_CAT_GT[0], pad, DOG_CAT_GT[1]], [pad, pad, pad, pad]])
    offsets, mask, classes = impl.multibox_target(arr(DOG_CAT_ANCHORS)[None], labels)
    exact(classes, [[0, 1, 2, 0, 2], [0, 0, 0, 0, 0]], "class_labels with padding")
    exact(np.asarray(mask)[1], [0] * 20, "mask of an all-padding image")
    exact(np.asarray(offsets)[1] == 0, [True] * 20, "offsets of an all-padding image")
    close(np.asarray(offsets)[0], _dog_cat_offsets(), "offsets with padding", 1e-5, 1e-5)


# --- box coding --------------------------------------------------------------------


def test_offset_inverse_by_hand(impl):
    # Anchor centre (0.5, 0.5), 1 x 1. Offsets (1, -2, 5 log 2, 0):
    # cx = 1 * 1/10 + 0.5 = 0.6, cy = -2/10 + 0.5 = 0.3, w = exp(log 2) = 2, h = 1.
    got = impl.offset_inverse(arr([[0, 0, 1, 1]]), arr([[1, -2, 5 * math.log(2), 0]]))
    close(got, [[-0.4, -0.2, 1.6, 0.8]], "offset_inverse")


def test_offset_boxes_by_hand(impl):
    # Anchor (0, 0, 1, 1); box (0.5, 0, 2.5, 0.5): centre (1.5, 0.25), 2 x 0.5.
    # (10 * 1 / 1, 10 * -0.25 / 1, 5 log(1e-6 + 2), 5 log(1e-6 + 0.5))
    got = impl.offset_boxes(arr([[0, 0, 1, 1]]), arr([[0.5, 0, 2.5, 0.5]]))
    expected = [[10, -2.5, 5 * math.log(1e-6 + 2), 5 * math.log(1e-6 + 0.5)]]
    close(got, expected, "offset_boxes", rtol=1e-5)


# --- NMS ---------------------------------------------------------------------------


def by_ties(conventions, got, lowest: list[list[int]], highest: list[list[int]]) -> list[int]:
    """The answer for the declared tie order: ``lowest`` or ``highest`` index first (each a list
    of acceptable answers, the first one shown on failure); under "any", either."""
    allowed = {"lowest": lowest, "highest": highest, "any": lowest + highest}[conventions.nms_ties]
    return next((a for a in allowed if np.asarray(got).tolist() == a), allowed[0])


def test_nms_chapter_boxes(impl, conventions):
    # Scores are the chapter's per-anchor confidences; boxes 0 and 3 tie at 0.9,
    # so box 0 goes first. Box 1 and 2 overlap box 0 by more than 0.5.
    # Ties to the highest index: box 3 first; it overlaps nothing, then box 0 as before.
    hand_worked_for(conventions, "pixel_offset")
    got = impl.nms(arr(NMS_ANCHORS), arr([0.9, 0.8, 0.7, 0.9]), 0.5)
    exact(got, by_ties(conventions, got, [[0, 3]], [[3, 0]]), "nms(chapter)")


def test_nms_chain_keeps_the_third_box(impl):
    # A = [0,4], B = [2,6], C = [4,8] (height 1): IoU(A, B) = IoU(B, C) = 2/6, IoU(A, C) = 0.
    # At 0.25, A suppresses B; B is gone, so C (touching A only) survives.
    boxes = arr([[0, 0, 4, 1], [2, 0, 6, 1], [4, 0, 8, 1]])
    exact(impl.nms(boxes, arr([0.9, 0.8, 0.7]), 0.25), [0, 2], "nms(chain)")


def test_nms_exactly_at_threshold_is_kept(impl, conventions):
    # IoU([0,3], [1,4]) = 2 / 4 = 0.5 exactly: kept at 0.5 (strict >), suppressed at 0.25.
    # Declared >=: suppressed at 0.5 too. An epsilon in the union makes the exact IoU
    # 2 / (4 + eps) < 0.5 (kept), but 4 + eps rounds to 4 in float32 for any eps below half an
    # ulp of 4 (2.4e-7; Keras's 1e-7, keras-hub's 1e-8): the IoU is then 0.5 (suppressed).
    # Both follow the declared rule, so under >= with an epsilon either answer passes.
    hand_worked_for(conventions, "pixel_offset")
    boxes = arr([[0, 0, 3, 1], [1, 0, 4, 1]])
    at = [0] if conventions.nms_suppress == ">=" else [0, 1]
    got = impl.nms(boxes, arr([0.9, 0.8]), 0.5)
    if conventions.nms_suppress == ">=" and conventions.union_eps:
        at = [0] if np.asarray(got).tolist() == [0] else [0, 1]
    exact(got, at, "nms at IoU == threshold")
    exact(impl.nms(boxes, arr([0.9, 0.8]), 0.25), [0], "nms below IoU")


def test_nms_ties_go_to_lower_index(impl, conventions):
    # Box 2 has the top score; boxes 0, 1 tie and are identical: 0 is visited
    # first and suppresses 1. Box 3 ties with 0 and 1 but overlaps nothing.
    # Ties to the highest index: 3, then 1, which suppresses 0.
    hand_worked_for(conventions, "pixel_offset")
    boxes = arr([[0, 0, 1, 1], [0, 0, 1, 1], [5, 5, 6, 6], [3, 3, 4, 4]])
    got = impl.nms(boxes, arr([0.5, 0.5, 0.75, 0.5]), 0.5)
    lowest = [[2, 0, 3]]
    highest = [[2, 3, 1]]
    if conventions.nms_ties == "any":  # 0 or 1 survives, before or after 3
        highest += [[2, 1, 3], [2, 3, 0]]
    exact(got, by_ties(conventions, got, lowest, highest), "nms(ties)")


def test_nms_threshold_zero_keeps_touching_boxes(impl, conventions):
    # Shared edge and shared corner: IoU 0, not > 0. Declared >=: IoU 0 >= 0, box 0 suppresses
    # every other box.
    hand_worked_for(conventions, "pixel_offset")
    boxes = arr([[0, 0, 1, 1], [1, 0, 2, 1], [1, 1, 2, 2], [0.5, 0.5, 1.5, 1.5]])
    kept = [0] if conventions.nms_suppress == ">=" else [0, 1, 2]
    exact(impl.nms(boxes, arr([0.9, 0.8, 0.7, 0.6]), 0.0), kept, "nms(t=0)")


def test_nms_empty(impl):
    exact(impl.nms(np.zeros((0, 4), F32), np.zeros((0,), F32), 0.5), [], "nms of no boxes")


# --- detection -----------------------------------------------------------------------


def test_multibox_detection_chapter(impl, conventions):
    # Anchors 0 and 3 tie at 0.9: ties to the highest index put anchor 3's row first.
    hand_worked_for(conventions, "pixel_offset")
    out = impl.multibox_detection(
        arr([NMS_CLS_PROBS]), np.zeros((1, 16), F32), arr(NMS_ANCHORS)[None], 0.5
    )
    expected = [
        [0, 0.9, 0.1, 0.08, 0.52, 0.92],
        [1, 0.9, 0.55, 0.2, 0.9, 0.88],
        [-1, 0.8, 0.08, 0.2, 0.56, 0.95],
        [-1, 0.7, 0.15, 0.3, 0.62, 0.91],
    ]
    first = np.asarray(out)[0, 0, 0]
    if conventions.nms_ties == "highest" or (conventions.nms_ties == "any" and first == 1):
        expected[:2] = expected[1::-1]
    close(np.asarray(out)[0], expected, "multibox_detection(chapter)")


def test_multibox_detection_low_confidence_is_flipped(impl):
    # Two disjoint anchors; class probabilities (bg, c0, c1). Anchor 1's best
    # class probability 0.005 is below pos_threshold 0.01: class -1, conf 0.995.
    probs = arr([[[0.5, 0.99], [0.25, 0.005], [0.25, 0.005]]])
    anchors = arr([[[0, 0, 1, 1], [2, 2, 3, 3]]])
    out = np.asarray(impl.multibox_detection(probs, np.zeros((1, 8), F32), anchors, 0.5, 0.01))
    # Anchor 1: classes tie at 0.005, so class 0 (first); then flipped to -1, 1 - 0.005.
    close(out[0], [[0, 0.25, 0, 0, 1, 1], [-1, 0.995, 2, 2, 3, 3]], "flip below pos_threshold")


@pytest.mark.parametrize("batch", [1, 3])
def test_multibox_detection_batch_equals_per_image(impl, batch):
    rng = np.random.default_rng(batch)
    probs = rng.dirichlet(np.ones(3), size=(batch, 4)).transpose(0, 2, 1).astype(F32)
    offsets = rng.normal(0, 0.5, size=(batch, 16)).astype(F32)
    anchors = arr(NMS_ANCHORS)[None]
    whole = np.asarray(impl.multibox_detection(probs, offsets, anchors, 0.5))
    for b in range(batch):
        one = np.asarray(impl.multibox_detection(probs[b : b + 1], offsets[b : b + 1], anchors))
        close(whole[b], one[0], f"image {b}", rtol=1e-6, atol=1e-7)
