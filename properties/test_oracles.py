"""The reference against independent oracles: shapely polygons for IoU, torchvision for NMS.

These check ``reference`` itself (whatever ``--impl`` is): the rest of the suite
compares implementations with the reference, so the reference must first agree
with code it shares nothing with.
"""

from __future__ import annotations

import numpy as np
from hypothesis import example, given
from hypothesis import strategies as st

import reference
from reference.oracles import shapely_iou, torchvision_nms

from .strategies import boxes, distinct_scores, sizes

# Shapely computes areas of polygons (shoelace sums, overlay for the union):
# on coordinates of magnitude <= 4 that is within a few ulps of 16 in float64.
IOU_ATOL = 1e-12


@given(
    b1=boxes(sizes(13), lattice=True),
    b2=boxes(sizes(13), lattice=True),
)
@example(  # nested, identical, touching, degenerate and two zero-area boxes
    b1=np.array([[0, 0, 2, 2], [0, 0, 0, 1], [1, 1, 1, 1]], np.float32),
    b2=np.array([[0.5, 0.5, 1, 1], [0, 0, 2, 2], [2, 0, 3, 2], [0, 0, 0, 2]], np.float32),
)
def test_reference_iou_matches_shapely_on_lattice(b1, b2):
    np.testing.assert_allclose(
        reference.box_iou(b1, b2), shapely_iou(b1, b2), rtol=0, atol=IOU_ATOL
    )


@given(b1=boxes(sizes(13), lattice=False), b2=boxes(sizes(13), lattice=False))
def test_reference_iou_matches_shapely_off_lattice(b1, b2):
    np.testing.assert_allclose(
        reference.box_iou(b1, b2), shapely_iou(b1, b2), rtol=0, atol=IOU_ATOL
    )


@st.composite
def nms_problems(draw, lattice: bool):
    b = draw(boxes(sizes(34, min_size=1), lattice=lattice))
    s = draw(distinct_scores(len(b)))
    t = draw(st.sampled_from([0.0, 0.3, 0.5, 0.7, 1.0]))
    return b, s, t


@given(problem=st.one_of(nms_problems(lattice=True), nms_problems(lattice=False)))
@example(  # a chain: 0 suppresses 1 at 0.3, 1 would suppress 2, 0 and 2 only touch
    problem=(
        np.array([[0, 0, 4, 1], [2, 0, 6, 1], [4, 0, 8, 1]], np.float32),
        np.array([0.9, 0.8, 0.7], np.float32),
        0.3,
    )
)
def test_reference_nms_matches_torchvision(problem):
    b, s, t = problem
    # Both compute the IoU in float64 with the same formula (inter / (a1 + a2 - inter))
    # and compare with the threshold as a double, so decisions agree exactly.
    got, expected = reference.nms(b, s, t), torchvision_nms(b, s, t)
    assert got.tolist() == expected.tolist(), (
        f"got {got.tolist()}, expected {expected.tolist()} [reference.nms(boxes, scores, {t})]"
    )
