"""The reference's detector operations (CONTRACT.md §3) against torchvision 0.29, the oracle.

These check ``reference`` itself, whatever ``--impl`` is: the rest of the suite compares
implementations with the reference. torchvision runs in float64 on CPU, so where both
compute the same formula they agree to the last bit or within a few ulps of float64
(``RTOL``). Where torchvision's documented conventions differ (CONTRACT.md §3), the inputs
avoid them and each test says which:

- ``box_convert``: torchvision has no ``yxyx``;
- ``batched_nms``: torchvision's CPU path below 4,000 boxes is the coordinate-offset trick,
  right only for coordinates ``>= 0`` (its documented domain); lattice boxes in ``[0, 2]``;
  distinct scores (its tie order is not specified);
- ``BoxCoder``: torchvision has no ``eps`` (ours 0 is its coder); a zero-size box codes as
  ``-inf`` there and is an error here: boxes of positive size;
- ``Matcher``: torchvision raises on ``G = 0`` or ``A = 0``: non-empty matrices;
- the GIoU family: torchvision's pairwise IoU is NaN for two boxes of zero area and its
  CIoU angle ``atan(w / h)`` NaN for a point (and its gradient for any zero height); its
  ``complete_box_iou_loss`` always uses ``eps = 1e-7`` in its DIoU part. The values and
  gradients are compared where torchvision's are finite, with the default ``eps``.
"""

from __future__ import annotations

import numpy as np
from hypothesis import example, given
from hypothesis import strategies as st

import reference
from reference.iou_losses import LEAVES, leaf_partials, loss_adjoints, loss_parts

from .strategies import (
    CODER_WEIGHTS,
    class_labels,
    coder_problems,
    distinct_scores,
    format_boxes,
    loss_pairs,
    matcher_thresholds,
    quality_matrices,
    sizes,
)

RTOL = 1e-12
torch = None


def _torch():
    global torch
    if torch is None:
        import torch as _t

        torch = _t
    return torch


def _t(x):
    return _torch().as_tensor(np.asarray(x, dtype=np.float64))


def _close(got, expected, what: str, where=None, scale=None) -> None:
    """``got`` within ``RTOL`` of ``expected``, relative to ``scale`` (default: ``expected``'s
    own magnitudes), at least 1."""
    got, expected = np.asarray(got, np.float64), np.asarray(expected, np.float64)
    assert got.shape == expected.shape, f"{what}: shape {got.shape} vs {expected.shape}"
    scale = np.maximum(
        1.0, np.abs(expected) if scale is None else np.broadcast_to(scale, got.shape)
    )
    if where is not None:
        got, expected, scale = got[where], expected[where], scale[where]
    bad = ~(np.abs(got - expected) <= RTOL * scale)
    assert not bad.any(), (
        f"{what}: reference {got[bad][:5].tolist()} vs torchvision {expected[bad][:5].tolist()}"
    )


@given(fmt=st.sampled_from(("xyxy", "xywh", "cxcywh")), lattice=st.booleans(), data=st.data())
def test_box_convert_matches_torchvision(fmt, lattice, data):
    """Every pair of torchvision's formats, bit for bit (the same float64 operations)."""
    import torchvision

    b, _ = data.draw(format_boxes(fmt, sizes(13), lattice=lattice), label="boxes")
    for out in ("xyxy", "xywh", "cxcywh"):
        got = reference.box_convert(b, fmt, out)
        expected = torchvision.ops.box_convert(_t(b), fmt, out).numpy()
        assert np.array_equal(got, expected), f"{fmt} -> {out}: {got} vs {expected}"


@given(n=sizes(34), data=st.data())
def test_batched_nms_matches_torchvision(n, data):
    """Lattice boxes in ``[0, 2]``, distinct scores, any classes, any threshold: the same
    kept indices in the same order."""
    import torchvision

    from .strategies import boxes

    b = data.draw(boxes(n), label="boxes")
    s = data.draw(distinct_scores(n), label="scores")
    idxs = data.draw(class_labels(n), label="idxs")
    t = data.draw(st.sampled_from([0.0, 0.3, 0.5, 0.7, 1.0]), label="iou_threshold")
    got = reference.batched_nms(b, s, idxs, t)
    expected = torchvision.ops.batched_nms(_t(b), _t(s), _torch().as_tensor(idxs), t).numpy()
    assert got.tolist() == expected.tolist(), f"{got.tolist()} vs {expected.tolist()}"


@given(w=st.sampled_from(CODER_WEIGHTS), lattice=st.booleans(), data=st.data())
def test_box_coder_matches_torchvision(w, lattice, data):
    """``encode`` (``eps = 0``, boxes of positive size) and ``decode`` (codes up to 30, past
    the clamp) agree with torchvision's ``encode_single``/``decode_single`` within ``RTOL``
    (the centres are computed as ``x1 + w / 2`` there, ``(x1 + x2) / 2`` here)."""
    from torchvision.models.detection._utils import BoxCoder

    g, p = data.draw(coder_problems(sizes(13), lattice=lattice, degenerate=False), label="boxes")
    ours, theirs = reference.BoxCoder(w), BoxCoder(w)
    _close(ours.encode(g, p), theirs.encode_single(_t(g), _t(p)).numpy(), "encode")
    o = data.draw(
        st.lists(st.floats(-30, 30), min_size=4 * len(p), max_size=4 * len(p)), label="codes"
    )
    o = np.asarray(o, np.float64).reshape(-1, 4)
    _close(ours.decode(o, p), theirs.decode_single(_t(o), _t(p)).numpy(), "decode")


@given(q=quality_matrices(sizes(8, min_size=1), sizes(21, min_size=1)), th=matcher_thresholds(),
       low_quality=st.booleans())  # fmt: skip
def test_matcher_matches_torchvision(q, th, low_quality):
    """Non-empty matrices (torchvision raises on empty ones), ties included: the same
    matches."""
    from torchvision.models.detection._utils import Matcher

    got = reference.Matcher(th[0], th[1], low_quality)(q)
    expected = Matcher(th[0], th[1], low_quality)(_t(q)).numpy()
    assert got.tolist() == expected.tolist(), f"{got.tolist()} vs {expected.tolist()}"


FAMILY = ("generalized_box_iou", "distance_box_iou", "complete_box_iou")
KIND = dict(zip(FAMILY, ("giou", "diou", "ciou"), strict=True))  # reference.iou_losses' names


@given(bb=st.booleans().flatmap(lambda lattice: loss_pairs(sizes(13), lattice=lattice)))
def test_iou_family_matches_torchvision(bb):
    """Pairwise values and losses (default ``eps``) agree within ``RTOL`` wherever
    torchvision's are finite; the reference's are finite everywhere."""
    import torchvision.ops as tvo

    b1, b2 = bb
    for name in FAMILY:
        got = getattr(reference, name)(b1, b2)
        expected = getattr(tvo, name)(_t(b1), _t(b2)).numpy()
        assert np.isfinite(got).all(), f"{name}: reference not finite: {got}"
        _close(got, expected, name, where=np.isfinite(expected))
        got = getattr(reference, f"{name}_loss")(b1, b2)
        expected = getattr(tvo, f"{name}_loss")(_t(b1), _t(b2)).numpy()
        assert np.isfinite(got).all(), f"{name}_loss: reference not finite: {got}"
        _close(got, expected, f"{name}_loss", where=np.isfinite(expected))


def _largest_term(name: str, b1, b2) -> np.ndarray:
    """Per pair, the largest term ``|dL/d leaf * d leaf/d coordinate|`` of the reference's
    chain rule (:mod:`reference.iou_losses`, default ``eps``), over the 8 coordinates."""
    b1, b2 = np.asarray(b1, np.float64), np.asarray(b2, np.float64)
    parts = loss_parts(b1, b2)
    adjoints = loss_adjoints(KIND[name], parts, 1e-7)
    partials = leaf_partials(b1, b2, parts)
    terms = [np.abs(adjoints[leaf][..., None] * partials[leaf]) for leaf in LEAVES]
    return np.max(terms, axis=(0, -1))


@given(bb=st.booleans().flatmap(lambda lattice: loss_pairs(sizes(13), lattice=lattice)))
# A zero-height pair: d GIoU loss / d boxes1 is 156,250 in y, and the reference's y derivatives
# for boxes2 are sums of terms that large cancelling to 0 (+-2.9e-11 in float64, torchvision's
# 0.0): rounding is relative to the pair's largest term, not to the derivative compared.
@example(bb=(np.array([[0, 0, 0.03125, 0]]), np.array([[0.015625, 0, 0.03125, 0]])))
# Two zero-height boxes touching end to end: every derivative is 0 (torchvision's too), each
# the sum of two GIoU terms of 312,500 (area by y: -1/eps * 1/32; enclosing by y:
# (union + eps)/eps**2 * 1/32) that differ in the last bit: +-5.8e-11 in the reference. The
# largest derivative is 0 here, so only the largest term is the right scale.
@example(bb=(np.array([[0, 0, 0.03125, 0]]), np.array([[0.03125, 0, 0.0625, 0]])))
def test_loss_gradients_match_torchvision_autograd(bb):
    """The reference's chain rule (conventions at kinks included: half to each of two equal
    coordinates in a ``min``/``max``, nothing through a non-overlap) equals torchvision's
    float64 autograd wherever torchvision's gradient is finite, within ``RTOL`` of the pair's
    largest term of that sum (or of torchvision's largest derivative, when larger): float64
    rounds each derivative relative to the terms it adds, and terms can cancel to 0."""
    import torchvision.ops as tvo

    b1, b2 = bb
    for name in FAMILY:
        t1, t2 = _t(b1).requires_grad_(True), _t(b2).requires_grad_(True)
        getattr(tvo, f"{name}_loss")(t1, t2, "sum").backward()
        g1, g2 = getattr(reference, f"{name}_loss_grad")(b1, b2)
        e1, e2 = t1.grad.numpy(), t2.grad.numpy()
        finite = np.isfinite(e1).all(axis=-1) & np.isfinite(e2).all(axis=-1)
        both = np.concatenate([np.abs(e1), np.abs(e2)], axis=-1)
        largest = np.maximum(both.max(axis=-1, initial=0.0), _largest_term(name, b1, b2))
        largest = np.where(finite, largest, 0.0)[:, None]
        for got, expected, which in ((g1, e1, "boxes1"), (g2, e2, "boxes2")):
            rows = np.isfinite(expected).all(axis=-1)
            scale = np.where(finite[:, None], largest, np.abs(expected))
            _close(got, expected, f"d {name}_loss / d {which}", where=rows, scale=scale)


@given(n=sizes(34), lattice=st.booleans(), data=st.data())
def test_clip_and_small_boxes_match_torchvision(n, lattice, data):
    """``clip_boxes_to_image`` and ``remove_small_boxes``: the same results, exactly."""
    import torchvision.ops as tvo

    from .strategies import clip_problems, min_sizes

    b, size = data.draw(clip_problems(n, lattice=lattice), label="boxes, size")
    got = reference.clip_boxes_to_image(b, size)
    assert np.array_equal(got, tvo.clip_boxes_to_image(_t(b), size).numpy())
    m = data.draw(min_sizes(b), label="min_size")
    got = reference.remove_small_boxes(b, m)
    assert got.tolist() == tvo.remove_small_boxes(_t(b), m).tolist()
