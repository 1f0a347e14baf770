"""The naive d2l baseline computes what the reference computes (it is only a speed baseline
if it is correct). Golden cases of the d2l chapter, then seeded random cases on an exact
lattice (coordinates multiples of 1/64, threshold 0.5), where float32 and float64 make the
same decisions. Run by ``pytest benchmarks`` and by the gate; not part of the default
``pytest`` run (its testpaths are ``properties`` and ``tests``).
"""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from benchmarks import naive_d2l as naive
from benchmarks import workloads as wl

reference = pytest.importorskip("reference")
ROOT = Path(__file__).resolve().parent.parent


def test_project_golden_cases():
    """The project's golden cases (``properties/test_golden.py``) with ``--impl`` = the baseline."""
    golden = ROOT / "properties" / "test_golden.py"
    if not golden.exists():
        pytest.skip("properties/test_golden.py not in this checkout")
    registered = any(
        ep.value == "properties.plugin" for ep in importlib.metadata.entry_points(group="pytest11")
    )
    cmd = [sys.executable, "-m", "pytest", str(golden), "--impl=benchmarks.naive_d2l"]
    cmd += ["-q", "-p", "no:cacheprovider", "-p", "no:xdist"]
    if not registered:
        cmd += ["-p", "properties.plugin"]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]


# The chapter's example of multibox_target (d2l 14.4.3.3).
D2L_GT = np.array([[0, 0.1, 0.08, 0.52, 0.92], [1, 0.55, 0.2, 0.9, 0.88]], np.float32)
D2L_ANCHORS = np.array(
    [
        [0, 0.1, 0.2, 0.3],
        [0.15, 0.2, 0.4, 0.4],
        [0.63, 0.05, 0.88, 0.98],
        [0.66, 0.45, 0.8, 0.8],
        [0.57, 0.3, 0.92, 0.9],
    ],
    np.float32,
)
# The chapter's example of multibox_detection (d2l 14.4.4).
D2L_DET_ANCHORS = np.array(
    [
        [0.1, 0.08, 0.52, 0.92],
        [0.08, 0.2, 0.56, 0.95],
        [0.15, 0.3, 0.62, 0.91],
        [0.55, 0.2, 0.9, 0.88],
    ],
    np.float32,
)
D2L_CLS_PROBS = np.array([[0] * 4, [0.9, 0.8, 0.7, 0.1], [0.1, 0.2, 0.3, 0.9]], np.float32)


def lattice_boxes(rng, n, lo=1, hi=32):
    """Boxes with corners on the 1/64 lattice in [0, 2] (exact in float32)."""
    xy = rng.integers(0, 96, (n, 2))
    wh = rng.integers(lo, hi, (n, 2))
    return (np.concatenate([xy, xy + wh], 1) / 64).astype(np.float32)


def test_chapter_target_example():
    offsets, mask, cls = naive.multibox_target(D2L_ANCHORS[None], D2L_GT[None])
    np.testing.assert_array_equal(np.asarray(cls), [[0, 1, 2, 0, 2]])
    np.testing.assert_array_equal(
        np.asarray(mask), [[0] * 4 + [1] * 4 + [1] * 4 + [0] * 4 + [1] * 4]
    )
    ref = reference.multibox_target(D2L_ANCHORS[None], D2L_GT[None])
    np.testing.assert_allclose(np.asarray(offsets), ref[0], rtol=1e-5, atol=1e-5)


def test_chapter_detection_example():
    offs = np.zeros((1, 16), np.float32)
    out = np.asarray(naive.multibox_detection(D2L_CLS_PROBS[None], offs, D2L_DET_ANCHORS[None]))
    expected = [
        [0, 0.9, 0.1, 0.08, 0.52, 0.92],
        [1, 0.9, 0.55, 0.2, 0.9, 0.88],
        [-1, 0.8, 0.08, 0.2, 0.56, 0.95],
        [-1, 0.7, 0.15, 0.3, 0.62, 0.91],
    ]
    np.testing.assert_allclose(out[0], expected, atol=1e-6)
    ref = reference.multibox_detection(D2L_CLS_PROBS[None], offs, D2L_DET_ANCHORS[None])
    np.testing.assert_allclose(out, ref, atol=1e-6)


def test_chapter_nms_example():
    scores = D2L_CLS_PROBS[1:].max(0)
    np.testing.assert_array_equal(naive.nms(D2L_DET_ANCHORS, scores, 0.5), [0, 3])


@pytest.mark.parametrize("seed", range(5))
def test_box_iou_matches_reference(seed):
    r = np.random.default_rng(seed)
    b1, b2 = lattice_boxes(r, 40, lo=0), lattice_boxes(r, 30, lo=0)  # degenerate boxes too
    np.testing.assert_allclose(
        np.asarray(naive.box_iou(b1, b2)), reference.box_iou(b1, b2), rtol=1e-6, atol=1e-7
    )


@pytest.mark.parametrize("seed", range(5))
def test_nms_matches_reference(seed):
    r = np.random.default_rng(seed)
    boxes = lattice_boxes(r, 300)
    scores = r.integers(0, 20, 300).astype(np.float32)  # many ties: lower index first
    for t in (0.0, 0.25, 0.5, 0.75):
        np.testing.assert_array_equal(naive.nms(boxes, scores, t), reference.nms(boxes, scores, t))


@pytest.mark.parametrize("seed", range(5))
def test_multibox_target_matches_reference(seed):
    r = np.random.default_rng(seed)
    anchors = lattice_boxes(r, 200)[None]
    g = 6
    labels = np.concatenate(
        [r.integers(0, 5, (3, g, 1)).astype(np.float32), lattice_boxes(r, 3 * g).reshape(3, g, 4)],
        -1,
    )
    labels[0, 4:, 0] = -1  # padding rows
    labels[1, :, 0] = -1  # an image with no ground truth at all
    ref = reference.multibox_target(anchors, labels)
    # The per-image loop (naive-d2l) and the whole function under one jit (d2l-jit).
    for out in (naive.multibox_target(anchors, labels), naive.multibox_target_jit(anchors, labels)):
        np.testing.assert_array_equal(np.asarray(out[2]), ref[2])
        np.testing.assert_array_equal(np.asarray(out[1]), ref[1])
        np.testing.assert_allclose(np.asarray(out[0]), ref[0], rtol=1e-4, atol=1e-4)


def test_more_ground_truth_than_anchors():
    r = np.random.default_rng(7)
    anchors = lattice_boxes(r, 3)[None]
    labels = np.concatenate(
        [np.zeros((1, 8, 1), np.float32), lattice_boxes(r, 8).reshape(1, 8, 4)], -1
    )
    out = naive.multibox_target(anchors, labels)
    ref = reference.multibox_target(anchors, labels)
    np.testing.assert_array_equal(np.asarray(out[2]), ref[2])


def test_multibox_prior_matches_reference():
    data = np.zeros((1, 3, 7, 9), np.float32)
    out = naive.multibox_prior(data, wl.SIZES, wl.RATIOS)
    ref = reference.multibox_prior(data, wl.SIZES, wl.RATIOS)
    np.testing.assert_allclose(np.asarray(out), ref, atol=1e-6)
    np.testing.assert_allclose(wl.anchors_for(7, 9), ref, atol=1e-6)


@pytest.mark.parametrize("seed", range(3))
def test_multibox_detection_matches_reference(seed):
    r = np.random.default_rng(seed)
    a, c = 150, 4
    anchors = lattice_boxes(r, a)[None]
    logits = r.normal(0, 1, (2, c + 1, a))
    probs = (np.exp(logits) / np.exp(logits).sum(1, keepdims=True)).astype(np.float32)
    probs[:, 1:, :10] = 0.005  # some rows below pos_threshold
    offs = np.zeros((2, 4 * a), np.float32)  # decoded boxes = anchors: exact lattice
    out = np.asarray(naive.multibox_detection(probs, offs, anchors))
    ref = reference.multibox_detection(probs, offs, anchors)
    np.testing.assert_array_equal(out[:, :, 0], ref[:, :, 0])
    np.testing.assert_allclose(out, ref, atol=1e-6)


@pytest.mark.parametrize("seed", range(3))
def test_torchvision_detection_pipeline_matches_reference(seed):
    """The ``torchvision`` contender of ``multibox_detection`` (decode in torch,
    ``torchvision.ops.nms`` per image, the contract's row order) computes the reference's
    detections: lattice anchors, offsets that move them, rows below ``pos_threshold``."""
    torch = pytest.importorskip("torch")
    tv = pytest.importorskip("torchvision")
    from benchmarks.contenders import torch_detection

    r = np.random.default_rng(seed)
    a, c = 150, 4
    anchors = lattice_boxes(r, a)[None]
    logits = r.normal(0, 1, (2, c + 1, a))
    probs = (np.exp(logits) / np.exp(logits).sum(1, keepdims=True)).astype(np.float32)
    probs[:, 1:, :10] = 0.005
    offs = r.normal(0, 0.3, (2, 4 * a)).astype(np.float32)
    args = [torch.from_numpy(x) for x in (probs, offs, anchors)]
    out = torch_detection(tv, torch, *args, 0.5, 0.009999999).numpy()
    ref = reference.multibox_detection(probs, offs, anchors)
    np.testing.assert_array_equal(out[:, :, 0], ref[:, :, 0])
    np.testing.assert_allclose(out, ref, atol=1e-5)


def test_workload_generators_are_valid_and_fixed():
    for w in wl.WORKLOADS:
        if w.op == "multibox_target" and "2042040" in w.name:
            continue  # large; same generator as the small one
        a, b = w.make(), w.make()
        for k, v in a.items():
            if isinstance(v, np.ndarray):
                assert np.isfinite(v).all(), (w.id, k)
                np.testing.assert_array_equal(v, b[k])
