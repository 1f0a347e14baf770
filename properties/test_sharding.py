"""A batch sharded over several devices gives the results of one device (CONTRACT.md §4).

``multibox_target``, ``multibox_detection``, the batched NMS (``nms_padded`` under
``jax.vmap``) and the class-aware ``batched_nms_padded`` (CONTRACT.md §3.2: several classes,
a score threshold) are jitted with their batch axis sharded over a one-axis device mesh
(``jax.sharding``, axis ``"batch"``; anchors and thresholds replicated) and must equal, bit
for bit, the same jitted functions on one device, with the outputs on every device and split
along the batch.

JAX fixes its CPU device count when it starts, so the check runs in one subprocess with
``--xla_force_host_platform_device_count=4`` (4 host devices; on the project's 2-core machine
they check correctness, not speed). Inputs are seeded lattice problems with ties (exact
decisions): scores in eighths, corners in 64ths; the batch (8 images) is split 2 per device.
Each function compiles twice (one device, 4 devices): the test took 27 s on the project's
machine at load average 6-7, 9 s of them ``batched_nms_padded``'s (paired runs without it).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DEVICES = 4

SCRIPT = textwrap.dedent(
    """
    import json, sys
    import jax, jax.numpy as jnp, numpy as np
    from jax.sharding import Mesh, NamedSharding, PartitionSpec as P
    from properties.plugin import load_implementation

    impl = load_implementation(sys.argv[1])
    devices = jax.devices()
    mesh = Mesh(np.array(devices), ("batch",))
    def batch(x):
        return jax.device_put(x, NamedSharding(mesh, P("batch", *[None] * (np.ndim(x) - 1))))
    def replicated(x):
        return jax.device_put(x, NamedSharding(mesh, P()))

    rng = np.random.default_rng(5)
    def lattice(*shape):  # corners in 64ths, extents >= 1/64 (valid anchors: coding divides)
        lo = rng.integers(0, 65, (*shape, 2))
        hi = lo + rng.integers(1, 33, (*shape, 2))
        return (np.concatenate([lo, hi], -1) / 64).astype(np.float32)

    B, A, G, C, N = 8, 80, 3, 3, 64
    anchors = lattice(1, A)
    labels = np.concatenate([rng.integers(-1, 4, (B, G, 1)).astype(np.float32), lattice(B, G)], -1)
    probs = (rng.integers(0, 4, (B, C + 1, A)) / 4).astype(np.float32)
    offs = (rng.integers(-8, 9, (B, 4 * A)) / 64).astype(np.float32)
    boxes, scores = lattice(B, N), (rng.integers(0, 8, (B, N)) / 8).astype(np.float32)
    classes = rng.integers(-1, 3, (B, N)).astype(np.int32)  # 4 classes, -1 one of them

    nms = jax.vmap(lambda b, s: impl.nms_padded(b, s, 0.5, 20))
    # Candidates: scores > 2/8 (strictly: the boxes scoring exactly 2/8 are out); 40 of
    # up to 48 candidates, so some images fill all 40 slots and some do not.
    batched = lambda b, s, c: impl.batched_nms_padded(b, s, c, 0.5, 40, score_threshold=0.25)
    cases = {
        "multibox_target": (impl.multibox_target, (anchors, labels), (replicated, batch)),
        "multibox_detection": (
            impl.multibox_detection, (probs, offs, anchors), (batch, batch, replicated)
        ),
        "batched nms_padded": (nms, (boxes, scores), (batch, batch)),
        "batched_nms_padded": (batched, (boxes, scores, classes), (batch, batch, batch)),
    }
    report = {"devices": len(devices)}
    for name, (f, args, puts) in cases.items():
        f = jax.jit(f)
        one = jax.tree_util.tree_leaves(f(*[jax.device_put(a, devices[0]) for a in args]))
        many = jax.tree_util.tree_leaves(f(*[put(a) for put, a in zip(puts, args)]))
        one, many_np = [np.asarray(x) for x in one], [np.asarray(y) for y in many]
        report[name] = {
            "equal": [bool(np.array_equal(x, y)) for x, y in zip(one, many_np)],
            "close": [
                bool(np.allclose(x, y, rtol=2**-20, atol=5 * 2**-20)) for x, y in zip(one, many_np)
            ],
            "everywhere": all(len(y.sharding.device_set) == len(devices) for y in many),
            # Each device holds B / devices images of each output (not all B: replicated).
            "split": [y.sharding.shard_shape(y.shape)[0] * len(devices) == B for y in many],
        }
    print(json.dumps(report))
    """
)


def test_sharded_batch_equals_one_device(impl):
    """Jitted with the batch sharded over 4 host devices, ``multibox_target``,
    ``multibox_detection``, ``vmap(nms_padded)`` and ``batched_nms_padded`` return exactly the
    one-device results, on all 4 devices and split along the batch."""
    for name in ("multibox_target", "multibox_detection", "nms_padded", "batched_nms_padded"):
        if not impl.has(name):
            pytest.skip(f"{impl.name} has no {name}")
    env = dict(os.environ)
    env["XLA_FLAGS"] = (
        env.get("XLA_FLAGS", "") + f" --xla_force_host_platform_device_count={DEVICES}"
    ).strip()
    env["JAX_PLATFORMS"] = "cpu"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    name = impl.module.__name__
    spec = impl.path if name.startswith("_impl_under_test_") else name  # file or module
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, spec],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0 and "TracerArrayConversionError" in done.stderr:
        pytest.skip(f"{impl.name} cannot be jitted (not a JAX implementation)")
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["devices"] == DEVICES, report
    for name in ("multibox_target", "multibox_detection", "batched nms_padded"):
        assert report[name]["everywhere"], (name, "output not on every device", report[name])
        assert all(report[name]["split"]), (name, "output not split along the batch", report)
    assert report["batched_nms_padded"]["everywhere"], ("batched_nms_padded", report)
    assert all(report["batched_nms_padded"]["split"]), ("batched_nms_padded not split", report)
    # Decisions bit for bit: masks, classes, detections (rows, classes, confidences, boxes),
    # kept indices and counts. The target's offsets go through float32 log, which XLA:CPU
    # computes in vector code and in scalar code for the leftover elements of a loop: which
    # element takes which path depends on the shard's shape, so an offset may move by an
    # ulp or so of the values it comes from (measured: 1 ulp; allowed: 8 ulps of the offset,
    # or of 5 = 5 log(1 + 2**-23)-sized offsets near 0).
    offsets, mask, labels = report["multibox_target"]["equal"]
    assert mask and labels, ("multibox_target", "mask or class labels differ", report)
    assert report["multibox_target"]["close"][0], ("offsets beyond rounding", report)
    for name in ("multibox_detection", "batched nms_padded", "batched_nms_padded"):
        assert all(report[name]["equal"]), (name, "sharded result differs from one device")
