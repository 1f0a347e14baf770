"""The torchvision contenders (:mod:`benchmarks.contenders`): ``torchvision.ops`` on CPU and,
where torch sees one, on CUDA; ``torch_detection``, ``multibox_detection`` as a PyTorch user
writes it."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from . import workloads as wl
from ._shared import Prepared, Unavailable, _torch


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


# ------------------------------------------------------------ class-aware NMS
# CONTRACT.md §3.2: torchvision.ops.batched_nms.


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


PREPARERS: dict[tuple[str, str], Callable[[dict], Prepared]] = {
    ("box_iou", wl.TORCHVISION): _tv_box_iou,
    ("nms", wl.TORCHVISION): _tv_nms,
    ("box_iou", wl.TORCHVISION_CUDA): lambda inp: _tv_box_iou(inp, cuda=True),
    ("nms", wl.TORCHVISION_CUDA): lambda inp: _tv_nms(inp, cuda=True),
    ("multibox_detection", wl.TORCHVISION): _tv_detection,
    ("nms_stream", wl.TORCHVISION): _tv_nms_stream,
    ("nms_stream", wl.TORCHVISION_CUDA): lambda inp: _tv_nms_stream(inp, cuda=True),
    ("batched_nms", wl.TORCHVISION): _tv_batched_nms,
    ("batched_nms", wl.TORCHVISION_CUDA): lambda inp: _tv_batched_nms(inp, cuda=True),
}
for _op in wl.LOSS_OPS:
    PREPARERS[(_op, wl.TORCHVISION)] = _tv_loss(_op)
    PREPARERS[(_op, wl.TORCHVISION_CUDA)] = _tv_loss(_op, cuda=True)
