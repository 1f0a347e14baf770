"""Bad input: every rule of the contract's "Bad input" section, and empty input.

The public (eager) entry points must raise ``ValueError`` whose message names
the offending argument. Empty inputs are valid wherever the math is.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

F32 = np.float32
NAN, INF = math.nan, math.inf


def a(x):
    return np.asarray(x, dtype=F32)


GOOD = a([[0, 0, 1, 1], [0.5, 0.5, 2, 2]])
ANCHORS3 = GOOD[None]  # (1, A, 4)
LABELS = a([[[0, 0, 0, 1, 1]]])  # (1, 1, 5)
PROBS = a([[[0.5, 0.5], [0.5, 0.5]]])  # (1, C + 1 = 2, A = 2)
OFFS = np.zeros((1, 8), F32)


def bad_boxes():
    """(description, boxes) pairs that break one rule each."""
    return [
        ("rank 1", a([0, 0, 1, 1])),
        ("rank 3", a([[[0, 0, 1, 1]]])),
        ("last dimension 3", a([[0, 0, 1]])),
        ("last dimension 5", a([[0, 0, 1, 1, 1]])),
        ("NaN coordinate", a([[0, 0, 1, 1], [0, NAN, 1, 1]])),
        ("+inf coordinate", a([[0, 0, INF, 1]])),
        ("-inf coordinate", a([[-INF, 0, 1, 1]])),
        ("x2 < x1", a([[0, 0, 1, 1], [1, 0, 0.5, 1]])),
        ("y2 < y1", a([[0, 1, 1, 0.5]])),
    ]


BOX_CASES = [pytest.param(b, id=d) for d, b in bad_boxes()]

# (function, argument name, call with the bad value in that argument's place)
BOX_ARGUMENTS = [
    ("box_iou", "boxes1", lambda f, b: f(b, GOOD)),
    ("box_iou", "boxes2", lambda f, b: f(GOOD, b)),
    ("box_corner_to_center", "boxes", lambda f, b: f(b)),
    ("assign_anchor_to_bbox", "ground_truth", lambda f, b: f(b, GOOD, None, 0.5)),
    ("assign_anchor_to_bbox", "anchors", lambda f, b: f(GOOD, b, None, 0.5)),
    ("nms", "boxes", lambda f, b: f(b, np.ones(len(b), F32), 0.5)),
    ("offset_boxes", "anchors", lambda f, b: f(b, np.resize(GOOD, (len(b), 4)))),
    ("offset_boxes", "assigned_bb", lambda f, b: f(np.resize(GOOD, (len(b), 4)), b)),
    ("offset_inverse", "anchors", lambda f, b: f(b, np.zeros((len(b), 4), F32))),
]


@pytest.mark.parametrize("boxes", BOX_CASES)
@pytest.mark.parametrize(
    "function, argument, call", BOX_ARGUMENTS, ids=[f"{f}-{n}" for f, n, _ in BOX_ARGUMENTS]
)
def test_invalid_boxes_are_rejected(impl, function, argument, call, boxes):
    f = getattr(impl, function)
    with pytest.raises(ValueError, match=argument):
        call(f, boxes)


def _raises(fn, argument, *args, **kwargs):
    with pytest.raises(ValueError, match=argument):
        fn(*args, **kwargs)


# --- box_center_to_corner -------------------------------------------------------------


@pytest.mark.parametrize(
    "boxes",
    [
        pytest.param(a([1, 1, 2, 2]), id="rank 1"),
        pytest.param(a([[1, 1, 2]]), id="last dimension 3"),
        pytest.param(a([[1, NAN, 2, 2]]), id="NaN"),
        pytest.param(a([[1, 1, -2, 2]]), id="negative width"),
        pytest.param(a([[1, 1, 2, -0.5]]), id="negative height"),
    ],
)
def test_box_center_to_corner_rejects(impl, boxes):
    _raises(impl.box_center_to_corner, "boxes", boxes)


# --- thresholds -----------------------------------------------------------------------

BAD_THRESHOLDS = [pytest.param(t, id=repr(t)) for t in (-0.25, 1.5, NAN, INF)]


@pytest.mark.parametrize("t", BAD_THRESHOLDS)
def test_assign_rejects_threshold(impl, t):
    _raises(impl.assign_anchor_to_bbox, "iou_threshold", GOOD, GOOD, None, t)


@pytest.mark.parametrize("t", BAD_THRESHOLDS)
def test_nms_rejects_threshold(impl, t):
    _raises(impl.nms, "iou_threshold", GOOD, a([0.9, 0.8]), t)


@pytest.mark.parametrize("t", BAD_THRESHOLDS)
def test_detection_rejects_nms_threshold(impl, t):
    _raises(impl.multibox_detection, "nms_threshold", PROBS, OFFS, ANCHORS3, t, 0.01)


@pytest.mark.parametrize("t", BAD_THRESHOLDS)
def test_detection_rejects_pos_threshold(impl, t):
    _raises(impl.multibox_detection, "pos_threshold", PROBS, OFFS, ANCHORS3, 0.5, t)


# --- nms scores -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "scores",
    [
        pytest.param(a([0.9, NAN]), id="NaN"),
        pytest.param(a([INF, 0.5]), id="inf"),
        pytest.param(a([0.9]), id="too short"),
        pytest.param(a([0.9, 0.8, 0.7]), id="too long"),
        pytest.param(a([[0.9, 0.8]]), id="rank 2"),
    ],
)
def test_nms_rejects_scores(impl, scores):
    _raises(impl.nms, "scores", GOOD, scores, 0.5)


# --- multibox_prior -------------------------------------------------------------------


@pytest.mark.parametrize(
    "argument, sizes, ratios",
    [
        pytest.param("sizes", [], [1.0], id="no sizes"),
        pytest.param("sizes", [0.5, 0.0], [1.0], id="zero size"),
        pytest.param("sizes", [-0.5], [1.0], id="negative size"),
        pytest.param("sizes", [NAN], [1.0], id="NaN size"),
        pytest.param("ratios", [0.5], [], id="no ratios"),
        pytest.param("ratios", [0.5], [1.0, 0.0], id="zero ratio"),
        pytest.param("ratios", [0.5], [-2.0], id="negative ratio"),
        pytest.param("ratios", [0.5], [INF], id="infinite ratio"),
    ],
)
def test_multibox_prior_rejects(impl, argument, sizes, ratios):
    _raises(impl.multibox_prior, argument, np.zeros((2, 3), F32), sizes, ratios)


def test_multibox_prior_rejects_data_without_height_and_width(impl):
    _raises(impl.multibox_prior, "data", np.zeros((4,), F32), [0.5], [1.0])


# --- box coding -----------------------------------------------------------------------


def test_offset_boxes_rejects_mismatched_lengths(impl):
    _raises(impl.offset_boxes, "assigned_bb", GOOD, GOOD[:1])


def test_offset_boxes_rejects_zero_width_anchor(impl):
    # The coding divides by the anchor's width: a zero-width anchor has no offsets.
    _raises(impl.offset_boxes, "anchors", a([[0, 0, 0, 1]]), a([[0, 0, 1, 1]]))


def test_offset_inverse_rejects(impl):
    _raises(impl.offset_inverse, "offset_preds", GOOD, a([[0, 0, NAN, 0], [0, 0, 0, 0]]))
    _raises(impl.offset_inverse, "offset_preds", GOOD, np.zeros((3, 4), F32))
    _raises(impl.offset_inverse, "offset_preds", GOOD, np.zeros((2, 3), F32))


# --- multibox_target ------------------------------------------------------------------


@pytest.mark.parametrize(
    "argument, anchors, labels",
    [
        pytest.param("anchors", GOOD, LABELS, id="anchors rank 2"),
        pytest.param("anchors", np.stack([GOOD, GOOD]), LABELS, id="anchors batch 2"),
        pytest.param("anchors", a([[[0, 0, 1, NAN]]]), LABELS, id="anchors NaN"),
        pytest.param("anchors", a([[[1, 0, 0, 1]]]), LABELS, id="anchors x2 < x1"),
        pytest.param("anchors", a([[[0, 0, 1, 0]]]), LABELS, id="anchors zero height"),
        pytest.param("labels", ANCHORS3, LABELS[0], id="labels rank 2"),
        pytest.param("labels", ANCHORS3, LABELS[..., :4], id="labels last dimension 4"),
        pytest.param("labels", ANCHORS3, a([[[0, 0, 0, NAN, 1]]]), id="labels NaN box"),
        pytest.param("labels", ANCHORS3, a([[[NAN, 0, 0, 1, 1]]]), id="labels NaN class"),
        pytest.param("labels", ANCHORS3, a([[[0, 0, 1, 1, 0]]]), id="labels y2 < y1"),
    ],
)
def test_multibox_target_rejects(impl, argument, anchors, labels):
    _raises(impl.multibox_target, argument, anchors, labels)


def test_multibox_target_does_not_read_padding_rows(impl):
    # A padding row (class < 0) is ignored entirely, even an invalid box in it.
    labels = a([[[-1, 5, 5, 0, 0], [0, 0, 0, 1, 1]]])
    _, mask, classes = impl.multibox_target(ANCHORS3, labels)
    assert np.asarray(classes).tolist() == [[1, 0]]


# --- multibox_detection ---------------------------------------------------------------


@pytest.mark.parametrize(
    "argument, probs, offsets, anchors",
    [
        pytest.param("cls_probs", PROBS[0], OFFS, ANCHORS3, id="cls_probs rank 2"),
        pytest.param("cls_probs", PROBS[:, :1], OFFS, ANCHORS3, id="cls_probs no classes"),
        pytest.param(
            "cls_probs",
            np.where(PROBS == 0.5, NAN, 0).astype(F32),
            OFFS,
            ANCHORS3,
            id="cls_probs NaN",
        ),
        pytest.param("offset_preds", PROBS, np.zeros((1, 7), F32), ANCHORS3, id="offsets 4A - 1"),
        pytest.param("offset_preds", PROBS, np.zeros((2, 8), F32), ANCHORS3, id="offsets batch"),
        pytest.param("offset_preds", PROBS, np.full((1, 8), NAN, F32), ANCHORS3, id="offsets NaN"),
        pytest.param("anchors", PROBS, OFFS, GOOD, id="anchors rank 2"),
        pytest.param("anchors", PROBS, OFFS, ANCHORS3[:, :1], id="anchors count"),
        pytest.param("anchors", PROBS, OFFS, a([[[0, 0, 1, 1], [1, 1, 0, 2]]]), id="anchors x2<x1"),
    ],
)
def test_multibox_detection_rejects(impl, argument, probs, offsets, anchors):
    _raises(impl.multibox_detection, argument, probs, offsets, anchors)


# --- empty input: valid wherever the math is -----------------------------------------

EMPTY = np.zeros((0, 4), F32)


def test_empty_inputs(impl):
    assert np.asarray(impl.box_iou(EMPTY, EMPTY)).shape == (0, 0)
    assert np.asarray(impl.box_corner_to_center(EMPTY)).shape == (0, 4)
    assert np.asarray(impl.box_center_to_corner(EMPTY)).shape == (0, 4)
    assert np.asarray(impl.offset_boxes(EMPTY, EMPTY)).shape == (0, 4)
    assert np.asarray(impl.offset_inverse(EMPTY, EMPTY)).shape == (0, 4)
    assert np.asarray(impl.nms(EMPTY, np.zeros(0, F32), 0.5)).shape == (0,)
    assert np.asarray(impl.assign_anchor_to_bbox(GOOD, EMPTY, None, 0.5)).shape == (0,)
    assert np.asarray(impl.assign_anchor_to_bbox(EMPTY, GOOD, None, 0.5)).tolist() == [-1, -1]


def test_multibox_target_without_ground_truth(impl):
    offsets, mask, classes = impl.multibox_target(ANCHORS3, np.zeros((2, 0, 5), F32))
    assert np.asarray(offsets).shape == (2, 8) and not np.asarray(offsets).any()
    assert np.asarray(mask).shape == (2, 8) and not np.asarray(mask).any()
    assert np.asarray(classes).tolist() == [[0, 0], [0, 0]]


def test_multibox_target_all_padding_is_background(impl):
    # keras-cv #845: an all-padding batch produced NaN.
    offsets, mask, classes = impl.multibox_target(ANCHORS3, np.full((2, 3, 5), -1, F32))
    assert np.isfinite(np.asarray(offsets)).all() and not np.asarray(offsets).any()
    assert not np.asarray(mask).any()
    assert np.asarray(classes).tolist() == [[0, 0], [0, 0]]


def test_multibox_prior_of_an_empty_map(impl):
    out = np.asarray(impl.multibox_prior(np.zeros((0, 5), F32), [0.5], [1.0, 2.0]))
    assert out.shape == (1, 0, 4)
