"""Properties of class-aware NMS, ``batched_nms`` and ``batched_nms_padded`` (CONTRACT.md §3.2).

``batched_nms(boxes, scores, idxs, t)``: NMS (§2.8) within each class ``idxs``, boxes of
different classes never suppress each other, the kept boxes listed by descending score, equal
scores by ascending index. Its twin ``batched_nms_padded`` takes ``(B, N, ...)`` batches, a
static ``max_output_size`` and an optional ``score_threshold`` (candidates score strictly
above it) and returns indices padded with -1 and counts.

Exactness: lattice boxes (including boxes translated by whole lattice steps, up to ``2**16``
away and into negative coordinates: coordinates stay multiples of 1/64 below ``2**17``, so
intersections, areas and IoUs are computed exactly) with dyadic thresholds: every decision
must match bit for bit. Off the lattice, a decision whose IoU is within ``IOU_MARGIN`` of the
threshold may go either way (the margin of ``test_nms.py``): there the tests compare only
problems without such a pair.

The coordinate-offset trick (``boxes + idxs * (max + 1)``, torchvision's and detectron2's
fast path) is what the translation properties are for: with every coordinate below 0 the
offset ``max + 1`` may be smaller than the boxes' extent, so classes overlap; with large
offsets a float32 coordinate loses the bits that separated two boxes (PITFALLS.md, "Beyond
the chapter").

Shapes: ``N`` from the size buckets; ``B`` 1 to 3 for the twin, ``max_output_size`` from 5
values per ``N``.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import reference

from .asserts import Call, assert_equal, check
from .laws import visiting_rank
from .strategies import (
    BatchedNmsProblem,
    batched_nms_problems,
    class_labels,
    lattice_translations,
    padded_batches,
    sizes,
)
from .test_nms import IOU_MARGIN, check_indices

F32 = np.float32


@pytest.fixture(autouse=True)
def _needs_the_function(impl, request):
    """Skip before Hypothesis draws anything when the implementation lacks the function."""
    name = "batched_nms_padded" if "padd" in request.node.name else "batched_nms"
    if not impl.has(name):
        pytest.skip(f"{name} not provided by {impl.name}")


def batched_call(impl, p: BatchedNmsProblem, boxes=None) -> Call:
    return Call(
        impl,
        "batched_nms",
        boxes=p.boxes if boxes is None else boxes,
        scores=p.scores,
        idxs=p.idxs,
        iou_threshold=p.iou_threshold,
    )


def ambiguous(p: BatchedNmsProblem) -> bool:
    """Off the lattice: two boxes of one class with an IoU within the margin of ``t``."""
    if p.exact or len(p.boxes) < 2:
        return False
    iou = reference.box_iou(p.boxes, p.boxes)
    near = (np.abs(iou - p.iou_threshold) <= IOU_MARGIN) & (p.idxs[:, None] == p.idxs[None, :])
    np.fill_diagonal(near, False)
    return bool(near.any())


def merge_by_score(kept: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """Indices ordered by descending score, equal scores by ascending index."""
    kept = np.asarray(kept, dtype=np.int64)
    rank = visiting_rank(scores)
    return kept[np.argsort(rank[kept], kind="stable")]


def pair_of_classes(b, idxs) -> BatchedNmsProblem:
    """Two lattice boxes with scores 0.5 and 0.25 at threshold 0.5."""
    return BatchedNmsProblem(np.array(b, F32), np.array([0.5, 0.25], F32), np.array(idxs),
                             0.5, True)  # fmt: skip


def alone_in_a_bucket(p: BatchedNmsProblem, members: np.ndarray):
    """The boxes ``members`` alone, padded back to ``len(p.boxes)`` boxes (a size bucket: a
    jitted implementation compiles no new shape) with zero-area boxes at the origin, of
    their class and scoring below them all. Visited after the members, they change nothing
    for them (whatever the implementation does with them); callers drop their indices
    (``>= len(members)``) from the result."""
    n, k = len(p.boxes), len(members)
    s = p.scores[members]
    low = float(s.min()) - max(1.0, abs(float(s.min()))) if k else 0.0
    return (
        np.concatenate([p.boxes[members], np.zeros((n - k, 4), F32)]),
        np.concatenate([s, np.full(n - k, low, F32)]),
        np.concatenate([p.idxs[members], np.full(n - k, p.idxs[members][0] if k else 0)]),
    )


def either_lattice():
    return st.one_of(batched_nms_problems(lattice=True), batched_nms_problems(lattice=False))


# --- equivalence -----------------------------------------------------------------------------


@given(p=either_lattice())
@example(  # two identical boxes of different classes: both kept, the higher score first
    p=BatchedNmsProblem(
        np.array([[0, 0, 1, 1], [0, 0, 1, 1], [0, 0, 1, 1]], F32),
        np.array([0.5, 0.75, 0.75], F32),
        np.array([3, 7, 3]),
        0.5,
        True,
    )
)
def test_batched_nms_matches_reference(impl, p):
    """The kept indices equal the reference's: bit for bit on the lattice, and off it
    wherever no pair of one class has an IoU within the margin of the threshold."""
    call = batched_call(impl, p)
    got = call()
    check_indices(got, len(p.boxes), call)
    if not ambiguous(p):
        expected = reference.batched_nms(p.boxes, p.scores, p.idxs, p.iou_threshold)
        assert_equal(got, expected, call, what="kept indices")


@given(p=batched_nms_problems(lattice=True))
def test_batched_nms_is_per_class_nms_merged_by_score(impl, p):
    """``batched_nms`` is the implementation's own ``nms`` run on each class alone, the kept
    boxes merged by descending score, ties by index (exact on the lattice)."""
    kept = []
    for c in np.unique(p.idxs):
        members = np.flatnonzero(p.idxs == c)
        b, s, _ = alone_in_a_bucket(p, members)
        k = np.asarray(Call(impl, "nms", boxes=b, scores=s, iou_threshold=p.iou_threshold)(),
                       dtype=np.int64)  # fmt: skip
        kept.append(members[k[k < len(members)]])
    expected = merge_by_score(np.concatenate(kept) if kept else np.zeros(0), p.scores)
    call = batched_call(impl, p)
    assert_equal(call(), expected, call, what="kept indices vs nms per class, merged by score")


# --- laws ------------------------------------------------------------------------------------


def translations() -> st.SearchStrategy[tuple[float, float]]:
    """``(tx, ty)`` in whole lattice steps: anywhere within 64; into negative coordinates
    (every coordinate between -4 and 0, where ``max + 1`` is about the boxes' extent or
    less); or far, up to ``2**16`` either way."""
    near_zero = st.integers(-256, -64).map(lambda k: k / 64)
    return st.one_of(
        st.tuples(lattice_translations(), lattice_translations()),
        st.tuples(near_zero, near_zero),
        st.tuples(lattice_translations(2**22), lattice_translations(2**22)),
    )


@given(p=batched_nms_problems(lattice=True), shift=translations())
@example(  # every coordinate below 0, the largest at -1: max + 1 = 0, no offset at all
    p=pair_of_classes([[0, 0, 1, 1], [0, 0, 1, 1]], [0, 1]), shift=(-2.0, -2.0)
)
@example(  # large offsets: float32 coordinates of 2**16 + k / 64
    p=pair_of_classes([[0, 0, 1, 1], [0.015625, 0, 1.015625, 1]], [0, 2]), shift=(65536.0, 0.0)
)
def test_batched_nms_is_translation_invariant(impl, p, shift):
    """Translating every box by the same lattice vector (up to ``2**16`` away, into negative
    coordinates too) keeps exactly the same boxes: IoUs do not change. Catches the
    coordinate-offset trick, which separates the classes only when every box lies above
    ``-1`` (torchvision's offset ``max + 1``)."""
    tx, ty = shift
    shift = np.array([tx, ty, tx, ty], np.float64)
    moved = (p.boxes.astype(np.float64) + shift).astype(F32)
    check(
        np.array_equal(moved.astype(np.float64), p.boxes.astype(np.float64) + shift),
        "test bug: translated lattice boxes not exact in float32",
        None,
    )
    before = batched_call(impl, p)()
    call = batched_call(impl, p, boxes=moved)
    assert_equal(call(), before, call, what=f"kept indices after translating by ({tx}, {ty})")


@given(p=batched_nms_problems(lattice=True), data=st.data())
def test_batched_nms_classes_are_independent(impl, p, data):
    """The boxes kept from class ``c`` are those kept when class ``c`` is alone: removing
    every other class changes nothing for it (same indices, in the same order)."""
    if not len(p.boxes):
        return
    c = data.draw(st.sampled_from(sorted(set(p.idxs.tolist()))), label="class")
    members = np.flatnonzero(p.idxs == c)
    alone = BatchedNmsProblem(*alone_in_a_bucket(p, members), p.iou_threshold, True)
    k = np.asarray(batched_call(impl, alone)(), dtype=np.int64)
    expected = members[k[k < len(members)]]
    call = batched_call(impl, p)
    got = call()
    assert_equal(got[p.idxs[got] == c], expected, call, what=f"kept boxes of class {c}")


@given(p=batched_nms_problems(lattice=True))
def test_batched_nms_of_one_class_is_nms(impl, p):
    """With a single class, ``batched_nms`` is ``nms``, whatever the class's value."""
    label = np.full(len(p.boxes), -5 if len(p.boxes) % 2 else 12, dtype=np.int64)
    one = p._replace(idxs=label)
    call = batched_call(impl, one)
    expected = Call(impl, "nms", boxes=p.boxes, scores=p.scores, iou_threshold=p.iou_threshold)()
    assert_equal(call(), expected, call, what="batched_nms of one class vs nms")


@given(p=batched_nms_problems(lattice=True), data=st.data())
def test_batched_nms_depends_only_on_the_partition(impl, p, data):
    """Renaming the classes (any one-to-one map of the labels, negative ones included)
    changes nothing: only which boxes share a class matters."""
    labels = sorted(set(p.idxs.tolist()))
    new = data.draw(st.permutations([-9, -1, 0, 3, 50, 1000][: len(labels)]), label="new labels")
    renamed = p._replace(idxs=np.array([new[labels.index(c)] for c in p.idxs], dtype=np.int64))
    before = batched_call(impl, p)()
    call = batched_call(impl, renamed)
    assert_equal(call(), before, call, what="kept indices after renaming the classes")


@given(p=batched_nms_problems(lattice=True))
def test_batched_nms_follows_score_order(impl, p):
    """The result lists the kept boxes by descending score, equal scores by ascending index,
    across classes."""
    call = batched_call(impl, p)
    got = np.asarray(call(), dtype=np.int64)
    assert_equal(got, merge_by_score(got, p.scores), call, what="kept indices vs score order")


# --- bad input -------------------------------------------------------------------------------

_B = [[0, 0, 1, 1], [0, 0, 1, 1]]
BAD_CASES = [
    ("idxs", _B, [1, 2], [0.5, 1], 0.5),  # not a whole number
    ("idxs", _B, [1, 2], [np.nan, 1], 0.5),
    ("idxs", _B, [1, 2], [0, 1, 2], 0.5),  # wrong length
    ("idxs", _B, [1, 2], ["a", "b"], 0.5),
    ("scores", _B, [1, np.inf], [0, 1], 0.5),
    ("scores", _B, [1], [0, 1], 0.5),
    ("boxes", [[1, 0, 0, 1]], [1], [0], 0.5),
    ("iou_threshold", _B, [1, 2], [0, 1], 1.5),
]


@pytest.mark.parametrize(("name", "b", "s", "idxs", "t"), BAD_CASES)
def test_batched_nms_rejects_bad_input(impl, name, b, s, idxs, t):
    """``ValueError`` naming the argument: class labels that are not whole numbers (or not
    numbers), mismatched lengths, non-finite scores, invalid boxes, thresholds outside
    ``[0, 1]``."""
    idx_arr = np.asarray(idxs) if not isinstance(idxs[0], float) else np.asarray(idxs, F32)
    call = Call(impl, "batched_nms", boxes=np.asarray(b, F32), scores=np.asarray(s, F32),
                idxs=idx_arr, iou_threshold=t)  # fmt: skip
    with pytest.raises(ValueError, match=f"^{name}"):
        call()


def test_batched_nms_of_no_boxes_is_empty(impl):
    call = Call(impl, "batched_nms", boxes=np.zeros((0, 4), F32), scores=np.zeros(0, F32),
                idxs=np.zeros(0, np.int64), iou_threshold=0.5)  # fmt: skip
    got = call()
    check(got.shape == (0,), f"shape: got {got.shape}, expected (0,)", call)


# --- the static twin -------------------------------------------------------------------------


def padded_call(impl, pb) -> Call:
    return Call(impl, "batched_nms_padded", **pb._asdict())  # the fields are the arguments


def expected_padded(pb) -> tuple[np.ndarray, np.ndarray]:
    """Per image: ``batched_nms`` of the candidates (score strictly above the threshold), cut
    at ``max_output_size``, padded with -1 (computed from the eager reference)."""
    batch, n = pb.scores.shape
    out = np.full((batch, pb.max_output_size), -1, np.int64)
    counts = np.zeros(batch, np.int64)
    for b in range(batch):
        cand = np.arange(n)
        if pb.score_threshold is not None:
            cand = cand[pb.scores[b] > pb.score_threshold]
        kept = reference.batched_nms(pb.boxes[b, cand], pb.scores[b, cand], pb.idxs[b, cand],
                                     pb.iou_threshold)  # fmt: skip
        kept = cand[kept][: pb.max_output_size]
        out[b, : len(kept)] = kept
        counts[b] = len(kept)
    return out, counts


@given(pb=padded_batches())
def test_batched_nms_padded_is_prefix_of_batched_nms(impl, pb):
    """Each image's row is the first ``max_output_size`` indices of ``batched_nms`` over its
    candidates, then -1; ``counts`` says how many are valid (exact on the lattice)."""
    call = padded_call(impl, pb)
    indices, counts = call()
    expected, expected_counts = expected_padded(pb)
    assert_equal(indices, expected, call, what="padded indices")
    assert_equal(counts, expected_counts, call, what="counts")


@given(pb=padded_batches())
def test_batched_nms_padding_is_never_a_valid_index(impl, pb):
    """Every entry past ``counts[b]`` is -1 and every entry before it a distinct index in
    ``[0, N)``: padding can never be mistaken for a box (TensorFlow's padded NMS pads with
    index 0, tensorflow/tensorflow #55323)."""
    call = padded_call(impl, pb)
    indices, counts = call()
    batch, n = pb.scores.shape
    shape = (batch, pb.max_output_size)
    check(indices.shape == shape, f"indices: shape {indices.shape}, expected {shape}", call)
    for b in range(batch):
        k = int(counts[b])
        check(0 <= k <= min(n, pb.max_output_size), f"counts[{b}] = {k} out of range", call)
        valid, pad = indices[b, :k], indices[b, k:]
        check(bool(np.all(pad == -1)), f"image {b}: padding {pad.tolist()} is not all -1", call)
        distinct = bool(np.all((valid >= 0) & (valid < n))) and len(set(valid.tolist())) == k
        check(distinct, f"image {b}: {valid.tolist()} are not distinct indices in [0, {n})", call)


@given(pb=padded_batches(batch=st.just(3)))
def test_batched_nms_padded_images_are_independent(impl, pb):
    """Each image of a batch gets what it gets alone (ONNX Runtime's NMS was wrong only with
    batch > 1 and classes > 1, microsoft/onnxruntime #1610)."""
    indices, counts = padded_call(impl, pb)()
    for b in range(3):
        one = pb._replace(boxes=pb.boxes[b : b + 1], scores=pb.scores[b : b + 1],
                          idxs=pb.idxs[b : b + 1])  # fmt: skip
        call = padded_call(impl, one)
        alone, alone_count = call()
        assert_equal(indices[b : b + 1], alone, call, what=f"image {b} in the batch vs alone")
        assert_equal(counts[b : b + 1], alone_count, call, what=f"count of image {b}")


@given(n=sizes(13, min_size=1), data=st.data())
def test_batched_nms_padded_score_threshold_is_strict(impl, n, data):
    """A box whose score equals ``score_threshold`` is not a candidate: it is neither kept
    nor suppresses anything; ``score_threshold=None`` keeps every box a candidate."""
    b = np.tile(np.array([[0, 0, 1, 1]], F32), (n, 1)) + np.arange(n, dtype=F32)[:, None] * 2
    s = data.draw(st.permutations(np.arange(n, dtype=F32) / 8), label="scores")
    s = np.asarray(s, F32)
    idxs = data.draw(class_labels(n), label="idxs")
    t = float(data.draw(st.sampled_from(s.tolist()), label="score_threshold"))
    call = Call(impl, "batched_nms_padded", boxes=b[None], scores=s[None], idxs=idxs[None],
                iou_threshold=0.5, max_output_size=n, score_threshold=t)  # fmt: skip
    indices, counts = call()
    expected = np.flatnonzero(s > t)  # boxes apart: every candidate is kept
    expected = expected[np.argsort(-s[expected], kind="stable")]
    assert_equal(indices[0, : int(counts[0])], expected, call, what="kept (score > threshold)")
    call = Call(impl, "batched_nms_padded", boxes=b[None], scores=s[None], idxs=idxs[None],
                iou_threshold=0.5, max_output_size=n, score_threshold=None)  # fmt: skip
    check(int(call()[1][0]) == n, "score_threshold=None: every box (all apart) is kept", call)
