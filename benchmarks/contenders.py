"""How each contender runs each operation.

``prepare(op, contender, inputs)`` converts the workload's NumPy inputs to the
contender's own arrays (on its device), compiles and warms it, and returns a
``Prepared`` whose ``call()`` runs the operation once and waits for the result
(``block_until_ready`` for JAX, ``torch.cuda.synchronize`` for CUDA). Only
``call()`` is timed. It raises ``Unavailable`` when the contender cannot run the
operation here (no such op, no CUDA, an attribute ``jaximpl`` does not have yet).

On ``box_iou`` three write probes run too (``workloads.PROBES``): a plain write of
the ``(N, M)`` float32 output, the bound a ``box_iou`` cannot beat.

Compile time is reported apart from run time:

- ``jaximpl``: wall time of ``jax.jit(f).lower(*args).compile()`` (tracing,
  lowering and XLA compilation); the timed call is that compiled executable. NMS
  and detection compile on CPU with ``jaximpl.COMPILER_OPTIONS``, the options
  jaximpl's own entry points use and its README tells users to pass to their
  ``jit`` (512-bit vectors where the CPU has them).
- ``naive-d2l``: its jitted pieces are compiled on the first call, so its compile
  time is the first call's time minus the second's.

``BENCH_JAXIMPL=module`` benchmarks another module with ``jaximpl``'s API in its
place (a fork, or a deliberately slowed wrapper to check that the gate fails).
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from time import perf_counter
from typing import Any

import numpy as np

from . import workloads as wl


class Unavailable(Exception):
    """The contender cannot run this operation on this machine (the reason is the message)."""


@dataclass
class Prepared:
    call: Callable[[], Any]
    compile_s: float | None = None
    compile_method: str | None = None
    device: str = "cpu"
    notes: dict = field(default_factory=dict)
    cold: bool = False  # time one call, no warm-up: it clears the JAX caches itself


def jaximpl_module():
    name = os.environ.get("BENCH_JAXIMPL", "jaximpl")
    try:
        return importlib.import_module(name)
    except ImportError as e:  # pragma: no cover - depends on the checkout
        raise Unavailable(f"cannot import {name}: {e}") from None


def _need(module, attr: str):
    fn = getattr(module, attr, None)
    if fn is None:
        raise Unavailable(f"{module.__name__} has no {attr} (yet)")
    return fn


def prepare(op: str, contender: str, inputs: dict) -> Prepared:
    fn = _PREPARERS.get((op, contender))
    if fn is None:
        raise Unavailable(f"{contender} has no {op}")
    return fn(inputs)


# --------------------------------------------------------------------------- JAX helpers


def _jax():
    import jax

    return jax


def _device_put(*arrays):
    jax = _jax()
    out = [jax.device_put(np.asarray(a)) for a in arrays]
    jax.block_until_ready(out)
    return out


def _jax_device() -> str:
    jax = _jax()
    d = jax.devices()[0]
    return f"{d.platform}:{getattr(d, 'device_kind', '')}"


def _aot(fn, *args, options: dict | None = None) -> Prepared:
    """Compile ``fn`` for ``args`` ahead of time (with XLA compiler ``options``); time the
    compile; warm the executable."""
    jax = _jax()
    t0 = perf_counter()
    compiled = jax.jit(fn, compiler_options=options).lower(*args).compile()
    compile_s = perf_counter() - t0

    def call():
        return jax.block_until_ready(compiled(*args))

    call()  # warm: first run allocates
    return Prepared(call, compile_s, "lower+compile", _jax_device())


def _first_call(fn) -> Prepared:
    """Warm a function that compiles on its first call; compile = first call - second call."""
    t0 = perf_counter()
    fn()
    first = perf_counter() - t0
    t0 = perf_counter()
    fn()
    second = perf_counter() - t0
    return Prepared(fn, max(first - second, 0.0), "first call - second call", _jax_device())


def _block(fn):
    jax = _jax()

    def call():
        return jax.block_until_ready(fn())

    return call


# --------------------------------------------------------------------------- jaximpl


def _jaximpl_options() -> dict | None:
    """``jaximpl.COMPILER_OPTIONS`` on CPU (None where the module has none, or off CPU)."""
    if _jax().default_backend() != "cpu":
        return None
    return getattr(jaximpl_module(), "COMPILER_OPTIONS", None)


def _jax_box_iou(inp):
    f = _need(jaximpl_module(), "box_iou")
    return _aot(f, *_device_put(inp["boxes1"], inp["boxes2"]))


def _jax_nms(inp):
    jnp = _jax().numpy
    f = _need(jaximpl_module(), "nms_padded")
    boxes, scores = _device_put(inp["boxes"], inp["scores"])
    n = int(boxes.shape[0])
    thr = jnp.float32(inp["iou_threshold"])

    def nms_all(b, s, t):  # max_output_size = N: the full NMS, as torchvision computes it
        return f(b, s, t, n)

    p = _aot(nms_all, boxes, scores, thr, options=_jaximpl_options())
    p.notes["kept"] = int(p.call()[1])
    return p


def _jax_prior(inp):
    f = _need(jaximpl_module(), "multibox_prior")
    data, sizes, ratios = _device_put(
        np.zeros(inp["data_shape"], np.float32),
        np.asarray(inp["sizes"], np.float32),
        np.asarray(inp["ratios"], np.float32),
    )
    return _aot(f, data, sizes, ratios)


def _jax_target(inp):
    f = _need(jaximpl_module(), "multibox_target")
    return _aot(f, *_device_put(inp["anchors"], inp["labels"]))


def _jax_detection(inp):
    f = _need(jaximpl_module(), "multibox_detection")
    args = _device_put(inp["cls_probs"], inp["offset_preds"], inp["anchors"])
    return _aot(f, *args, options=_jaximpl_options())


def _jax_loss(op: str):
    """``jit(value_and_grad)`` of the summed loss by ``boxes1`` (CONTRACT.md §3.5)."""

    def prepare_(inp):
        jax = _jax()
        f = _need(jaximpl_module(), op)
        b1, b2 = _device_put(inp["boxes1"], inp["boxes2"])
        return _aot(jax.value_and_grad(lambda a, b: f(a, b, "sum")), b1, b2)

    return prepare_


def _jax_nms_stream(inp):
    """The eager ``jaximpl.nms`` on every image of the stream, as a user calls it (host
    arrays in, the kept indices back on the host). On a ``cold`` workload the JAX caches
    are cleared first, so the call includes every compile the stream triggers."""
    jax = _jax()
    f = _need(jaximpl_module(), "nms")
    images, t, cold = inp["images"], inp["iou_threshold"], inp.get("cold", False)

    def call():
        if cold:
            jax.clear_caches()
        return [np.asarray(f(b, s, t)) for b, s in images]

    p = Prepared(call, device=_jax_device(), cold=cold)
    if not cold:
        t0 = perf_counter()
        kept = call()  # compiles every bucket the stream needs
        p.compile_s, p.compile_method = perf_counter() - t0, "first pass (compiles + run)"
        p.notes["kept"] = sum(len(k) for k in kept)
    return p


# --------------------------------------------------------------------------- naive d2l port


def _naive_box_iou(inp):
    from . import naive_d2l

    b1, b2 = _device_put(inp["boxes1"], inp["boxes2"])
    return _first_call(_block(lambda: naive_d2l.box_iou(b1, b2)))


def _naive_nms(inp):
    from . import naive_d2l

    boxes, scores, t = inp["boxes"], inp["scores"], inp["iou_threshold"]
    p = Prepared(lambda: naive_d2l.nms(boxes, scores, t), device="host")
    p.notes["kept"] = len(p.call())
    return p


def _naive_prior(inp):
    from . import naive_d2l

    (data,) = _device_put(np.zeros(inp["data_shape"], np.float32))
    return _first_call(_block(lambda: naive_d2l.multibox_prior(data, inp["sizes"], inp["ratios"])))


def _naive_target(inp):
    from . import naive_d2l

    anchors, labels = _device_put(inp["anchors"], inp["labels"])
    return _first_call(_block(lambda: naive_d2l.multibox_target(anchors, labels)))


def _naive_detection(inp):
    from . import naive_d2l

    probs, offs, anchors = _device_put(inp["cls_probs"], inp["offset_preds"], inp["anchors"])
    return _first_call(_block(lambda: naive_d2l.multibox_detection(probs, offs, anchors)))


# --------------------------------------------------------------------------- the chapter, one jit


def _d2l_jit_box_iou(inp):
    from . import naive_d2l

    return _aot(naive_d2l._box_iou, *_device_put(inp["boxes1"], inp["boxes2"]))


def _d2l_jit_prior(inp):
    from . import naive_d2l

    height, width = inp["data_shape"][-2:]
    sizes, ratios = _device_put(
        np.asarray(inp["sizes"], np.float32), np.asarray(inp["ratios"], np.float32)
    )
    return _aot(lambda s, r: naive_d2l._multibox_prior(height, width, s, r), sizes, ratios)


def _d2l_jit_target(inp):
    from . import naive_d2l

    return _aot(naive_d2l.multibox_target_jit, *_device_put(inp["anchors"], inp["labels"]))


# --------------------------------------------------------------------------- NumPy reference


def _reference():
    try:
        return importlib.import_module("reference")
    except ImportError as e:  # pragma: no cover
        raise Unavailable(f"cannot import reference: {e}") from None


def _f64(*arrays):
    return [np.asarray(a, np.float64) for a in arrays]


def _ref_box_iou(inp):
    f = _need(_reference(), "box_iou")
    b1, b2 = _f64(inp["boxes1"], inp["boxes2"])
    return Prepared(lambda: f(b1, b2))


def _ref_nms(inp):
    f = _need(_reference(), "nms")
    boxes, scores = _f64(inp["boxes"], inp["scores"])
    t = inp["iou_threshold"]
    p = Prepared(lambda: f(boxes, scores, t))
    p.notes["kept"] = len(p.call())
    return p


def _ref_prior(inp):
    f = _need(_reference(), "multibox_prior")
    data = np.zeros(inp["data_shape"], np.float32)
    return Prepared(lambda: f(data, inp["sizes"], inp["ratios"]))


def _ref_target(inp):
    f = _need(_reference(), "multibox_target")
    anchors, labels = _f64(inp["anchors"], inp["labels"])
    return Prepared(lambda: f(anchors, labels))


def _ref_detection(inp):
    f = _need(_reference(), "multibox_detection")
    probs, offs, anchors = _f64(inp["cls_probs"], inp["offset_preds"], inp["anchors"])
    return Prepared(lambda: f(probs, offs, anchors))


def _ref_loss(op: str):
    """The reference's loss and its analytic gradient (``*_loss_grad``), float64."""

    def prepare_(inp):
        loss, grad = _need(_reference(), op), _need(_reference(), f"{op}_grad")
        b1, b2 = _f64(inp["boxes1"], inp["boxes2"])
        return Prepared(lambda: (loss(b1, b2, "sum"), grad(b1, b2)[0]))

    return prepare_


# --------------------------------------------------------------------------- torchvision


def _torch(cuda: bool):
    try:
        import torch
        import torchvision
    except ImportError as e:  # pragma: no cover
        raise Unavailable(f"torchvision not installed: {e}") from None
    if cuda and not torch.cuda.is_available():
        raise Unavailable("no CUDA device visible to torch")
    return torch, torchvision


def _tv_box_iou(inp, cuda=False):
    torch, tv = _torch(cuda)
    dev = "cuda" if cuda else "cpu"
    b1 = torch.from_numpy(inp["boxes1"]).to(dev)
    b2 = torch.from_numpy(inp["boxes2"]).to(dev)

    def call():
        out = tv.ops.box_iou(b1, b2)
        if cuda:
            torch.cuda.synchronize()
        return out

    call()
    return Prepared(call, device=f"torch:{dev}")


def _tv_nms(inp, cuda=False):
    torch, tv = _torch(cuda)
    dev = "cuda" if cuda else "cpu"
    boxes = torch.from_numpy(inp["boxes"]).to(dev)
    scores = torch.from_numpy(inp["scores"]).to(dev)
    t = float(inp["iou_threshold"])

    def call():
        out = tv.ops.nms(boxes, scores, t)
        if cuda:
            torch.cuda.synchronize()
        return out

    p = Prepared(call, device=f"torch:{dev}")
    p.notes["kept"] = int(call().shape[0])
    return p


def _tv_nms_stream(inp, cuda=False):
    """``torchvision.ops.nms`` on every image of the stream (tensors made beforehand)."""
    torch, tv = _torch(cuda)
    dev = "cuda" if cuda else "cpu"
    images = [(torch.from_numpy(b).to(dev), torch.from_numpy(s).to(dev)) for b, s in inp["images"]]
    t = float(inp["iou_threshold"])

    def call():
        out = [tv.ops.nms(b, s, t) for b, s in images]
        if cuda:
            torch.cuda.synchronize()
        return out

    p = Prepared(call, device=f"torch:{dev}")
    p.notes["kept"] = sum(int(k.shape[0]) for k in call())
    return p


def torch_detection(tv, torch, cls_probs, offset_preds, anchors, nms_threshold, pos_threshold):
    """``multibox_detection`` as a PyTorch user writes it: a batched decode in torch, then
    ``torchvision.ops.nms`` per image and the rows in the contract's order (kept boxes in
    selection order, then the others by anchor index with class -1; below
    ``pos_threshold``: class -1 and ``1 - conf``). ``(B, C+1, A), (B, 4A), (1, A, 4)``
    tensors -> ``(B, A, 6)``."""
    batch, _, num_anchors = cls_probs.shape
    conf, class_id = torch.max(cls_probs[:, 1:], dim=1)  # (B, A)
    anc = anchors[0]
    wh = anc[:, 2:] - anc[:, :2]
    centre = (anc[:, :2] + anc[:, 2:]) / 2
    offs = offset_preds.reshape(batch, num_anchors, 4)
    xy = offs[..., :2] * wh / 10 + centre
    pwh = torch.exp(offs[..., 2:] / 5) * wh
    boxes = torch.cat([xy - pwh / 2, xy + pwh / 2], dim=-1)  # (B, A, 4)
    out = []
    for i in range(batch):
        keep = tv.ops.nms(boxes[i], conf[i], nms_threshold)
        kept = torch.zeros(num_anchors, dtype=torch.bool)
        kept[keep] = True
        order = torch.cat([keep, torch.nonzero(~kept).flatten()])
        cid = torch.where(kept, class_id[i], -1)[order]
        cf = conf[i][order]
        below = cf < pos_threshold
        cid = torch.where(below, -1, cid)
        cf = torch.where(below, 1 - cf, cf)
        out.append(torch.cat([cid[:, None].to(cf.dtype), cf[:, None], boxes[i][order]], dim=1))
    return torch.stack(out)


def _tv_detection(inp, cuda=False):
    torch, tv = _torch(cuda)
    if cuda:
        raise Unavailable("the torchvision detection pipeline is CPU only here")
    args = [torch.from_numpy(inp[k]) for k in ("cls_probs", "offset_preds", "anchors")]

    def call():
        return torch_detection(tv, torch, *args, 0.5, 0.009999999)

    call()
    return Prepared(call, device="torch:cpu")


def _tv_loss(op: str, cuda: bool = False):
    """``torchvision.ops.<loss>(boxes1, boxes2, reduction="sum").backward()``, the gradient
    by ``boxes1`` (float32 tensors, as the model's predictions would be)."""

    def prepare_(inp):
        torch, tv = _torch(cuda)
        dev = "cuda" if cuda else "cpu"
        loss = getattr(tv.ops, op)
        b1 = torch.from_numpy(inp["boxes1"]).to(dev).requires_grad_(True)
        b2 = torch.from_numpy(inp["boxes2"]).to(dev)

        def call():
            b1.grad = None
            value = loss(b1, b2, reduction="sum")
            value.backward()
            if cuda:
                torch.cuda.synchronize()
            return value, b1.grad

        call()
        return Prepared(call, device=f"torch:{dev}")

    return prepare_


# --------------------------------------------------------------------------- write probes


def _output_shape(inp) -> tuple[int, int]:
    return int(inp["boxes1"].shape[0]), int(inp["boxes2"].shape[0])


def _probe_np_fill(inp):
    shape = _output_shape(inp)

    def call():
        out = np.empty(shape, np.float32)
        out.fill(0.0)
        return out

    call()
    return Prepared(call, device="host")


def _probe_np_fill_reused(inp):
    buf = np.empty(_output_shape(inp), np.float32)

    def call():
        buf.fill(0.0)
        return buf

    call()
    return Prepared(call, device="host")


def _probe_jnp_zeros(inp):
    jnp = _jax().numpy
    shape = _output_shape(inp)
    return _aot(lambda: jnp.zeros(shape, jnp.float32))


_PREPARERS: dict[tuple[str, str], Callable[[dict], Prepared]] = {
    ("box_iou", wl.JAXIMPL): _jax_box_iou,
    ("nms", wl.JAXIMPL): _jax_nms,
    ("multibox_prior", wl.JAXIMPL): _jax_prior,
    ("multibox_target", wl.JAXIMPL): _jax_target,
    ("multibox_detection", wl.JAXIMPL): _jax_detection,
    ("box_iou", wl.NAIVE): _naive_box_iou,
    ("nms", wl.NAIVE): _naive_nms,
    ("multibox_prior", wl.NAIVE): _naive_prior,
    ("multibox_target", wl.NAIVE): _naive_target,
    ("multibox_detection", wl.NAIVE): _naive_detection,
    ("box_iou", wl.REFERENCE): _ref_box_iou,
    ("nms", wl.REFERENCE): _ref_nms,
    ("multibox_prior", wl.REFERENCE): _ref_prior,
    ("multibox_target", wl.REFERENCE): _ref_target,
    ("multibox_detection", wl.REFERENCE): _ref_detection,
    ("box_iou", wl.TORCHVISION): _tv_box_iou,
    ("nms", wl.TORCHVISION): _tv_nms,
    ("box_iou", wl.TORCHVISION_CUDA): lambda inp: _tv_box_iou(inp, cuda=True),
    ("nms", wl.TORCHVISION_CUDA): lambda inp: _tv_nms(inp, cuda=True),
    ("multibox_detection", wl.TORCHVISION): _tv_detection,
    ("box_iou", wl.D2L_JIT): _d2l_jit_box_iou,
    ("multibox_prior", wl.D2L_JIT): _d2l_jit_prior,
    ("multibox_target", wl.D2L_JIT): _d2l_jit_target,
    ("nms_stream", wl.JAXIMPL): _jax_nms_stream,
    ("nms_stream", wl.TORCHVISION): _tv_nms_stream,
    ("nms_stream", wl.TORCHVISION_CUDA): lambda inp: _tv_nms_stream(inp, cuda=True),
    ("box_iou", wl.WRITE_NP): _probe_np_fill,
    ("box_iou", wl.WRITE_JNP): _probe_jnp_zeros,
    ("box_iou", wl.WRITE_REUSED): _probe_np_fill_reused,
}
for _op in wl.LOSS_OPS:
    _PREPARERS[(_op, wl.JAXIMPL)] = _jax_loss(_op)
    _PREPARERS[(_op, wl.REFERENCE)] = _ref_loss(_op)
    _PREPARERS[(_op, wl.TORCHVISION)] = _tv_loss(_op)
    _PREPARERS[(_op, wl.TORCHVISION_CUDA)] = _tv_loss(_op, cuda=True)


# --------------------------------------------------------------------------- class-aware NMS
# CONTRACT.md §3.2: jaximpl's static twin on one image (max_output_size = N, the full
# result), the reference's per-class loop, torchvision.ops.batched_nms.


def _jax_batched_nms(inp):
    jnp = _jax().numpy
    f = _need(jaximpl_module(), "batched_nms_padded")
    boxes, scores, idxs = _device_put(inp["boxes"][None], inp["scores"][None], inp["idxs"][None])
    n = int(boxes.shape[1])
    thr = jnp.float32(inp["iou_threshold"])

    def batched_all(b, s, c, t):
        return f(b, s, c, t, n)

    p = _aot(batched_all, boxes, scores, idxs, thr, options=_jaximpl_options())
    p.notes["kept"] = int(p.call()[1][0])
    return p


def _ref_batched_nms(inp):
    f = _need(_reference(), "batched_nms")
    boxes, scores = _f64(inp["boxes"], inp["scores"])
    idxs, t = inp["idxs"].astype(np.int64), inp["iou_threshold"]
    p = Prepared(lambda: f(boxes, scores, idxs, t))
    p.notes["kept"] = len(p.call())
    return p


def _tv_batched_nms(inp, cuda=False):
    torch, tv = _torch(cuda)
    dev = "cuda" if cuda else "cpu"
    idxs = inp["idxs"].astype(np.int64)
    tensors = [torch.from_numpy(a).to(dev) for a in (inp["boxes"], inp["scores"], idxs)]
    sync = torch.cuda.synchronize if cuda else (lambda: None)

    def call():
        out = tv.ops.batched_nms(*tensors, float(inp["iou_threshold"]))
        sync()
        return out

    return Prepared(call, device=f"torch:{dev}", notes={"kept": int(call().shape[0])})


_PREPARERS[("batched_nms", wl.JAXIMPL)] = _jax_batched_nms
_PREPARERS[("batched_nms", wl.REFERENCE)] = _ref_batched_nms
_PREPARERS[("batched_nms", wl.TORCHVISION)] = _tv_batched_nms
_PREPARERS[("batched_nms", wl.TORCHVISION_CUDA)] = lambda inp: _tv_batched_nms(inp, cuda=True)
