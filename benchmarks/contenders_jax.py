"""The JAX contenders (:mod:`benchmarks.contenders`): ``jaximpl``, the naive d2l port, the
chapter's code under one jit, and the write probes of ``box_iou``'s output."""

from __future__ import annotations

from collections.abc import Callable
from time import perf_counter

import numpy as np

from . import workloads as wl
from ._shared import (
    Prepared,
    _aot,
    _block,
    _device_put,
    _first_call,
    _jax,
    _jax_device,
    _jaximpl_options,
    _need,
    jaximpl_module,
)

# -------------------------------------------------------------------- jaximpl


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


# ------------------------------------------------------------ class-aware NMS
# CONTRACT.md §3.2: jaximpl's static twin on one image (max_output_size = N, the full
# result).


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


# ------------------------------------------------------------- naive d2l port


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


# ------------------------------------------------------- the chapter, one jit


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


# --------------------------------------------------------------- write probes


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


def _limit_target(inp):
    """multibox_target's limit (``workloads.TARGET_LIMIT``): the batched IoU, then one pass
    writing outputs of the target's shapes from each anchor's best IoU.

    The fastest of the forms tried on XLA:CPU: coordinates as rows (anchors ``(4, A)``), the
    maximum over the ``G`` ground truths unrolled into ``G`` fused elementwise steps, and the
    ``(B, 4A)`` outputs as four stacked copies (``jnp.stack``): 2.9x (32 x 5,120 x 4) and
    1.5x (2,042,040 x 10) faster than a ``(B, A, G, 4)`` broadcast, its reduction and
    ``jnp.repeat`` (paired in one process, load average 2.5-4). Writing the interleaved
    ``(B, 4A)`` outputs is most of it on the large workload: the IoU's maximum alone took
    10 ms, zeros of the three outputs' shapes 6-10 ms, the whole limit 80-90 ms."""
    jnp = _jax().numpy

    def limit(anchors, labels):
        a = anchors[0].T  # (4, A)
        best = None
        for j in range(labels.shape[1]):  # G static: one fused step per ground truth
            g = labels[:, j, 1:, None]  # (B, 4, 1)
            w = jnp.clip(jnp.minimum(a[2], g[:, 2]) - jnp.maximum(a[0], g[:, 0]), 0)
            h = jnp.clip(jnp.minimum(a[3], g[:, 3]) - jnp.maximum(a[1], g[:, 1]), 0)
            union = (a[2] - a[0]) * (a[3] - a[1]) + (g[:, 2] - g[:, 0]) * (g[:, 3] - g[:, 1])
            iou = w * h / (union - w * h)  # (B, A)
            best = iou if best is None else jnp.maximum(best, iou)
        positive = best >= 0.5
        flat = (best.shape[0], 4 * best.shape[1])
        offsets = jnp.stack([best] * 4, -1).reshape(flat)  # (B, 4A)
        mask = jnp.stack([positive.astype(jnp.float32)] * 4, -1).reshape(flat)
        return offsets, mask, positive.astype(jnp.int32)

    return _aot(limit, *_device_put(inp["anchors"], inp["labels"]))


PREPARERS: dict[tuple[str, str], Callable[[dict], Prepared]] = {
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
    ("box_iou", wl.D2L_JIT): _d2l_jit_box_iou,
    ("multibox_prior", wl.D2L_JIT): _d2l_jit_prior,
    ("multibox_target", wl.D2L_JIT): _d2l_jit_target,
    ("nms_stream", wl.JAXIMPL): _jax_nms_stream,
    ("box_iou", wl.WRITE_NP): _probe_np_fill,
    ("box_iou", wl.WRITE_JNP): _probe_jnp_zeros,
    ("box_iou", wl.WRITE_REUSED): _probe_np_fill_reused,
    ("batched_nms", wl.JAXIMPL): _jax_batched_nms,
    ("multibox_target", wl.TARGET_LIMIT): _limit_target,
}
for _op in wl.LOSS_OPS:
    PREPARERS[(_op, wl.JAXIMPL)] = _jax_loss(_op)
