"""Properties of ``multibox_detection(cls_probs, offset_preds, anchors, nms_threshold,
pos_threshold) -> (B, A, 6)`` rows ``(class_id, conf, x1, y1, x2, y2)``.

The contract (CONTRACT.md §2.9), per image: ``conf`` is the max over classes ``1..C`` and
``class_id`` its argmax minus 1 (the first on ties); the boxes are the anchors decoded by
``offset_inverse``; NMS at ``nms_threshold`` on those boxes with ``conf`` as scores; the rows
are the kept anchors in selection order, then the others by ascending anchor index with
``class_id = -1``; finally every row with ``conf < pos_threshold`` gets ``class_id = -1`` and
``conf = 1 - conf``.

Exactness: lattice anchors, lattice probabilities (k / 64, ties common) and zero or
lattice-friendly offsets (the decoded boxes stay on a finer lattice) with a dyadic NMS
threshold make every decision exact: class ids and row order must be the reference's, conf
and boxes close. With float offsets only the laws that hold whatever the NMS decides are
checked (every row is a distinct anchor: its decoded box, its confidence, its class or -1).

Conventions (CONTRACT.md §7, the ``conventions`` fixture): detection runs NMS, so the declared
suppression (``>=``), tie order and IoU decide which anchors are kept and in which order they
come: the kept set is judged by NMS's laws under them, the kept rows by the declared visiting
order, and the rows against the reference computed under them. Under the tie order "any" with
equal confidences, or with an epsilon in the union (which takes the lattice's exactness away),
the rows have no single answer and only the laws are checked. Steps 1, 4 and 5 (class ids, the
suppressed rows by anchor index, the flip below ``pos_threshold``) do not depend on them.

Shapes: ``(B, C+1, A)`` from ``BATCH_CLASSES`` x ``DETECTION_ANCHORS`` of
``strategies``: at most 12 shapes, so at most 12 compiles of a jitted detection.
"""

from __future__ import annotations

import numpy as np
from hypothesis import example, given
from hypothesis import strategies as st

import reference

from .asserts import Call, assert_close, assert_equal, check, tolerance
from .laws import check_kept_do_not_overlap, check_suppressed_have_suppressor
from .strategies import DetectionProblem, detection_problems

F32 = np.float32
# Off exactness (an epsilon in the union), a decision whose IoU lies within this of the threshold
# may go either way (the margin of test_nms.py).
IOU_MARGIN = 2e-6


# --- helpers ------------------------------------------------------------------------------


def det_call(impl, p: DetectionProblem, **override) -> Call:
    args = p.args() | override
    return Call(impl, "multibox_detection", **args)


def expected_of(p: DetectionProblem, conventions, **override) -> np.ndarray:
    args = dict(
        cls_probs=p.cls_probs,
        offset_preds=p.offset_preds,
        anchors=p.anchors,
        nms_threshold=p.nms_threshold,
        pos_threshold=p.pos_threshold,
    )
    args.update(override)
    return conventions.reference.multibox_detection(*args.values())


def one_answer(p: DetectionProblem, conventions) -> bool:
    """Whether the rows are determined: decisions exact (no epsilon in the union) and, under the
    tie order "any", no two anchors of an image with equal confidence."""
    if not conventions.exact_on_lattice:
        return False
    if conventions.nms_ties != "any":
        return True
    conf = p.cls_probs[:, 1:].max(axis=1)
    return all(len(np.unique(c)) == len(c) for c in conf)


def per_anchor(p: DetectionProblem, b: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Image ``b``'s confidence, first-argmax class and decoded box of every anchor."""
    probs = p.cls_probs[b, 1:].astype(np.float64)
    conf = probs.max(axis=0) if probs.shape[1] else np.zeros(0)
    cls = probs.argmax(axis=0) if probs.shape[1] else np.zeros(0, np.int64)
    anchors = p.anchors[0]
    decoded = reference.offset_inverse(anchors, p.offset_preds[b].reshape(-1, 4))
    return conf, cls, decoded


def check_shape(got: np.ndarray, p: DetectionProblem, call: Call) -> None:
    __tracebackhide__ = True
    b, _, a = p.cls_probs.shape
    check(got.shape == (b, a, 6), f"detections: shape {got.shape}, expected {(b, a, 6)}", call)


def _bipartite(compatible: np.ndarray) -> np.ndarray | None:
    """A perfect matching rows -> anchors of a boolean ``(A, A)`` matrix, or None."""
    n = compatible.shape[0]
    owner = np.full(n, -1)  # anchor -> row

    def augment(r: int, seen: np.ndarray) -> bool:
        for a in np.flatnonzero(compatible[r]):
            if seen[a]:
                continue
            seen[a] = True
            if owner[a] < 0 or augment(int(owner[a]), seen):
                owner[a] = r
                return True
        return False

    for r in range(n):
        if not augment(r, np.zeros(n, dtype=bool)):
            return None
    perm = np.empty(n, dtype=np.int64)
    perm[owner] = np.arange(n)
    return perm


def _canonical(
    perm: np.ndarray, compatible: np.ndarray, kept: np.ndarray, ties: str = "lowest"
) -> np.ndarray:
    """Rows that cannot be told apart get anchors in the order the contract puts them: while two
    rows hold anchors in the wrong order and could swap (each is compatible with the other's
    anchor), swap them. Suppressed rows (class -1) take anchors by ascending index (step 4); a
    kept row the anchor NMS visits first among equals (the lower index, or the higher under the
    declared tie order "highest"; under "any", whichever leaves the suppressed rows in order).
    Laws about anchor order then do not depend on which of several equivalent matchings was
    found (identical anchors with equal confidences)."""
    out = perm.copy()
    n = len(out)

    def inversions() -> int:  # pairs of suppressed rows out of anchor order
        rest = out[~kept]
        return int(np.triu(rest[:, None] > rest[None, :], 1).sum())

    def wrong_order(r1: int, r2: int) -> bool:
        a1, a2 = out[r1], out[r2]
        if not kept[r1] or ties == "lowest":
            return a1 > a2
        if ties == "highest":
            return a1 < a2
        if kept[r2]:
            return False  # "any": equal kept rows come in any order
        before = inversions()  # "any": a kept row and a suppressed one swap if that sorts the rest
        out[r1], out[r2] = a2, a1
        better = inversions() < before
        out[r1], out[r2] = a1, a2
        return better

    changed = True
    while changed:
        changed = False
        for r1 in range(n):
            for r2 in range(r1 + 1, n):
                a1, a2 = out[r1], out[r2]
                if compatible[r1, a2] and compatible[r2, a1] and wrong_order(r1, r2):
                    out[r1], out[r2] = a2, a1
                    changed = True
    return out


def rows_to_anchors(
    got: np.ndarray, p: DetectionProblem, call: Call, ties: str = "lowest"
) -> list[np.ndarray]:
    """Check that every image's rows are its anchors, each once, and return ``perm[b][r]``,
    the anchor of row ``r``.

    Row ``r`` can be anchor ``a`` when its box is ``a``'s decoded box (float32 tolerance),
    its confidence is ``a``'s (``1 - conf`` when ``conf < pos_threshold``) and its class is
    ``a``'s first argmax or -1 (always -1 when ``conf < pos_threshold``). These hold whatever
    NMS decides, so the check needs no exact decisions.
    """
    __tracebackhide__ = True
    tol = tolerance(F32)
    perms = []
    for b in range(got.shape[0]):
        conf, cls, decoded = per_anchor(p, b)
        low = conf < p.pos_threshold
        want_conf = np.where(low, 1 - conf, conf)
        rows = got[b].astype(np.float64)
        box_ok = np.all(
            np.abs(rows[:, None, 2:] - decoded[None])
            <= tol["atol"] + tol["rtol"] * np.abs(decoded),
            axis=-1,
        )
        conf_ok = np.abs(rows[:, None, 1] - want_conf[None]) <= tol["atol"] + tol["rtol"] * np.abs(
            want_conf
        )
        cid = rows[:, None, 0]
        class_ok = (cid == -1) | ((cid == cls[None]) & ~low[None])
        compatible = box_ok & conf_ok & class_ok
        for r in range(len(rows)):
            if compatible[r].any():
                continue
            near = int(np.argmin(np.abs(rows[r, 2:] - decoded).max(axis=1)))
            check(
                False,
                f"image {b}, row {r} {rows[r].tolist()} is no anchor's detection: the "
                f"nearest decoded anchor {near} has box {decoded[near].tolist()}, conf "
                f"{conf[near]!r} (so expected conf {want_conf[near]!r}, class "
                f"{'-1' if low[near] else f'{int(cls[near])} or -1'})",
                call,
            )
        perm = _bipartite(compatible)
        check(
            perm is not None,
            f"image {b}: the rows are not a permutation of the anchors (some anchor appears "
            "twice, another not at all)",
            call,
        )
        perms.append(_canonical(perm, compatible, got[b, :, 0] >= 0, ties))
    return perms


# --- equivalence with the reference -------------------------------------------------------


@given(p=detection_problems(exact=True))
@example(  # the chapter's four anchors (golden), here on the lattice with ties
    p=DetectionProblem(
        cls_probs=np.array(
            [[[0, 0, 0, 0], [0.75, 0.75, 0.5, 0.125], [0.125, 0.25, 0.25, 0.75]]], F32
        ),
        offset_preds=np.zeros((1, 16), F32),
        anchors=np.array(
            [
                [
                    [0.125, 0.0625, 0.5, 0.9375],
                    [0.0625, 0.1875, 0.5625, 0.9375],
                    [0.125, 0.3125, 0.625, 0.875],
                    [0.5625, 0.1875, 0.875, 0.875],
                ]
            ],
            F32,
        ),
        nms_threshold=0.5,
        pos_threshold=0.009999999,
        exact=True,
    )
)
def test_multibox_detection_matches_reference(impl, p, conventions):
    """Exact problems (lattice anchors, zero or lattice offsets, lattice probabilities with
    ties, dyadic NMS threshold): class ids and row order exactly the reference's, conf and
    boxes close. (Where the conventions leave several answers, the laws: see the docstring.)"""
    call = det_call(impl, p)
    got = call()
    check_shape(got, p, call)
    if not one_answer(p, conventions):
        check_detection_laws(got, p, call, conventions)
        return
    expected = expected_of(p, conventions)
    assert_equal(got[..., 0], expected[..., 0], call, what="class ids (column 0)")
    assert_close(got[..., 2:], expected[..., 2:], call, what="boxes (columns 2-5), row order")
    assert_close(got[..., 1], expected[..., 1], call, what="confidences (column 1)")


# --- laws ---------------------------------------------------------------------------------


@given(p=st.one_of(detection_problems(exact=True), detection_problems(exact=False)))
def test_multibox_detection_rows_are_a_permutation_of_decoded_anchors(impl, p):
    """Each image's rows are its anchors, each exactly once: the box is the anchor decoded by
    ``offset_inverse``, the confidence its class maximum (``1 - conf`` below
    ``pos_threshold``), the class its first argmax or -1. Float offsets too: this holds
    whatever NMS decides."""
    call = det_call(impl, p)
    got = call()
    check_shape(got, p, call)
    rows_to_anchors(got, p, call)


# Identical anchors with equal confidences but different classes: which suppressed row is
# which anchor cannot be seen, and a matching must not pretend it can (a regression of this
# suite's row-to-anchor matching, found by Hypothesis). Kept: anchor 0; the rest by index.
IDENTICAL_ANCHORS = DetectionProblem(
    cls_probs=np.array(
        [
            [
                [0, 0, 0, 0, 0],
                [0.5, 0, 0.5, 0, 0],
                [0, 0.5, 0, 0, 0],
                [0, 0, 0, 0.25, 0.25],
            ]
        ],
        F32,
    ),
    offset_preds=np.zeros((1, 20), F32),
    anchors=np.array([[[0, 0, 1 / 64, 1 / 64]] * 5], F32),
    nms_threshold=0.0,
    pos_threshold=0.0,
    exact=True,
)


def check_detection_laws(got: np.ndarray, p: DetectionProblem, call: Call, conventions) -> None:
    """The laws that determine the rows when ``pos_threshold`` flips nothing, and what holds
    whatever it flips: every row an anchor; kept rows first, in the declared visiting order;
    the kept set NMS's choice under the conventions; suppressed rows by anchor index."""
    __tracebackhide__ = True
    perms = rows_to_anchors(got, p, call, conventions.nms_ties)
    if p.pos_threshold > 0:
        return  # flipped rows lose their class: kept and suppressed rows can no longer be told
    check_kept_rows_first(got, p, perms, call, conventions.nms_ties)
    check_suppressed_rows_by_index(got, perms, call)
    check_kept_set_is_nms(got, p, perms, call, conventions)


def check_kept_rows_first(got, p: DetectionProblem, perms, call: Call, ties: str) -> None:
    """The rows with a class (the kept anchors) come first, in NMS visiting order: descending
    confidence, equal confidences by ascending anchor index (by the declared tie order)."""
    __tracebackhide__ = True
    for b, perm in enumerate(perms):
        conf, _, _ = per_anchor(p, b)
        kept = got[b, :, 0] >= 0
        k = int(kept.sum())
        check(
            bool(kept[:k].all()),
            f"image {b}: classes {got[b, :, 0].tolist()}: a row with class -1 (suppressed) "
            "comes before a row with a class (kept)",
            call,
        )
        order = perm[:k]
        index = {"lowest": order, "highest": -order, "any": np.zeros_like(order)}[ties]
        key = list(zip(-conf[order], index, strict=True))
        check(
            key == sorted(key),
            f"image {b}: the kept rows are anchors {order.tolist()} with confidences "
            f"{conf[order].tolist()}: expected descending confidence, equal confidences by "
            f"{dict(lowest='ascending', highest='descending').get(ties, 'any')} anchor index",
            call,
        )


def check_suppressed_rows_by_index(got, perms, call: Call) -> None:
    """After the kept rows come all other anchors by ascending anchor index, with class -1."""
    __tracebackhide__ = True
    for b, perm in enumerate(perms):
        cid = got[b, :, 0]
        k = int(np.argmax(cid < 0)) if (cid < 0).any() else len(cid)
        rest = perm[k:]
        check(
            bool(np.all(cid[k:] == -1)),
            f"image {b}: classes {cid.tolist()}: after the first class -1 row (row {k}), every "
            "row must have class -1 (suppressed anchors lose their class)",
            call,
        )
        check(
            bool(np.all(np.diff(rest) > 0)),
            f"image {b}: the suppressed rows are anchors {rest.tolist()}: expected ascending "
            "anchor index",
            call,
        )


def check_kept_set_is_nms(got, p: DetectionProblem, perms, call: Call, conventions) -> None:
    """No two kept anchors' decoded boxes overlap by a suppressing IoU, and every other anchor
    overlaps one of them visited before it by one."""
    __tracebackhide__ = True
    t = p.nms_threshold
    margin = 0.0 if conventions.exact_on_lattice else IOU_MARGIN
    for b, perm in enumerate(perms):
        conf, _, decoded = per_anchor(p, b)
        kept = perm[got[b, :, 0] >= 0]
        kept = kept[np.lexsort((kept, -conf[kept]))] if len(kept) else kept
        check_kept_do_not_overlap(kept, decoded, t, margin, call, conventions)
        check_suppressed_have_suppressor(kept, decoded, conf, t, margin, call, conventions)


@given(p=detection_problems(exact=True, pos_threshold=st.just(0.0)))
@example(p=IDENTICAL_ANCHORS)
def test_multibox_detection_kept_rows_first_in_descending_conf_order(impl, p, conventions):
    """With ``pos_threshold = 0`` (nothing flipped), the rows with a class (the kept
    anchors) come first, in NMS visiting order: descending confidence, equal confidences by
    ascending anchor index (or by the declared tie order)."""
    call = det_call(impl, p)
    got = call()
    check_shape(got, p, call)
    perms = rows_to_anchors(got, p, call, conventions.nms_ties)
    check_kept_rows_first(got, p, perms, call, conventions.nms_ties)


@given(p=detection_problems(exact=True, pos_threshold=st.just(0.0)))
@example(p=IDENTICAL_ANCHORS)
def test_multibox_detection_suppressed_rows_follow_by_anchor_index(impl, p, conventions):
    """With ``pos_threshold = 0``, after the kept rows come all other anchors by ascending
    anchor index, with class -1."""
    call = det_call(impl, p)
    got = call()
    check_shape(got, p, call)
    perms = rows_to_anchors(got, p, call, conventions.nms_ties)
    check_suppressed_rows_by_index(got, perms, call)


@given(p=detection_problems(exact=True, pos_threshold=st.just(0.0)))
@example(p=IDENTICAL_ANCHORS)
def test_multibox_detection_kept_set_is_nms_of_decoded_boxes(impl, p, conventions):
    """With ``pos_threshold = 0``, the anchors with a class are NMS's choice on the decoded
    boxes: no two have IoU > ``nms_threshold``, and every other anchor has IoU >
    ``nms_threshold`` with one of them visited before it (``>=`` if declared, and the declared
    IoU and tie order)."""
    call = det_call(impl, p)
    got = call()
    check_shape(got, p, call)
    perms = rows_to_anchors(got, p, call, conventions.nms_ties)
    check_kept_set_is_nms(got, p, perms, call, conventions)


@given(
    p=detection_problems(exact=True, pos_threshold=st.just(0.0)),
    pos=st.sampled_from([0.009999999, 1 / 64, 0.25, 0.5, 0.75, 1.0]),
)
def test_multibox_detection_flips_confidence_below_pos_threshold(impl, p, pos):
    """``pos_threshold`` only post-processes the rows: against the same problem at
    ``pos_threshold = 0``, the rows are in the same order with the same boxes; a row with
    ``conf < pos_threshold`` (strictly: a confidence equal to it is kept) gets class -1 and
    confidence ``1 - conf``, the others are unchanged."""
    base = det_call(impl, p)()
    call = det_call(impl, p, pos_threshold=pos)
    got = call()
    check_shape(got, p, call)
    check_shape(base, p, call)
    low = base[..., 1].astype(np.float64) < pos
    want = base.astype(np.float64).copy()
    want[..., 0] = np.where(low, -1, want[..., 0])
    want[..., 1] = np.where(low, 1 - want[..., 1], want[..., 1])
    assert_equal(
        got[..., 0], want[..., 0], call, what=f"class ids (vs pos_threshold=0, flipped below {pos})"
    )
    assert_close(
        got[..., 1],
        want[..., 1],
        call,
        what=f"confidences (vs pos_threshold=0, 1 - conf below {pos})",
    )
    assert_close(got[..., 2:], want[..., 2:], call, what="boxes (vs pos_threshold=0)")


@given(p=detection_problems(exact=True))
def test_multibox_detection_batch_equals_per_image(impl, p):
    """The detections of a batch are those of each image alone."""
    call = det_call(impl, p)
    got = call()
    check_shape(got, p, call)
    for b in range(p.cls_probs.shape[0]):
        one = det_call(
            impl,
            p,
            cls_probs=p.cls_probs[b : b + 1],
            offset_preds=p.offset_preds[b : b + 1],
        )
        single = one()
        assert_equal(got[b, :, 0], single[0, :, 0], call, what=f"image {b}: class ids vs alone")
        assert_close(got[b, :, 1:], single[0, :, 1:], call, what=f"image {b}: conf, boxes vs alone")


@given(p=detection_problems(exact=True), data=st.data())
def test_multibox_detection_class_id_is_first_argmax_on_ties(impl, p, data, conventions):
    """Where several classes share the maximum probability, ``class_id`` is the first of them
    (minus 1 for the background row). With ``nms_threshold = 1`` and ``pos_threshold = 0``
    every anchor is kept, so the rows are all anchors in visiting order with their class."""
    probs = p.cls_probs.copy()
    batch, rows, num_anchors = probs.shape
    if num_anchors and rows > 2:
        # Tie some anchors' classes: copy the maximum to a random set of other classes.
        tie = np.asarray(
            data.draw(
                st.lists(st.booleans(), min_size=batch * num_anchors, max_size=batch * num_anchors),
                label="tied anchors",
            )
        ).reshape(batch, num_anchors)
        top = probs[:, 1:].max(axis=1)
        spread = np.asarray(
            data.draw(
                st.lists(st.booleans(), min_size=probs[:, 1:].size, max_size=probs[:, 1:].size),
                label="tied classes",
            )
        ).reshape(probs[:, 1:].shape)
        probs[:, 1:] = np.where(tie[:, None] & spread, top[:, None], probs[:, 1:])
    q = p._replace(cls_probs=probs.astype(F32), nms_threshold=1.0, pos_threshold=0.0)
    call = det_call(impl, q)
    got = call()
    check_shape(got, q, call)
    if conventions.nms_suppress == ">=" or conventions.nms_ties != "lowest":
        # Identical boxes suppress each other at 1, or equal confidences come in another order:
        # the rows' anchors are found by matching, and a row's class must be its anchor's first
        # argmax (rows_to_anchors checks it), in the declared visiting order.
        perms = rows_to_anchors(got, q, call, conventions.nms_ties)
        check_kept_rows_first(got, q, perms, call, conventions.nms_ties)
        return
    for b in range(batch):
        conf, cls, _ = per_anchor(q, b)
        order = np.lexsort((np.arange(num_anchors), -conf))
        assert_equal(
            got[b, :, 0],
            cls[order],
            call,
            what=f"image {b}: class ids (first argmax over classes 1..C, minus 1; rows in "
            "visiting order, all kept at nms_threshold 1)",
        )
