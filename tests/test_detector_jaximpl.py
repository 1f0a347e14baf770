"""jaximpl's detector operations (CONTRACT.md §3) as JAX code: they jit, vmap, do not compile
again for new values (new coder weights, thresholds and ``eps`` included), run on every
device, and behave under ``jit`` as their docstrings say for invalid input. What they
compute is the property suite's business (``properties/test_box_convert.py`` and the rest).
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaximpl
import reference
from jaximpl import box_coder as jbc
from jaximpl import clipping as jcl
from jaximpl import convert as jcv
from jaximpl import iou_losses as jil
from jaximpl import matcher as jm

F32 = np.float32


def random_boxes(rng: np.random.Generator, n: int, lo: float = 0.05) -> np.ndarray:
    c = rng.uniform(0, 1, (n, 2))
    s = rng.uniform(lo, 0.5, (n, 2))
    return np.concatenate([c - s / 2, c + s / 2], 1).astype(F32)


LOSSES = ("generalized_box_iou_loss", "distance_box_iou_loss", "complete_box_iou_loss")
PAIRWISE = ("generalized_box_iou", "distance_box_iou", "complete_box_iou")


def _calls(rng):
    """``(name, function, args)`` of every detector operation with static shapes."""
    b1, b2 = random_boxes(rng, 6), random_boxes(rng, 6)
    coder = jaximpl.BoxCoder((10.0, 10.0, 5.0, 5.0))
    q = np.asarray(reference.box_iou(b1[:3], b2), F32)
    calls = [
        ("box_convert", lambda b: jaximpl.box_convert(b, "xywh", "cxcywh"), (b1,)),
        ("encode", coder.encode, (b1, b2)),
        ("decode", coder.decode, (rng.normal(0, 2, (6, 4)).astype(F32), b2)),
        ("matcher", jaximpl.Matcher(0.5, 0.3, True), (q,)),
        ("clip", jaximpl.clip_boxes_to_image, (b1 * 2 - 0.5, jnp.asarray([1.0, 0.75]))),
        ("keep_mask", jaximpl.remove_small_boxes_keep_mask, (b1, 0.3)),
    ]
    calls += [(n, getattr(jaximpl, n), (b1, b2)) for n in LOSSES + PAIRWISE]
    return calls


@pytest.mark.parametrize("index", range(12))
def test_jit_equals_eager(index):
    rng = np.random.default_rng(1)
    name, f, args = _calls(rng)[index]
    eager = np.asarray(f(*args))
    jitted = np.asarray(jax.jit(f)(*args))
    np.testing.assert_allclose(jitted, eager, rtol=1e-6, atol=1e-7, err_msg=name)


@pytest.mark.parametrize("index", range(12))
def test_vmap_equals_loop(index):
    """A batch of 3 problems through ``jax.vmap`` equals the problems one by one."""
    rng = np.random.default_rng(2)
    problems = [_calls(np.random.default_rng(k))[index] for k in range(3)]
    name, f, _ = problems[0]
    stacked = [np.stack([p[2][i] for p in problems]) for i in range(len(problems[0][2]))]
    if name == "keep_mask":  # min_size is a scalar: shared
        batched = jax.vmap(lambda b: f(b, 0.3))(stacked[0])
    else:
        batched = jax.vmap(f)(*stacked)
    for k, p in enumerate(problems):
        np.testing.assert_allclose(
            np.asarray(batched[k]), np.asarray(f(*p[2])), rtol=1e-6, atol=1e-7, err_msg=name
        )
    del rng


def test_no_recompile_for_new_values():
    """New boxes, new coder weights and clamp, new matcher thresholds and new ``eps`` of the
    same shapes reuse the compiled cores."""
    cores = (
        jcv._convert,
        jbc._encode,
        jbc._decode,
        jm._match,
        jil._reduced_loss,
        jil._pairwise,
        jcl._clip,
        jcl._keep_mask,
    )
    sizes = None
    for k in range(3):
        rng = np.random.default_rng(10 + k)
        b1, b2 = random_boxes(rng, 7), random_boxes(rng, 7)
        jaximpl.box_convert(b1, "xyxy", "yxyx")
        coder = jaximpl.BoxCoder(
            (1.0 + k, 1.0, 2.0, 1.0 + k), bbox_xform_clip=3.0 + k, eps=1e-6 * k
        )
        coder.decode(coder.encode(b1, b2), b2)
        jaximpl.Matcher(0.5 + 0.1 * k, 0.2, True)(np.asarray(reference.box_iou(b1, b2), F32))
        for name in LOSSES:
            getattr(jaximpl, name)(b1, b2, "mean", 1e-7 * k)
        for name in PAIRWISE[1:]:
            getattr(jaximpl, name)(b1, b2, 1e-7 * k)
        jaximpl.clip_boxes_to_image(b1, (1.0 + k, 0.5))
        jaximpl.remove_small_boxes_keep_mask(b1, 0.1 * k)
        if k == 0:
            sizes = [c._cache_size() for c in cores]
    assert [c._cache_size() for c in cores] == sizes


def test_matcher_compares_thresholds_as_doubles():
    """jaximpl rounds each threshold up to the matrix's dtype, so a float32 quality of
    ``float32(0.7) < 0.7`` is below a threshold of 0.7, as in the reference (torchvision,
    comparing with ``float32(0.7)``, calls it equal)."""
    seven = np.float32(0.7)
    q = np.array([[np.float32(0.9), seven, np.nextafter(seven, F32(1))]], F32)
    got = np.asarray(jaximpl.Matcher(0.9, 0.7)(q))
    assert got.tolist() == reference.Matcher(0.9, 0.7)(q).tolist() == [-2, -1, -2]


def test_jitted_forms_on_invalid_input():
    """What the docstrings promise under ``jit``, where no value can be checked."""
    nan_box = np.array([[0, 0, np.nan, 1], [0, 0, 1, 1]], F32)
    mask = jax.jit(jaximpl.remove_small_boxes_keep_mask)(nan_box, 0.5)
    assert np.asarray(mask).tolist() == [False, True]
    q = np.array([[np.nan, 0.2], [np.nan, 0.9]], F32)
    assert np.asarray(jax.jit(jaximpl.Matcher(0.5, 0.3, True))(q)).tolist() == [-1, 1]
    coder = jaximpl.BoxCoder((1.0, 1.0, 1.0, 1.0))
    flat = np.array([[0, 0, 1, 0]], F32)  # zero height, eps = 0: torchvision's -inf
    codes = np.asarray(jax.jit(coder.encode)(flat, np.array([[0, 0, 1, 1]], F32)))
    assert codes[0, 3] == -np.inf and np.isfinite(codes[0, :3]).all()
    with pytest.raises(ValueError, match="^reference_boxes"):
        coder.encode(flat, np.array([[0, 0, 1, 1]], F32))
    with pytest.raises(TypeError, match="remove_small_boxes_keep_mask"):
        jax.jit(jaximpl.remove_small_boxes)(np.zeros((2, 4), F32), 0.5)


def test_value_and_grad_jits_and_is_finite_everywhere():
    """``jit(value_and_grad)`` of each loss (the benchmark's form) at ``eps = 0`` on every
    kind of kink at once: identical boxes, a point with itself, a point in a box, touching,
    nested with shared edges, two segments on one line."""
    b1 = np.array([[0, 0, 1, 1], [1, 1, 1, 1], [0.5, 0.5, 0.5, 0.5], [0, 0, 1, 1],
                   [0, 0, 1, 1], [0, 0, 1, 0]], F32)  # fmt: skip
    b2 = np.array([[0, 0, 1, 1], [1, 1, 1, 1], [0, 0, 1, 1], [1, 0, 2, 1],
                   [0, 0, 0.5, 1], [0.5, 0, 2, 0]], F32)  # fmt: skip
    for name in LOSSES:
        loss = getattr(jaximpl, name)
        f = jax.jit(jax.value_and_grad(lambda a, b, loss=loss: loss(a, b, "sum", 0.0)))
        value, grad = f(b1, b2)
        assert np.isfinite(float(value)) and np.isfinite(np.asarray(grad)).all(), name
        g_ref, _ = getattr(reference, f"{name}_grad")(b1, b2, 0.0)
        np.testing.assert_allclose(np.asarray(grad), g_ref, rtol=1e-5, atol=1e-5, err_msg=name)


@pytest.mark.parametrize("device", jax.devices(), ids=lambda d: f"{d.platform}{d.id}")
def test_runs_on_every_device(device):
    """Inputs committed to a device give results on that device, equal to the CPU
    reference within float32 rounding."""
    rng = np.random.default_rng(3)
    b1, b2 = random_boxes(rng, 8), random_boxes(rng, 8)
    d1, d2 = jax.device_put(b1, device), jax.device_put(b2, device)
    loss = jaximpl.complete_box_iou_loss(d1, d2)
    assert loss.devices() == {device}
    np.testing.assert_allclose(
        np.asarray(loss), reference.complete_box_iou_loss(b1, b2), rtol=1e-5, atol=1e-6
    )
    grad = jax.grad(lambda a: jaximpl.generalized_box_iou_loss(a, d2, "sum"))(d1)
    assert grad.devices() == {device}
    codes = jaximpl.BoxCoder((10.0, 10.0, 5.0, 5.0)).encode(d1, d2)
    assert codes.devices() == {device}
    q = jax.device_put(np.asarray(reference.box_iou(b1, b2), F32), device)
    assert jaximpl.Matcher(0.5, 0.4, True)(q).devices() == {device}
    assert jaximpl.box_convert(d1, "xyxy", "xywh").devices() == {device}
    assert math.isfinite(float(jnp.sum(jaximpl.clip_boxes_to_image(d1, (1.0, 1.0)))))
