"""Properties of ``Matcher(high_threshold, low_threshold, allow_low_quality_matches)``
(CONTRACT.md §3.4), called on a ``(G, A)`` quality matrix, ground truths by rows.

Anchor ``a``'s best quality ``q_a`` and best ground truth ``best[a]`` (the first on ties):
``best[a]`` if ``q_a >= high``, -2 if ``low <= q_a < high``, -1 below ``low``; with low-quality
matches, every anchor whose quality equals (exactly) some ground truth's maximum takes
``best[a]``.

Exactness: the matcher only compares the given numbers, so every decision is exact, for any
matrix. Thresholds such as 0.7 are not float32 numbers: the reference compares a float32
quality with the double 0.7, torchvision with ``float32(0.7)`` (below 0.7). So the tests
accept either decision where a quality lies within one float32 ulp of a threshold that
float32 cannot represent (CONTRACT.md §5.3), and demand the reference's decisions everywhere
else; with thresholds on the levels ``k / 8`` every matrix is decided exactly.

Shapes: ``G`` in (0, 1, 3, 8), ``A`` in (0, 2, 5, 21): at most 16 compiles of a jitted
matcher.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import reference

from .asserts import assert_equal, check
from .asserts_detector import MethodCall
from .strategies import matcher_thresholds, quality_matrices

F32 = np.float32
# Matrix shapes: a jitted matcher compiles once per (G, A); every combination of these.
GS, AS = st.sampled_from((0, 1, 3, 8)), st.sampled_from((0, 2, 5, 21))
CTOR = ("high_threshold", "low_threshold", "allow_low_quality_matches")


def match_call(impl, q, high, low, low_quality) -> MethodCall:
    return MethodCall(impl, "Matcher", CTOR, "__call__", high_threshold=high,
                      low_threshold=low, allow_low_quality_matches=low_quality,
                      match_quality_matrix=q)  # fmt: skip


def near_unrepresentable(q: np.ndarray, *thresholds: float) -> bool:
    """A quality within one float32 ulp of a threshold that float32 cannot represent."""
    for t in thresholds:
        if float(np.float32(t)) != t:
            ulp = float(np.spacing(np.float32(abs(t))))
            if np.any(np.abs(q.astype(np.float64) - t) <= ulp):
                return True
    return False


def best_of(q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each anchor's best quality and first best ground truth."""
    return q.max(axis=0), q.argmax(axis=0)


@given(q=quality_matrices(GS, AS), th=matcher_thresholds(), low_quality=st.booleans())
@example(  # no anchors with low-quality matches: jaximpl's max over an empty axis raised
    q=np.zeros((1, 0), F32), th=(0.7, 0.3), low_quality=True
)
def test_matcher_matches_reference(impl, q, th, low_quality):
    """The matches equal the reference's, exactly."""
    high, low = th
    call = match_call(impl, q, high, low, low_quality)
    got = call()
    check(got.shape == (q.shape[1],), f"shape: got {got.shape}, expected {(q.shape[1],)}", call)
    check(got.dtype.kind in "iu", f"dtype: got {got.dtype}, expected integers", call)
    if near_unrepresentable(q, high, low):
        return
    expected = reference.Matcher(high, low, low_quality)(q)
    assert_equal(got, expected, call, what="matches")


@given(q=quality_matrices(GS, AS), th=matcher_thresholds())
def test_matcher_thresholds_split_anchors(impl, q, th):
    """Without low-quality matches: an anchor is matched to its first best ground truth
    exactly when its best quality is ``>= high``, -2 when it is in ``[low, high)``, -1 below
    ``low``. Known values computed here, not by the reference."""
    high, low = th
    if near_unrepresentable(q, high, low):
        return
    call = match_call(impl, q, high, low, False)
    got = call()
    if q.shape[0] == 0:
        assert_equal(got, np.full(q.shape[1], -1), call, what="matches with no ground truth")
        return
    quality, best = best_of(q.astype(np.float64))
    expected = np.where(quality >= high, best, np.where(quality >= low, -2, -1))
    assert_equal(got, expected, call, what="matches by threshold")


@given(q=quality_matrices(GS, AS), th=matcher_thresholds())
@example(  # two anchors at ground truth 0's best 0.5, one at its own best 0.75 (gt 1)
    q=np.array([[0.5, 0.5, 0.25], [0.75, 0.0, 0.0]], F32), th=(0.8, 0.8)
)
@example(  # a near tie one ulp below the maximum is not a tie (detectron2 #3750)
    q=np.array([[0.5, np.nextafter(F32(0.5), F32(0)), 0.0]], F32), th=(0.75, 0.75)
)
def test_matcher_low_quality_matches_exactly_the_ties(impl, q, th):
    """With low-quality matches the result differs from the plain one only at anchors that
    reach some ground truth's maximum quality (compared exactly), and every such anchor is
    matched to its own first best ground truth: all ties, and nothing within a tolerance."""
    high, low = th
    if near_unrepresentable(q, high, low):
        return
    plain = match_call(impl, q, high, low, False)()
    call = match_call(impl, q, high, low, True)
    got = call()
    if q.shape[0] == 0 or q.shape[1] == 0:
        assert_equal(got, plain, call, what="low-quality matches with no ground truth or anchor")
        return
    q64 = q.astype(np.float64)
    tied = (q64 == q64.max(axis=1, keepdims=True)).any(axis=0)
    _, best = best_of(q64)
    expected = np.where(tied, best, plain)
    assert_equal(got, expected, call, what="low-quality matches (ties at a ground truth's best)")


@given(
    q=quality_matrices(GS, AS), th=matcher_thresholds(), low_quality=st.booleans(), data=st.data()
)
def test_matcher_permuting_anchors_permutes_matches(impl, q, th, low_quality, data):
    """Anchors are independent of their order: permuting the columns permutes the result."""
    high, low = th
    perm = np.asarray(data.draw(st.permutations(range(q.shape[1])), label="perm"), np.int64)
    before = match_call(impl, q, high, low, low_quality)()
    call = match_call(impl, q[:, perm], high, low, low_quality)
    assert_equal(call(), before[perm], call, what="matches of the permuted anchors")


@given(a=AS, th=matcher_thresholds(), low_quality=st.booleans())
def test_matcher_without_ground_truth_is_background(impl, a, th, low_quality):
    """``G = 0``: every anchor is -1 (torchvision raises; CONTRACT.md §6.2 says empty input is
    valid where the math is)."""
    call = match_call(impl, np.zeros((0, a), F32), th[0], th[1], low_quality)
    assert_equal(call(), np.full(a, -1), call, what="matches with no ground truth")


@pytest.mark.parametrize(
    ("name", "high", "low", "flag"),
    [
        ("low_threshold", 0.3, 0.7, False),  # low > high
        ("high_threshold", float("nan"), 0.3, False),
        ("low_threshold", 0.7, float("inf"), False),
        ("high_threshold", "0.7", 0.3, False),
        ("allow_low_quality_matches", 0.7, 0.3, "yes"),
    ],
)
def test_matcher_rejects_bad_thresholds(impl, name, high, low, flag):
    """``ValueError`` naming the parameter: non-finite or non-numeric thresholds, ``low >
    high``, a flag that is not a bool."""
    with pytest.raises(ValueError, match=f"^{name}"):
        impl.Matcher(high, low, flag)


@pytest.mark.parametrize(
    "q", [np.zeros(3, F32), np.array([[0.5, np.nan]], F32), np.array([[np.inf, 0]], F32)]
)
def test_matcher_rejects_bad_matrices(impl, q):
    """``ValueError`` naming ``match_quality_matrix``: not 2-D, or non-finite values."""
    with pytest.raises(ValueError, match="^match_quality_matrix"):
        match_call(impl, q, 0.7, 0.3, True)()
