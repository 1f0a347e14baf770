"""Bad input: every rule of CONTRACT.md §6, and empty input.

The public (eager) entry points must raise ``ValueError`` whose message names
the offending argument. Array arguments are read as numbers when their dtype is
an integer or a float; bool, complex, object and string arrays are rejected
(``multibox_prior``'s ``data`` is exempt: only its shape is read). Scalar
arguments (thresholds, ``eps``, ``max_output_size``) reject bools, complex
numbers and strings. Zero-length axes are valid wherever the math is: the
results are empty, or all "nothing" (-1 indices, zero targets).

The static-shape forms (``nms_padded``, ``nms_keep_mask``) follow the same rules
where an implementation has them (else those cases skip).
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


# --- non-real dtypes ------------------------------------------------------------------

# A valid array of each kind, converted to a non-real dtype by ``x`` in the calls below.
PROBS_OK = a([[[0.5, 0.5], [0.5, 0.5]]])
LABELS_OK = a([[[0, 0, 0, 1, 1]]])

# (function, argument, call with the converted array in that argument's place)
ARRAY_ARGUMENTS = [
    ("box_corner_to_center", "boxes", lambda f, x: f(x(GOOD))),
    ("box_center_to_corner", "boxes", lambda f, x: f(x(GOOD))),
    ("box_iou", "boxes1", lambda f, x: f(x(GOOD), GOOD)),
    ("box_iou", "boxes2", lambda f, x: f(GOOD, x(GOOD))),
    ("multibox_prior", "sizes", lambda f, x: f(np.zeros((2, 2), F32), x(a([0.5])), [1.0])),
    ("multibox_prior", "ratios", lambda f, x: f(np.zeros((2, 2), F32), [0.5], x(a([1.0])))),
    ("assign_anchor_to_bbox", "ground_truth", lambda f, x: f(x(GOOD), GOOD, None, 0.5)),
    ("assign_anchor_to_bbox", "anchors", lambda f, x: f(GOOD, x(GOOD), None, 0.5)),
    ("offset_boxes", "anchors", lambda f, x: f(x(GOOD), GOOD)),
    ("offset_boxes", "assigned_bb", lambda f, x: f(GOOD, x(GOOD))),
    ("offset_inverse", "anchors", lambda f, x: f(x(GOOD), np.zeros((2, 4), F32))),
    ("offset_inverse", "offset_preds", lambda f, x: f(GOOD, x(np.zeros((2, 4), F32)))),
    ("multibox_target", "anchors", lambda f, x: f(x(ANCHORS3), LABELS_OK)),
    ("multibox_target", "labels", lambda f, x: f(ANCHORS3, x(LABELS_OK))),
    ("nms", "boxes", lambda f, x: f(x(GOOD), a([0.9, 0.8]), 0.5)),
    ("nms", "scores", lambda f, x: f(GOOD, x(a([0.9, 0.8])), 0.5)),
    ("nms_padded", "boxes", lambda f, x: f(x(GOOD), a([0.9, 0.8]), 0.5, 2)),
    ("nms_padded", "scores", lambda f, x: f(GOOD, x(a([0.9, 0.8])), 0.5, 2)),
    ("nms_keep_mask", "boxes", lambda f, x: f(x(GOOD), a([0.9, 0.8]), 0.5)),
    ("nms_keep_mask", "scores", lambda f, x: f(GOOD, x(a([0.9, 0.8])), 0.5)),
    ("multibox_detection", "cls_probs", lambda f, x: f(x(PROBS_OK), OFFS, ANCHORS3)),
    ("multibox_detection", "offset_preds", lambda f, x: f(PROBS_OK, x(OFFS), ANCHORS3)),
    ("multibox_detection", "anchors", lambda f, x: f(PROBS_OK, OFFS, x(ANCHORS3))),
]

# complex: float64 would drop the imaginary part; object: numbers in boxes; str: numbers
# written out ("0.5" parses as a float); bool: a mask where numbers belong (a mistake far
# more often than a 0/1 box, and the scalar arguments reject bools too).
NON_REAL = {
    "complex": lambda v: v.astype(np.complex64),
    "object": lambda v: v.astype(object),
    "str": lambda v: v.astype(str),
    "bool": lambda v: v.astype(bool),
    "list of str": lambda v: v.astype(str).tolist(),
}


@pytest.mark.parametrize("kind", NON_REAL)
@pytest.mark.parametrize(
    "function, argument, call", ARRAY_ARGUMENTS, ids=[f"{f}-{n}" for f, n, _ in ARRAY_ARGUMENTS]
)
def test_non_real_arrays_are_rejected(impl, function, argument, call, kind):
    f = getattr(impl, function)
    with pytest.raises(ValueError, match=argument):
        call(f, NON_REAL[kind])


@pytest.mark.parametrize("kind", NON_REAL)
def test_multibox_prior_reads_only_the_shape_of_data(impl, kind):
    """``data`` is never read, so its dtype does not matter: the same anchors as for floats."""
    data = np.zeros((2, 3), F32)
    expected = np.asarray(impl.multibox_prior(data, [0.5], [1.0, 2.0]))
    got = np.asarray(impl.multibox_prior(NON_REAL[kind](data), [0.5], [1.0, 2.0]))
    assert np.array_equal(got, expected)


# (function, argument, call with the value in that argument's place)
SCALAR_ARGUMENTS = [
    ("assign_anchor_to_bbox", "iou_threshold", lambda f, t: f(GOOD, GOOD, None, t)),
    ("nms", "iou_threshold", lambda f, t: f(GOOD, a([0.9, 0.8]), t)),
    ("nms_padded", "iou_threshold", lambda f, t: f(GOOD, a([0.9, 0.8]), t, 2)),
    ("nms_keep_mask", "iou_threshold", lambda f, t: f(GOOD, a([0.9, 0.8]), t)),
    ("multibox_detection", "nms_threshold", lambda f, t: f(PROBS, OFFS, ANCHORS3, t, 0.01)),
    ("multibox_detection", "pos_threshold", lambda f, t: f(PROBS, OFFS, ANCHORS3, 0.5, t)),
    ("offset_boxes", "eps", lambda f, e: f(GOOD, GOOD, e)),
    ("nms_padded", "max_output_size", lambda f, k: f(GOOD, a([0.9, 0.8]), 0.5, k)),
]
# Bools, complex numbers, strings and arrays, then values out of range for each kind.
NOT_SCALARS = (True, np.bool_(True), 0.5 + 0j, np.complex64(0.5), "0.5", None, a([0.5]))
OUT_OF_RANGE = {
    "iou_threshold": (-0.25, 1.5, NAN, INF),
    "nms_threshold": (-0.25, 1.5, NAN, INF),
    "pos_threshold": (-0.25, 1.5, NAN, INF),
    "eps": (-1.0, NAN, INF, np.float32(-1e-6)),
    "max_output_size": (-1, 2.5, np.float32(2)),
}


def _scalar_cases():
    for function, argument, call in SCALAR_ARGUMENTS:
        values = NOT_SCALARS + OUT_OF_RANGE[argument]
        if argument == "eps":  # the same kinds, around eps's default
            values = (True, np.bool_(True), 1e-6 + 0j, np.complex64(1e-6), "1e-06", None)
            values += (a([1e-6]),) + OUT_OF_RANGE[argument]
        elif argument == "max_output_size":
            values = (True, np.bool_(True), 2 + 0j, "2", None, a([2])) + OUT_OF_RANGE[argument]
        for value in values:
            case = f"{function}-{argument}-{value!r}"
            yield pytest.param(function, argument, call, value, id=case)


@pytest.mark.parametrize("function, argument, call, value", list(_scalar_cases()))
def test_bad_scalars_are_rejected(impl, function, argument, call, value):
    f = getattr(impl, function)
    with pytest.raises(ValueError, match=argument):
        call(f, value)


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
        pytest.param("sizes", [[0.5]], [1.0], id="sizes rank 2"),
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
    # exp(1e4 / 5) overflows: the decoded boxes would be inf.
    _raises(impl.offset_inverse, "offset_preds", GOOD, a([[0, 0, 1e4, 0], [0, 0, 0, 0]]))


# --- multibox_target ------------------------------------------------------------------


@pytest.mark.parametrize(
    "argument, anchors, labels",
    [
        pytest.param("anchors", GOOD, LABELS, id="anchors rank 2"),
        pytest.param("anchors", np.stack([GOOD, GOOD]), LABELS, id="anchors batch 2"),
        pytest.param("anchors", a([[[0, 0, 1, NAN]]]), LABELS, id="anchors NaN"),
        pytest.param("anchors", a([[[1, 0, 0, 1]]]), LABELS, id="anchors x2 < x1"),
        pytest.param("anchors", a([[[0, 0, 1, 0]]]), LABELS, id="anchors zero height"),
        pytest.param("anchors", a([[[0, 0, 0, 1]]]), LABELS, id="anchors zero width"),
        pytest.param("labels", ANCHORS3, LABELS[0], id="labels rank 2"),
        pytest.param("labels", ANCHORS3, LABELS[..., :4], id="labels last dimension 4"),
        pytest.param("labels", ANCHORS3, a([[[0, 0, 0, NAN, 1]]]), id="labels NaN box"),
        pytest.param("labels", ANCHORS3, a([[[NAN, 0, 0, 1, 1]]]), id="labels NaN class"),
        pytest.param("labels", ANCHORS3, a([[[0, 0, 1, 1, 0]]]), id="labels y2 < y1"),
        pytest.param("labels", ANCHORS3, a([[[0.5, 0, 0, 1, 1]]]), id="labels fractional class"),
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
        pytest.param("offset_preds", PROBS, OFFS[None], ANCHORS3, id="offsets rank 3"),
        pytest.param(
            "offset_preds", PROBS, np.full((1, 8), 1e4, F32), ANCHORS3, id="offsets overflow"
        ),
        pytest.param("anchors", PROBS, OFFS, GOOD, id="anchors rank 2"),
        pytest.param("anchors", PROBS, OFFS, ANCHORS3[:, :1], id="anchors count"),
        pytest.param("anchors", PROBS, OFFS, a([[[0, 0, 1, 1], [1, 1, 0, 2]]]), id="anchors x2<x1"),
    ],
)
def test_multibox_detection_rejects(impl, argument, probs, offsets, anchors):
    _raises(impl.multibox_detection, argument, probs, offsets, anchors)


# --- zero-length axes: valid wherever the math is -------------------------------------

EMPTY = np.zeros((0, 4), F32)
NO_SCORES = np.zeros(0, F32)


def _zeros(*shape, dtype=np.float64):
    return np.zeros(shape, dtype)


# (case, call, expected results): N = 0 boxes, M = 0 boxes, A = 0 anchors, G = 0 ground
# truths, B = 0 images, H = 0 or W = 0 pixels. Empty results, or every entry "nothing".
ZERO_LENGTH = [
    ("box_iou N=0", lambda i: i.box_iou(EMPTY, GOOD), [_zeros(0, 2)]),
    ("box_iou M=0", lambda i: i.box_iou(GOOD, EMPTY), [_zeros(2, 0)]),
    ("box_iou N=M=0", lambda i: i.box_iou(EMPTY, EMPTY), [_zeros(0, 0)]),
    ("box_corner_to_center N=0", lambda i: i.box_corner_to_center(EMPTY), [_zeros(0, 4)]),
    ("box_center_to_corner N=0", lambda i: i.box_center_to_corner(EMPTY), [_zeros(0, 4)]),
    (
        "multibox_prior H=0",
        lambda i: i.multibox_prior(_zeros(0, 5), [0.5], [1, 2]),
        [_zeros(1, 0, 4)],
    ),
    (
        "multibox_prior W=0",
        lambda i: i.multibox_prior(_zeros(5, 0), [0.5], [1, 2]),
        [_zeros(1, 0, 4)],
    ),
    (
        "multibox_prior H=W=0",
        lambda i: i.multibox_prior(_zeros(1, 0, 0), [0.5], [1]),
        [_zeros(1, 0, 4)],
    ),
    ("assign_anchor_to_bbox G=0", lambda i: i.assign_anchor_to_bbox(EMPTY, GOOD), [[-1, -1]]),
    ("assign_anchor_to_bbox A=0", lambda i: i.assign_anchor_to_bbox(GOOD, EMPTY), [_zeros(0)]),
    ("assign_anchor_to_bbox A=G=0", lambda i: i.assign_anchor_to_bbox(EMPTY, EMPTY), [_zeros(0)]),
    ("offset_boxes A=0", lambda i: i.offset_boxes(EMPTY, EMPTY), [_zeros(0, 4)]),
    ("offset_inverse A=0", lambda i: i.offset_inverse(EMPTY, EMPTY), [_zeros(0, 4)]),
    (
        "multibox_target G=0",
        lambda i: i.multibox_target(ANCHORS3, _zeros(2, 0, 5)),
        [_zeros(2, 8), _zeros(2, 8), _zeros(2, 2)],
    ),
    (
        "multibox_target A=0",
        lambda i: i.multibox_target(EMPTY[None], LABELS_OK),
        [_zeros(1, 0), _zeros(1, 0), _zeros(1, 0)],
    ),
    (
        "multibox_target B=0",
        lambda i: i.multibox_target(ANCHORS3, _zeros(0, 1, 5)),
        [_zeros(0, 8), _zeros(0, 8), _zeros(0, 2)],
    ),
    (
        "multibox_target B=0 G=0",
        lambda i: i.multibox_target(ANCHORS3, _zeros(0, 0, 5)),
        [_zeros(0, 8), _zeros(0, 8), _zeros(0, 2)],
    ),
    ("nms N=0", lambda i: i.nms(EMPTY, NO_SCORES, 0.5), [_zeros(0)]),
    ("nms_padded N=0", lambda i: i.nms_padded(EMPTY, NO_SCORES, 0.5, 3), [[-1, -1, -1], 0]),
    ("nms_padded N=0 k=0", lambda i: i.nms_padded(EMPTY, NO_SCORES, 0.5, 0), [_zeros(0), 0]),
    ("nms_keep_mask N=0", lambda i: i.nms_keep_mask(EMPTY, NO_SCORES, 0.5), [_zeros(0)]),
    (
        "multibox_detection A=0",
        lambda i: i.multibox_detection(_zeros(2, 3, 0), _zeros(2, 0), EMPTY[None]),
        [_zeros(2, 0, 6)],
    ),
    (
        "multibox_detection B=0",
        lambda i: i.multibox_detection(_zeros(0, 2, 2), _zeros(0, 8), ANCHORS3),
        [_zeros(0, 2, 6)],
    ),
    (
        "multibox_detection B=A=0",
        lambda i: i.multibox_detection(_zeros(0, 2, 0), _zeros(0, 0), EMPTY[None]),
        [_zeros(0, 0, 6)],
    ),
]


@pytest.mark.parametrize(
    "case, call, expected", ZERO_LENGTH, ids=[case for case, _, _ in ZERO_LENGTH]
)
def test_zero_length_axes(impl, case, call, expected):
    got = call(impl)
    got = got if isinstance(got, tuple) else (got,)
    assert len(got) == len(expected), case
    for g, e in zip(got, expected, strict=True):
        g, e = np.asarray(g), np.asarray(e)
        assert g.shape == e.shape and np.array_equal(g, e), f"{case}: got {g!r}, expected {e!r}"


def test_multibox_target_all_padding_is_background(impl):
    # keras-cv #845: an all-padding batch produced NaN.
    offsets, mask, classes = impl.multibox_target(ANCHORS3, np.full((2, 3, 5), -1, F32))
    assert np.isfinite(np.asarray(offsets)).all() and not np.asarray(offsets).any()
    assert not np.asarray(mask).any()
    assert np.asarray(classes).tolist() == [[0, 0], [0, 0]]
