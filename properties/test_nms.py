"""Properties of ``nms(boxes, scores, iou_threshold) -> kept indices in selection order``.

The contract (CONTRACT.md §2.8): visit the boxes by descending score, equal scores by ascending
index; keep a box unless its IoU with an already kept box is ``> iou_threshold`` (strictly).

Together, three laws pin the result down completely (by induction over the visiting order):
the kept list follows the visiting order, no two kept boxes overlap with IoU ``> t``, and
every suppressed box overlaps a kept box visited before it with IoU ``> t``. Each is a test
here, next to exact equivalence with the reference and the pitfalls of PITFALLS.md ("NMS"): ties,
chains below 0.5, IoU exactly at the threshold, touching boxes at 0, boxes at or left of the
origin, unsorted input, empty input.

Exactness: on the lattice (multiples of 1/64) with dyadic thresholds every decision must match
the reference bit for bit. Off the lattice a decision whose IoU lies within ``IOU_MARGIN`` of
the threshold may go either way: there the result must still obey the laws, with the margin.

Conventions (CONTRACT.md §7, the ``conventions`` fixture): an implementation that declares
suppression at ``>=``, another tie order or another IoU is held to the reference computed under
its declaration, and to the laws with its comparison and its visiting order. Under the tie order
"any" equal scores have no single answer: problems with ties are then checked by the three laws
alone. An epsilon in the union takes the lattice's exactness away (every IoU is one rounding
further from the exact ratio): decisions are then compared with ``IOU_MARGIN``, as off the
lattice. The pitfall tests keep their explicit expectations under the contract's rules and
follow the reference under any other.

Shapes: ``N`` from ``SIZE_BUCKETS`` (at most 9 shapes), plus one large one (``MANY_BOXES``,
144 boxes: three tiles of a 64-box tiled NMS): at most 10 input shapes. (An eager ``nms``
that slices its padded result on the device may also compile one slice per kept count.)
"""

from __future__ import annotations

import numpy as np
from hypothesis import example, given, settings
from hypothesis import strategies as st

import reference
from properties.conventions import CONTRACT

from .asserts import Call, assert_equal, check
from .laws import (
    check_kept_do_not_overlap,
    check_suppressed_have_suppressor,
    visiting_rank,
)
from .strategies import (
    DYADIC_THRESHOLDS,
    SIZE_BUCKETS,
    Chain,
    NmsProblem,
    boxes,
    boxes_at_threshold,
    dyadic_thresholds,
    increasing_maps,
    nms_chains,
    nms_problems,
    nms_scores,
    nonpositive_boxes,
    sizes,
    touching_boxes,
)

F32 = np.float32
# A float32 IoU from float32 corners takes about 8 roundings of relative size 2**-24, with no
# cancellation (the union is at least the larger area): within 5e-7 of the exact IoU (<= 1),
# as long as nothing underflows, which ``offlattice_boxes`` guarantees (extents >= 2**-24, so
# areas are normal floats; XLA flushes subnormal ones to 0). Off the lattice, a decision with
# |IoU - t| within this margin may go either way.
IOU_MARGIN = 2e-6
# Larger problems than the size buckets, for the tiled code paths of a jitted NMS.
MANY_BOXES = (144,)


# --- helpers ------------------------------------------------------------------------------


def nms_call(impl, problem) -> Call:
    return Call(
        impl,
        "nms",
        boxes=problem.boxes,
        scores=problem.scores,
        iou_threshold=problem.iou_threshold,
    )


def exact(problem, conventions) -> bool:
    """Whether every decision of ``problem`` is exact: on the lattice with a dyadic threshold,
    and an IoU without an epsilon in the union."""
    return problem.exact and conventions.exact_on_lattice


def margin_of(problem, conventions) -> float:
    """The margin decisions get: 0 where they are exact, ``IOU_MARGIN`` otherwise."""
    return 0.0 if exact(problem, conventions) else IOU_MARGIN


def is_ambiguous(boxes: np.ndarray, t: float, exact: bool, conventions) -> bool:
    """True when some pair's IoU is within ``IOU_MARGIN`` of ``t`` (never for exact
    problems)."""
    if exact or len(boxes) < 2:
        return False
    iou = conventions.reference.box_iou(boxes, boxes)
    near = np.abs(iou - t) <= IOU_MARGIN
    np.fill_diagonal(near, False)
    return bool(near.any())


def has_ties(scores: np.ndarray) -> bool:
    return len(np.unique(scores)) < len(scores)


def one_answer(scores: np.ndarray, conventions) -> bool:
    """Whether the visiting order, so the kept list, is determined: not under the tie order
    "any" with equal scores."""
    return conventions.nms_ties != "any" or not has_ties(scores)


def contract_rules(conventions) -> bool:
    """Whether the conventions decide NMS as the contract does (the box format aside)."""
    return conventions.rules == CONTRACT.rules


def check_indices(got: np.ndarray, n: int, call: Call) -> None:
    """A 1-D list of distinct integer indices in ``[0, n)``."""
    __tracebackhide__ = True
    check(got.ndim == 1, f"kept indices: expected a 1-D array, got shape {got.shape}", call)
    if got.size == 0:
        return
    check(
        got.dtype.kind in "iu",
        f"kept indices: expected integers, got dtype {got.dtype} ({got.tolist()})",
        call,
    )
    check(
        bool(np.all((got >= 0) & (got < n))),
        f"kept indices: {got.tolist()} has entries outside [0, {n})",
        call,
    )
    check(
        len(np.unique(got)) == len(got),
        f"kept indices: {got.tolist()} lists a box more than once",
        call,
    )


def check_follows_visiting_order(got, scores, call: Call, ties: str = "lowest") -> None:
    """Law: the kept list is in visiting order (descending score, equal scores by ascending
    index, or by the declared tie order)."""
    __tracebackhide__ = True
    rank = visiting_rank(scores, ties)
    r = rank[got]
    bad = np.flatnonzero(np.diff(r) < 0 if ties == "any" else np.diff(r) <= 0)
    if bad.size:
        i = int(bad[0])
        a, b = int(got[i]), int(got[i + 1])
        order = {"lowest": "ascending", "highest": "descending"}.get(ties, "any")
        check(
            False,
            f"kept indices {got.tolist()}: box {b} (score {scores[b]!r}) is listed after box "
            f"{a} (score {scores[a]!r}) but is visited before it (descending score, equal "
            f"scores by {order} index)",
            call,
        )


def check_laws(got, problem, call: Call, conventions) -> None:
    __tracebackhide__ = True
    m = margin_of(problem, conventions)
    t = problem.iou_threshold
    check_indices(got, len(problem.scores), call)
    check_follows_visiting_order(got, problem.scores, call, conventions.nms_ties)
    check_kept_do_not_overlap(got, problem.boxes, t, m, call, conventions)
    check_suppressed_have_suppressor(got, problem.boxes, problem.scores, t, m, call, conventions)


def check_against_reference(got, problem, call: Call, conventions) -> None:
    """The reference's kept indices under the conventions wherever they are the only answer
    (an exact problem, or no pair within ``IOU_MARGIN`` of the threshold; and a determined
    visiting order), and the three laws wherever they are not."""
    __tracebackhide__ = True
    check_indices(got, len(problem.scores), call)
    is_exact = exact(problem, conventions)
    unique = one_answer(problem.scores, conventions)
    if not (is_exact and unique):
        check_laws(got, problem, call, conventions)
    if unique and not is_ambiguous(problem.boxes, problem.iou_threshold, is_exact, conventions):
        expected = conventions.reference.nms(problem.boxes, problem.scores, problem.iou_threshold)
        assert_equal(got, expected, call, what="kept indices")


def any_problem() -> st.SearchStrategy[NmsProblem]:
    return st.one_of(nms_problems(lattice=True), nms_problems(lattice=False))


# A chain at 0.3 (PITFALLS.md, NMS: 0 suppresses 1, 1 would suppress 2, 0 and 2 only touch).
CHAIN_EXAMPLE = NmsProblem(
    np.array([[0, 0, 4, 1], [2, 0, 6, 1], [4, 0, 8, 1]], F32) / F32(4),
    np.array([0.9, 0.8, 0.7], F32),
    0.25,
    exact=True,
)


# A chain at 0.25 of boxes of width 1/2 shifted by 1/4: neighbours have IoU (1/4) / (3/4) =
# 1/3 (<= 0.5: the case an NMS hard-coding 0.5 in its self-suppression gets wrong), boxes two
# apart IoU 0. Kept: 0, 2, 4.
HALF_CHAIN = Chain(
    np.array([[i / 4, 0, i / 4 + 0.5, 0.5] for i in range(5)], F32),
    np.array([0.9, 0.8, 0.7, 0.6, 0.5], F32),
    0.25,
    (0, 1, 2, 3, 4),
    exact=True,
)


# --- equivalence with the reference -------------------------------------------------------


@given(problem=nms_problems(lattice=True))
@example(problem=CHAIN_EXAMPLE)
def test_nms_matches_reference_on_lattice(impl, problem, conventions):
    """On the lattice with dyadic thresholds, scores distinct or tied: exactly the reference's
    kept indices, in the same order (under the declared conventions: see the module's
    docstring)."""
    call = nms_call(impl, problem)
    check_against_reference(call(), problem, call, conventions)


@given(problem=nms_problems(lattice=False))
def test_nms_matches_reference_off_lattice(impl, problem, conventions):
    """Float boxes, any threshold: the reference's kept indices whenever no pair has IoU within
    ``IOU_MARGIN`` of the threshold; otherwise the laws, with that margin."""
    call = nms_call(impl, problem)
    got = call()
    check_laws(got, problem, call, conventions)
    check_against_reference(got, problem, call, conventions)


@settings(max_examples=20)  # reference.nms is a Python loop: O(N^2) for 144 boxes
@given(
    problem=nms_problems(lattice=True, n=st.sampled_from(MANY_BOXES)),
)
def test_nms_matches_reference_many_boxes(impl, problem, conventions):
    """144 boxes (several tiles of a tiled NMS, chains across tiles): exactly the reference's
    kept indices."""
    call = nms_call(impl, problem)
    check_against_reference(call(), problem, call, conventions)


# --- the laws -----------------------------------------------------------------------------


@given(problem=any_problem())
def test_nms_kept_list_in_descending_score_order(impl, problem):
    """The kept indices are listed in descending score order (non-increasing scores)."""
    call = nms_call(impl, problem)
    got = call()
    check_indices(got, len(problem.scores), call)
    s = problem.scores[got]
    bad = np.flatnonzero(np.diff(s.astype(np.float64)) > 0)
    check(
        bad.size == 0,
        f"kept indices {got.tolist()}: scores {s.tolist()} are not in descending order "
        f"(box {int(got[bad[0] + 1]) if bad.size else -1} after a lower score)",
        call,
    )


@given(problem=any_problem())
def test_nms_kept_boxes_pairwise_iou_at_most_threshold(impl, problem, conventions):
    """No two kept boxes overlap with IoU ``> iou_threshold`` (``>=`` if declared; beyond
    ``IOU_MARGIN`` off the lattice)."""
    call = nms_call(impl, problem)
    got = call()
    check_indices(got, len(problem.scores), call)
    m = margin_of(problem, conventions)
    check_kept_do_not_overlap(got, problem.boxes, problem.iou_threshold, m, call, conventions)


@given(problem=any_problem())
@example(problem=CHAIN_EXAMPLE)
def test_nms_every_suppressed_box_has_an_earlier_kept_box_over_threshold(
    impl, problem, conventions
):
    """Each box not kept has IoU ``> iou_threshold`` (``>=`` if declared) with a kept box
    visited before it (so a box suppressed only by suppressed boxes, or by a later one, is a
    bug)."""
    call = nms_call(impl, problem)
    got = call()
    check_indices(got, len(problem.scores), call)
    check_suppressed_have_suppressor(
        got,
        problem.boxes,
        problem.scores,
        problem.iou_threshold,
        margin_of(problem, conventions),
        call,
        conventions,
    )


def bucket_above(k: int) -> int:
    """The smallest size bucket ``>= k`` (``k`` itself beyond the largest)."""
    return next((b for b in SIZE_BUCKETS if b >= k), k)


@given(problem=any_problem())
def test_nms_is_idempotent(impl, problem, conventions):
    """NMS of the kept boxes (in index order) keeps all of them, in the same order (under the
    tie order "any", in an order of non-increasing score).

    To keep the shapes in the size buckets, the kept boxes are followed by zero-area filler
    boxes with scores below all others: visited last, they cannot change what happens to the
    kept boxes, and whether they are kept themselves is not checked.
    """
    call = nms_call(impl, problem)
    got = call()
    check_indices(got, len(problem.scores), call)
    subset = np.sort(got)
    k = len(subset)
    fill = bucket_above(k) - k
    lowest = np.float32(problem.scores.min()) if k else F32(1)
    again_call = Call(
        impl,
        "nms",
        boxes=np.concatenate([problem.boxes[subset], np.zeros((fill, 4), F32)]),
        scores=np.concatenate([problem.scores[subset], np.full(fill, lowest - 1, F32)]),
        iou_threshold=problem.iou_threshold,
    )
    again = again_call()
    check_indices(again, k + fill, again_call)
    if is_ambiguous(
        problem.boxes[subset], problem.iou_threshold, exact(problem, conventions), conventions
    ):
        return  # a kept pair within rounding of the threshold: either answer is fine
    mapped = subset[again[again < k]]  # the kept boxes among the kept, in original indices
    if one_answer(problem.scores[subset], conventions):
        same = np.array_equal(mapped, got)
    else:  # equal scores in any order: the same boxes, by non-increasing score
        scores = problem.scores[mapped].astype(np.float64)
        same = np.array_equal(np.sort(mapped), subset) and bool(np.all(np.diff(scores) <= 0))
    check(
        same,
        f"NMS of the kept boxes {subset.tolist()} (of nms(boxes, scores) = {got.tolist()}, "
        f"then {fill} fillers numbered from {k}) keeps {mapped.tolist()} of them: it should "
        f"keep all of them, in the order {got.tolist()}",
        again_call,
    )


@given(problem=any_problem(), data=st.data())
def test_nms_invariant_under_increasing_score_maps(impl, problem, data, conventions):
    """Any strictly increasing map of the scores (negative, huge, tiny values; ties kept
    tied) gives the same kept indices: only the order of the scores matters. (Under the tie
    order "any" with equal scores, the mapped problem is held to the laws instead.)"""
    levels, inverse = np.unique(problem.scores, return_inverse=True)
    mapped = data.draw(increasing_maps(len(levels)), label="mapped levels")[inverse]
    mapped = mapped.reshape(problem.scores.shape).astype(F32)
    got = nms_call(impl, problem)()
    call = Call(
        impl, "nms", boxes=problem.boxes, scores=mapped, iou_threshold=problem.iou_threshold
    )
    if one_answer(problem.scores, conventions):
        assert_equal(call(), got, call, what="kept indices with the mapped scores")
    else:
        check_laws(call(), problem._replace(scores=mapped), call, conventions)


@given(problem=nms_problems(lattice=True, scores="distinct"), data=st.data())
def test_nms_unsorted_input(impl, problem, data):
    """Input in any order: permuting the boxes (with their scores) permutes the kept indices
    accordingly (distinct scores, so the visiting order does not change)."""
    n = len(problem.scores)
    perm = np.asarray(data.draw(st.permutations(range(n)), label="perm"), dtype=np.int64)
    got = nms_call(impl, problem)()
    call = Call(
        impl,
        "nms",
        boxes=problem.boxes[perm],
        scores=problem.scores[perm],
        iou_threshold=problem.iou_threshold,
    )
    permuted = call()
    check_indices(permuted, n, call)
    check(
        np.array_equal(perm[permuted], got),
        f"with the input permuted by {perm.tolist()}, the kept boxes are (in original indices) "
        f"{perm[permuted].tolist()}, but unpermuted they are {got.tolist()}",
        call,
    )


@given(
    problem=nms_problems(
        lattice=True, n=st.one_of(sizes(34, min_size=17), sizes(13, min_size=2)), scores="tied"
    )
)
@example(  # 17 equal disjoint boxes at threshold 1: the kept list is the visiting order
    problem=NmsProblem(
        np.array([[i / 16, 0, i / 16 + 1 / 64, 1 / 64] for i in range(17)], F32),
        np.full(17, 0.5, F32),
        1.0,
        exact=True,
    )
)
def test_nms_score_ties_go_to_lower_index(impl, problem, conventions):
    """Equal scores are visited by ascending index (or by the declared tie order): the kept
    list follows (-score, index), every suppressed box has a kept box visited before it with
    IoU > t, and the kept indices are the reference's. Ties come in groups of more than 16
    often (an unstable sort, such as NumPy's default quicksort, reorders those), at threshold 1
    (nothing is suppressed, so the kept list is the whole visiting order) among others."""
    n = len(problem.scores)
    call = nms_call(impl, problem)
    got = call()
    check_indices(got, n, call)
    check_follows_visiting_order(got, problem.scores, call, conventions.nms_ties)
    m = margin_of(problem, conventions)
    t = problem.iou_threshold
    check_suppressed_have_suppressor(got, problem.boxes, problem.scores, t, m, call, conventions)
    check_against_reference(got, problem, call, conventions)


# --- pitfalls -----------------------------------------------------------------------------


@given(chain=nms_chains())
@example(chain=HALF_CHAIN)
def test_nms_suppression_chains_keep_every_other_box(impl, chain, conventions):
    """Chains (A suppresses B, B overlaps C, A does not overlap C) keep C: of a chain visited
    in order, exactly every other box is kept, at thresholds below 0.5 too (where one NMS
    hard-codes 0.5), with unrelated boxes around and the input shuffled. (The chain is built
    for the contract's IoU and ``>``; under other rules the reference under them decides.)"""
    call = Call(
        impl, "nms", boxes=chain.boxes, scores=chain.scores, iou_threshold=chain.iou_threshold
    )
    got = call()
    check_indices(got, len(chain.scores), call)
    if contract_rules(conventions):
        members = set(chain.chain)
        kept_chain = [int(i) for i in got if int(i) in members]
        check(
            kept_chain == list(chain.chain[0::2]),
            f"chain {list(chain.chain)} (each box overlaps the next with IoU > "
            f"{chain.iou_threshold}, boxes two apart do not): kept {kept_chain} of it, "
            f"expected every other box {list(chain.chain[0::2])}",
            call,
        )
    problem = NmsProblem(chain.boxes, chain.scores, chain.iou_threshold, chain.exact)
    check_against_reference(got, problem, call, conventions)


@given(pair=boxes_at_threshold(), tie=st.booleans())
def test_nms_iou_exactly_at_threshold_is_kept(impl, pair, tie, conventions):
    """Two boxes whose IoU is exactly the (dyadic) threshold are both kept: suppression is
    strictly ``IoU > iou_threshold`` (at 0: touching boxes; at 1: identical boxes). Declared
    ``>=``: only the first visited is kept. (Under another IoU the pair is not at the threshold:
    the reference under the conventions decides.)"""
    b, t = pair
    s = np.array([0.5, 0.5] if tie else [0.75, 0.5], F32)
    call = Call(impl, "nms", boxes=b, scores=s, iou_threshold=t)
    got = call()
    iou = float(reference.box_iou(b, b)[0, 1])
    rules = conventions.rules
    if rules.union_eps or rules.pixel_offset:
        check_against_reference(got, NmsProblem(b, s, t, exact=True), call, conventions)
        return
    # The visiting orders the tie order allows: with equal scores, by the declared order.
    ties = {"lowest": [[0, 1]], "highest": [[1, 0]], "any": [[0, 1], [1, 0]]}
    orders = ties[rules.ties] if tie else [[0, 1]]
    allowed = [order[:1] if rules.suppress_at_threshold else order for order in orders]
    expected = next((a for a in allowed if got.tolist() == a), allowed[0])
    what = f"kept indices (IoU {iou!r} == iou_threshold, suppression at {rules_text(rules)})"
    assert_equal(got, expected, call, what=what)


def rules_text(rules) -> str:
    return "IoU >= t" if rules.suppress_at_threshold else "IoU > t"


@given(b=touching_boxes(), data=st.data())
def test_nms_touching_boxes_kept_at_threshold_zero(impl, b, data, conventions):
    """At threshold 0, boxes that only touch (shared edges and corners, zero-area boxes on
    the shared lines) have IoU 0 and are all kept, in visiting order. (Under other rules, such
    as ``>=``, which suppresses IoU 0 at threshold 0, the reference under them decides.)"""
    s = data.draw(st.sampled_from(["tied", "distinct"]), label="scores")
    scores = (
        np.full(len(b), 0.5, F32)
        if s == "tied"
        else (np.asarray(data.draw(st.permutations(range(len(b)))), F32) + 1) / F32(64)
    )
    call = Call(impl, "nms", boxes=b, scores=scores, iou_threshold=0.0)
    got = call()
    if not contract_rules(conventions):
        check_against_reference(got, NmsProblem(b, scores, 0.0, exact=True), call, conventions)
        return
    expected = np.lexsort((np.arange(len(b)), -scores.astype(np.float64)))
    assert_equal(got, expected, call, what="kept indices (every box only touches the others)")


@given(b=nonpositive_boxes(), data=st.data())
def test_nms_nonpositive_boxes_are_like_any_other(impl, b, data, conventions):
    """Boxes with every coordinate <= 0 (the origin point, boxes ending at the origin) are
    handled like any other: the reference's kept indices, and the same as for the boxes moved
    by (+2, +2) (translation by a lattice amount changes no IoU)."""
    n = len(b)
    scores = data.draw(nms_scores(n), label="scores")
    t = data.draw(dyadic_thresholds(), label="iou_threshold")
    call = Call(impl, "nms", boxes=b, scores=scores, iou_threshold=t)
    got = call()
    check_against_reference(got, NmsProblem(b, scores, t, exact=True), call, conventions)
    moved_call = Call(impl, "nms", boxes=b + F32(2), scores=scores, iou_threshold=t)
    moved = moved_call()
    if one_answer(scores, conventions):
        assert_equal(got, moved, call, what="kept indices (vs the boxes moved by +2)")
    else:
        check_against_reference(
            moved, NmsProblem(b + F32(2), scores, t, True), moved_call, conventions
        )


@given(t=st.sampled_from(DYADIC_THRESHOLDS + (0.3,)))
def test_nms_empty_input(impl, t):
    """No boxes: no kept indices (an empty 1-D result, not an error)."""
    call = Call(impl, "nms", boxes=np.zeros((0, 4), F32), scores=np.zeros(0, F32), iou_threshold=t)
    got = call()
    assert_equal(got, np.zeros(0, np.int64), call, what="kept indices of no boxes")


@given(b=boxes(sizes(34, min_size=1)), t=dyadic_thresholds())
def test_nms_single_score_keeps_lowest_index_of_identical_boxes(impl, b, t, conventions):
    """Copies of one box with one score: below threshold 1 only the first (lowest index) is
    kept; at 1 all are (IoU 1 is not > 1), in index order. (Under other rules, the reference
    under them and the laws decide.)"""
    copies = np.repeat(b[:1], len(b), axis=0)
    scores = np.full(len(b), 0.25, F32)
    call = Call(impl, "nms", boxes=copies, scores=scores, iou_threshold=t)
    got = call()
    if not contract_rules(conventions):
        check_against_reference(got, NmsProblem(copies, scores, t, exact=True), call, conventions)
        return
    area = float((b[0, 2] - b[0, 0]) * (b[0, 3] - b[0, 1]))
    # A zero-area box has IoU 0 with its copies: all kept.
    expected = np.arange(len(b)) if (t == 1.0 or area == 0) else np.arange(1)
    assert_equal(got, expected, call, what="kept indices of identical boxes with equal scores")
