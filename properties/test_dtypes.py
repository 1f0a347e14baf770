"""Input dtypes (CONTRACT.md §1.5): half precision in, decisions of float32 or wider out.

float16 and bfloat16 boxes and scores are read exactly and every computation (areas, IoUs,
comparisons with the threshold) runs in float32 or wider, so on lattice input (multiples of
1/64 up to 4: at most 8 significant bits, exact in both half formats) NMS and the assignment
make the same decisions as on the same values in float32: the reference's, exactly. An
implementation that computes in the input's half precision rounds areas and intersections
(16 bits of product in 8 or 11 of mantissa) and decides otherwise near the threshold, as
torchvision's half-precision CUDA NMS did (it kept 37 boxes where float32 kept 1,
pytorch/vision#3371; PITFALLS.md, "NMS").

float64 (``jax.enable_x64`` for a JAX implementation): the computation stays in float64 and,
on the lattice, equals the float64 reference bit for bit (IoU values included: every product
and sum is exact there, only the final division rounds, once, as the reference's does).

Shapes (compiles): ``N`` in {2, 13}, ``G`` in {1, 5}, ``A`` in {2, 13}; float64 programs
are new compiles, so those tests draw fewer examples.
"""

from __future__ import annotations

import contextlib

import numpy as np
from hypothesis import example, given, settings
from hypothesis import strategies as st

import reference

from .asserts import Call, assert_equal, check
from .strategies import NmsProblem, matching_problems, nms_problems

try:  # bfloat16 exists where JAX (ml_dtypes) does
    from ml_dtypes import bfloat16
except ImportError:  # pragma: no cover - the suite's environment has it
    bfloat16 = None

HALF = {"float16": np.float16, **({"bfloat16": bfloat16} if bfloat16 is not None else {})}


def half(x: np.ndarray, dtype: str) -> np.ndarray:
    """``x`` in the half-precision ``dtype``."""
    return np.asarray(x).astype(HALF[dtype])


def wide(x: np.ndarray) -> np.ndarray:
    """Half-precision values, exactly, in float64 (the reference's input)."""
    return np.asarray(x).astype(np.float32).astype(np.float64)


def exact_in(x: np.ndarray, dtype: str) -> bool:
    return bool(np.array_equal(wide(half(x, dtype)), np.asarray(x, np.float64)))


def run_half(call: Call, dtype: str):
    """The call's result; ``None`` when an implementation without bfloat16 (NumPy has none:
    the reference) rejects it with a ``ValueError`` naming the dtype, which CONTRACT.md §1.5
    allows. float16 must be accepted."""
    try:
        return call()
    except ValueError as err:
        if dtype == "bfloat16" and "bfloat16" in str(err):
            return None
        raise


@contextlib.contextmanager
def x64(impl):
    """float64 enabled for a JAX implementation (``jax.enable_x64``); nothing otherwise."""
    try:
        import jax
    except ImportError:  # pragma: no cover
        yield
        return
    with jax.enable_x64(True):
        yield


def lattice(*rows: list[int]) -> np.ndarray:
    """Boxes from corners given in 64ths (exact in float32, float16 and bfloat16)."""
    return (np.asarray(rows, np.float64) / 64).astype(np.float32)


def pair_problem(a: list[int], b: list[int], t: float) -> NmsProblem:
    return NmsProblem(lattice(a, b), np.asarray([1.0, 0.5], np.float32), t, exact=True)


# Pairs whose decision flips when the IoU test runs in half precision (found by search: each
# product and sum rounded to the format): IoU > t exactly, not so in the half format.
NMS_FLIPS = {
    "bfloat16": pair_problem([128, 53, 195, 168], [109, 48, 212, 137], 0.5),
    "float16": pair_problem([34, 37, 145, 251], [12, 22, 82, 183], 0.25),
}
# IoU >= t computed as inter / union: below t exactly, not so in the half format. The anchors
# are the pair's second box and the ground truth itself (the greedy step takes that one).
ASSIGN_FLIPS = {
    "bfloat16": (lattice([38, 10, 93, 46]), lattice([63, 3, 96, 107], [38, 10, 93, 46])),
    "float16": (lattice([18, 72, 80, 107]), lattice([19, 40, 118, 126], [18, 72, 80, 107])),
}


NMS_SIZES = st.sampled_from([2, 13])
LATTICE_NMS = nms_problems(lattice=True, n=NMS_SIZES)
LATTICE_MATCHING = matching_problems(
    num_gt=st.sampled_from([1, 5]), num_anchors=st.sampled_from([2, 13]), lattice=True
)


def exact_in_every_half(*arrays: np.ndarray) -> bool:
    return all(exact_in(a, dtype) for a in arrays for dtype in HALF)


# The lattice problems whose boxes every half format holds exactly. Boxes placed touching
# earlier ones can reach past 4, where k / 64 needs more than bfloat16's 8 significant bits: a
# random (dev profile) run drew a chain of touching boxes up to 261/64, and the NMS test failed
# its premise.
HALF_NMS = LATTICE_NMS.filter(lambda p: exact_in_every_half(p.boxes))
HALF_MATCHING = LATTICE_MATCHING.filter(lambda p: exact_in_every_half(*p))


# --- half precision -----------------------------------------------------------------------


@given(
    problem=HALF_NMS,
    dtype=st.sampled_from(sorted(HALF)),
    which=st.sampled_from(["boxes", "scores", "both"]),
)
@example(problem=NMS_FLIPS["bfloat16"], dtype="bfloat16", which="both")
@example(problem=NMS_FLIPS["float16"], dtype="float16", which="boxes")
def test_nms_half_precision_input_decides_as_float32(impl, problem, dtype, which):
    """NMS on float16 or bfloat16 lattice boxes and/or scores keeps exactly the boxes the
    reference keeps on the same values (read exactly, computed in float32 or wider)."""
    check(exact_in(problem.boxes, dtype), "premise: lattice boxes are exact in half", None)
    b = half(problem.boxes, dtype) if which != "scores" else problem.boxes
    s = half(problem.scores, dtype) if which != "boxes" else problem.scores
    call = Call(impl, "nms", boxes=b, scores=s, iou_threshold=problem.iou_threshold)
    got = run_half(call, dtype)
    if got is None:
        return
    expected = reference.nms(wide(b), wide(s), problem.iou_threshold)
    assert_equal(got, expected, call, what=f"kept indices ({dtype} {which})")


@given(
    problem=HALF_MATCHING,
    t=st.sampled_from([0.25, 0.5, 0.75]),
    dtype=st.sampled_from(sorted(HALF)),
)
@example(problem=ASSIGN_FLIPS["bfloat16"], t=0.25, dtype="bfloat16")
@example(problem=ASSIGN_FLIPS["float16"], t=0.25, dtype="float16")
def test_assignment_half_precision_input_decides_as_float32(impl, problem, t, dtype):
    """``assign_anchor_to_bbox`` on float16 or bfloat16 lattice boxes assigns exactly as the
    reference does on the same values."""
    gt, anchors = problem
    check(exact_in(gt, dtype) and exact_in(anchors, dtype), "premise: exact in half", None)
    call = Call(
        impl,
        "assign_anchor_to_bbox",
        ground_truth=half(gt, dtype),
        anchors=half(anchors, dtype),
        device=None,
        iou_threshold=t,
    )
    got = run_half(call, dtype)
    if got is None:
        return
    expected = reference.assign_anchor_to_bbox(
        wide(half(gt, dtype)), wide(half(anchors, dtype)), iou_threshold=t
    )
    assert_equal(got, expected, call, what=f"assignment ({dtype})")


@given(problem=LATTICE_NMS, dtype=st.sampled_from(sorted(HALF)))
def test_box_iou_half_precision_input_is_computed_in_float32(impl, problem, dtype):
    """``box_iou`` of half-precision lattice boxes returns float32 (or wider) values equal to
    the float32 IoUs of the same boxes: nothing is rounded to half precision."""
    b = half(problem.boxes, dtype)
    call = Call(impl, "box_iou", boxes1=b, boxes2=b)
    got = run_half(call, dtype)
    if got is None:
        return
    got = np.asarray(got)
    check(
        got.dtype in (np.float32, np.float64),
        f"box_iou of {dtype} input: expected float32 or wider, got {got.dtype}",
        call,
    )
    want = np.asarray(impl.box_iou(wide(b).astype(np.float32), wide(b).astype(np.float32)))
    assert_equal(got.astype(np.float64), want.astype(np.float64), call, what="IoU values")


# --- float64 ------------------------------------------------------------------------------


@settings(max_examples=15)
@given(problem=LATTICE_NMS)
def test_float64_box_iou_and_nms_equal_the_reference_bit_for_bit(impl, problem):
    """With float64 enabled, ``box_iou`` of float64 lattice boxes is float64 and equals the
    reference bit for bit; ``nms`` keeps the reference's boxes."""
    b = problem.boxes.astype(np.float64)
    s = problem.scores.astype(np.float64)
    with x64(impl):
        iou_call = Call(impl, "box_iou", boxes1=b, boxes2=b)
        iou = np.asarray(iou_call())
        kept = np.asarray(impl.nms(b, s, problem.iou_threshold))
    check(iou.dtype == np.float64, f"box_iou in float64: got {iou.dtype}", iou_call)
    assert_equal(iou, reference.box_iou(b, b), iou_call, what="IoU values, bit for bit")
    nms_call = Call(impl, "nms", boxes=b, scores=s, iou_threshold=problem.iou_threshold)
    assert_equal(kept, reference.nms(b, s, problem.iou_threshold), nms_call, what="kept")


@settings(max_examples=15)
@given(problem=LATTICE_MATCHING, t=st.sampled_from([0.25, 0.5, 0.75]))
def test_float64_assignment_equals_the_reference(impl, problem, t):
    """With float64 enabled, the assignment of float64 lattice boxes is the reference's."""
    gt, anchors = (x.astype(np.float64) for x in problem)
    call = Call(
        impl,
        "assign_anchor_to_bbox",
        ground_truth=gt,
        anchors=anchors,
        device=None,
        iou_threshold=t,
    )
    with x64(impl):
        got = np.asarray(call())
    expected = reference.assign_anchor_to_bbox(gt, anchors, iou_threshold=t)
    assert_equal(got, expected, call, what="assignment")
