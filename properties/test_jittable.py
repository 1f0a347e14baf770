"""Properties of the jittable forms (CONTRACT.md §4), tested only when present.

Variable-length results need static-shape twins that ``jax.jit`` and ``jax.vmap`` accept and
that equal the eager forms wherever those are defined:

- ``nms_padded(boxes, scores, iou_threshold, max_output_size)`` ->
  ``(indices (max_output_size,) int32 padded with -1, count)``: the first
  ``max_output_size`` entries of ``nms`` (``max_output_size`` static, any value ``>= 0``,
  larger than ``N`` too), eager, under ``jax.jit`` and under ``jax.vmap``;
- ``nms_keep_mask(boxes, scores, iou_threshold)`` -> ``(N,)`` bool, True where ``nms`` keeps;
- ``jax.jit`` of ``multibox_target`` (padded labels), ``multibox_detection`` and ``box_iou``
  equals the eager call;
- after a warm-up call, new values of the same shapes compile nothing (eager calls, ``nms``
  included) and do not retrace (``jax.jit`` of a wrapper counting its traces), on the default
  device; for the forms above and ``assign_anchor_to_bbox`` and ``multibox_prior`` (``sizes``
  and ``ratios`` traced, only ``data``'s shape is read).

Each runs on every JAX platform present (CPU, and the accelerator when there is one). A
function the implementation lacks is skipped; one that ``jax.jit`` cannot trace (a NumPy
implementation, such as ``--impl=reference``) is skipped with the tracer error as reason,
unless its eager result is a JAX array: a JAX implementation must be jittable.

Shapes: ``N`` in ``JIT_SIZES`` (4) and ``max_output_size`` in ``{0, 1, N, N + 5}``: at most
14 ``nms_padded`` shapes, per platform, eager and jitted; detection at ``(3, 4, A)`` for ``A``
in ``(5, 21)``; ``multibox_target`` at ``(1, A, 4), (2, 4, 5)`` for ``A`` in ``(5, 21)``;
``box_iou`` at ``JIT_SIZES`` squared (16).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import reference

from .asserts import Call, assert_close, assert_equal, check
from .strategies import (
    PRIOR_RATIOS,
    PRIOR_SIZES,
    anchors_1a4,
    boxes,
    detection_problems,
    dyadic_thresholds,
    label_batches,
    nms_problems,
    offlattice_boxes,
    prior_problems,
)

jax = pytest.importorskip("jax")

F32 = np.float32
JIT_SIZES = (0, 1, 5, 21)


def _platforms() -> list[str]:
    found = ["cpu"]
    try:
        default = jax.default_backend()
    except RuntimeError:  # pragma: no cover - no backend at all
        return found
    return found if default == "cpu" else [*found, default]


PLATFORMS = _platforms()


@pytest.fixture(params=PLATFORMS, scope="module")
def device(request):
    """One device of each JAX platform present."""
    return jax.devices(request.param)[0]


# --- running implementations on a device, eagerly or jitted -------------------------------


def _put(x, device):
    if isinstance(x, np.ndarray):
        return jax.device_put(x, device)
    return x


def _is_jax(result) -> bool:
    parts = result if isinstance(result, tuple) else (result,)
    return any(isinstance(r, jax.Array) for r in parts)


class OnDevice:
    """``impl`` with every function run on ``device`` (array arguments put there first),
    eagerly, or under ``jax.jit`` (``jit=True``; ``static`` names static arguments)."""

    def __init__(self, impl, device, jit: bool = False, static: tuple[str, ...] = ()):
        self.impl, self.device, self.jit, self.static = impl, device, jit, static

    def __getattr__(self, name: str):
        fn = getattr(self.impl, name)  # skips the test when the implementation lacks it
        if self.jit:
            fn = jax.jit(fn, static_argnames=self.static)

        def run(*args):
            with jax.default_device(self.device):
                return fn(*(_put(a, self.device) for a in args))

        return run


_JITTABLE: dict[tuple[str, str], str | None] = {}


def require_jittable(impl, name: str, probe: tuple, static: tuple[str, ...] = ()) -> None:
    """Skip unless ``jax.jit(impl.<name>)`` traces on the small, valid ``probe`` arguments.

    A NumPy implementation fails to trace (a tracer error such as
    ``TracerArrayConversionError``, possibly wrapped in its own ``ValueError``): skipped, with
    that error as the reason. An implementation whose eager result is a JAX array but that
    cannot be traced fails: the contract asks JAX implementations for jittable forms.
    """
    fn = getattr(impl, name)  # skips when absent
    key = (getattr(impl, "name", repr(impl)), name)
    if key not in _JITTABLE:
        try:  # traced only: compiling the probe would take seconds and answer nothing more
            jax.jit(fn, static_argnames=static).trace(*probe)
            _JITTABLE[key] = None
        except Exception as e:  # a tracer error, or one the implementation wrapped in its own
            if _is_jax(fn(*probe)):
                _JITTABLE[key] = f"FAIL:{type(e).__name__}: {str(e).splitlines()[0]}"
            else:
                _JITTABLE[key] = (
                    f"{name} of {key[0]} cannot be traced by jax.jit, not a JAX "
                    f"implementation ({type(e).__name__}: {str(e).splitlines()[0][:200]})"
                )
    reason = _JITTABLE[key]
    if reason is None:
        return
    if reason.startswith("FAIL:"):
        pytest.fail(
            f"{name} returns JAX arrays but jax.jit({name}) cannot trace it: {reason[5:]}",
            pytrace=False,
        )
    pytest.skip(reason)


PROBE_BOXES = np.array([[0, 0, 1, 1], [0.5, 0, 1.5, 1]], F32)
PROBE_SCORES = np.array([0.5, 0.25], F32)
PROBE_LABELS = np.array([[[0, 0, 0, 1, 1], [-1, 0, 0, 0, 0]]], F32)
PROBE_PROBS = np.array([[[0.1, 0.2], [0.9, 0.8]]], F32)


def require_jax_nms_padded(impl) -> None:
    require_jittable(
        impl, "nms_padded", (PROBE_BOXES, PROBE_SCORES, 0.5, 2), static=("max_output_size",)
    )


@contextlib.contextmanager
def count_compiles() -> Iterator[list[str]]:
    """Collect the XLA backend compiles that happen inside the block (``jax.monitoring``)."""
    events: list[str] = []

    def on_duration(event: str, duration: float, **kwargs) -> None:
        if "backend_compile" in event:
            events.append(str(kwargs.get("fun_name", event)))

    jax.monitoring.register_event_duration_secs_listener(on_duration)
    try:
        yield events
    finally:
        jax.monitoring.unregister_event_duration_listener(on_duration)


# --- NMS ----------------------------------------------------------------------------------


@st.composite
def padded_nms_problems(draw):
    problem = draw(nms_problems(lattice=True, n=st.sampled_from(JIT_SIZES)))
    n = len(problem.scores)
    k = draw(st.sampled_from(sorted({0, 1, n, n + 5})))
    return problem, k


@given(pk=padded_nms_problems(), jit=st.booleans())
def test_nms_padded_is_prefix_of_nms(impl, device, pk, jit):
    """``nms_padded(..., max_output_size=k)`` lists the first ``k`` kept indices (those of
    ``nms``, and of the reference) padded with -1, and ``count = min(k, K)``; for ``k`` 0, 1
    (often fewer than the ``K`` kept), ``N`` and ``N + 5``, eager and under ``jax.jit``
    (``max_output_size`` static)."""
    require_jax_nms_padded(impl)
    problem, k = pk
    on = OnDevice(impl, device, jit=jit, static=("max_output_size",))
    call = Call(
        on,
        "nms_padded",
        boxes=problem.boxes,
        scores=problem.scores,
        iou_threshold=problem.iou_threshold,
        max_output_size=k,
    )
    got = call()
    check(
        isinstance(got, tuple) and len(got) == 2,
        f"nms_padded: expected (indices, count), got {type(got).__name__}",
        call,
    )
    idx, count = got
    expected = reference.nms(problem.boxes, problem.scores, problem.iou_threshold)
    valid = min(k, len(expected))
    want = np.full(k, -1, np.int64)
    want[:valid] = expected[:valid]
    check(
        idx.dtype.kind in "iu" and count.dtype.kind in "iu",
        f"nms_padded: indices and count must be integers, got {idx.dtype}, {count.dtype}",
        call,
    )
    mode = f"{'jax.jit' if jit else 'eager'} on {device.platform}"
    assert_equal(idx, want, call, what=f"{mode}: indices (first {k} kept, padded with -1)")
    assert_equal(count, valid, call, what=f"{mode}: count")
    if impl.has("nms"):
        eager = np.asarray(impl.nms(problem.boxes, problem.scores, problem.iou_threshold))
        assert_equal(idx[:valid], eager[:valid], call, what=f"{mode}: indices vs the eager nms")


@given(problem=nms_problems(lattice=True, n=st.sampled_from(JIT_SIZES)), jit=st.booleans())
def test_nms_keep_mask_marks_the_kept_boxes(impl, device, problem, jit):
    """``nms_keep_mask`` is True exactly at the indices ``nms`` keeps (the reference's), eager
    and under ``jax.jit``."""
    require_jittable(impl, "nms_keep_mask", (PROBE_BOXES, PROBE_SCORES, 0.5))
    on = OnDevice(impl, device, jit=jit)
    call = Call(
        on,
        "nms_keep_mask",
        boxes=problem.boxes,
        scores=problem.scores,
        iou_threshold=problem.iou_threshold,
    )
    got = call()
    n = len(problem.scores)
    want = np.zeros(n, dtype=bool)
    want[reference.nms(problem.boxes, problem.scores, problem.iou_threshold)] = True
    check(got.dtype == np.bool_, f"nms_keep_mask: expected a bool mask, got {got.dtype}", call)
    mode = f"{'jax.jit' if jit else 'eager'} on {device.platform}"
    assert_equal(got, want, call, what=f"{mode}: keep mask")


_VMAPPED: dict[str, object] = {}


def vmapped_nms_padded(impl):
    """``jax.jit(jax.vmap(impl.nms_padded))`` over boxes and scores (the threshold shared,
    ``max_output_size`` static), made once per implementation: examples of the same shapes
    reuse its trace and program instead of tracing the vmap again."""
    if impl.name not in _VMAPPED:
        batched = jax.vmap(impl.nms_padded, in_axes=(0, 0, None, None))
        _VMAPPED[impl.name] = jax.jit(batched, static_argnums=3)
    return _VMAPPED[impl.name]


@settings(max_examples=30)  # each example runs nms_padded four times
@given(
    n=st.sampled_from((5, 21)),
    data=st.data(),
)
def test_vmap_nms_padded_equals_per_image(impl, device, n, data):
    """``jax.vmap`` of ``nms_padded`` (jitted) over a batch of 3 problems (one threshold)
    equals ``nms_padded`` of each."""
    require_jax_nms_padded(impl)
    t = data.draw(dyadic_thresholds(), label="iou_threshold")
    problems = [
        data.draw(nms_problems(lattice=True, n=st.just(n)), label=f"image {i}") for i in range(3)
    ]
    b = np.stack([p.boxes for p in problems])
    s = np.stack([p.scores for p in problems])
    vmapped = vmapped_nms_padded(impl)
    with jax.default_device(device):
        idx, count = (np.asarray(x) for x in vmapped(_put(b, device), _put(s, device), t, n))
    for i, p in enumerate(problems):
        call = Call(
            impl, "nms_padded", boxes=p.boxes, scores=p.scores, iou_threshold=t, max_output_size=n
        )
        one_idx, one_count = call()
        assert_equal(
            idx[i], one_idx, call, what=f"{device.platform}: vmap image {i}: indices vs alone"
        )
        assert_equal(
            count[i], one_count, call, what=f"{device.platform}: vmap image {i}: count vs alone"
        )


# --- jit of the batch operations ----------------------------------------------------------


@given(
    p=detection_problems(
        exact=True, num_anchors=st.sampled_from((5, 21)), batch_classes=st.just((3, 3))
    )
)
def test_jit_multibox_detection_equals_eager(impl, device, p):
    """``jax.jit(multibox_detection)`` equals the eager call (class ids exactly, confidences
    and boxes within float32 tolerance) and the reference on exact problems."""
    require_jittable(
        impl, "multibox_detection", (PROBE_PROBS, np.zeros((1, 8), F32), PROBE_BOXES[None])
    )
    args = p.args()
    call = Call(OnDevice(impl, device, jit=True), "multibox_detection", **args)
    got = call()
    eager = Call(OnDevice(impl, device), "multibox_detection", **args)()
    assert_equal(
        got[..., 0], eager[..., 0], call, what=f"{device.platform}: jit vs eager: class ids"
    )
    assert_close(
        got[..., 1:], eager[..., 1:], call, what=f"{device.platform}: jit vs eager: conf and boxes"
    )
    expected = reference.multibox_detection(*args.values())
    assert_equal(
        got[..., 0], expected[..., 0], call, what=f"{device.platform}: jit vs reference: class ids"
    )
    assert_close(
        got[..., 1:],
        expected[..., 1:],
        call,
        what=f"{device.platform}: jit vs reference: conf and boxes",
    )


@st.composite
def target_problems(draw):
    anchors = draw(anchors_1a4(st.sampled_from((5, 21))))
    labels = draw(label_batches(batch=2, num_rows=4, garbage=True))
    return anchors, labels


@given(problem=target_problems())
def test_jit_multibox_target_equals_eager_with_padded_labels(impl, device, problem):
    """``jax.jit(multibox_target)`` with padded labels (rows of negative class with any
    coordinates, NaN included, and all-padding images) equals the eager call, and the
    reference run on each image without its padding: masks and classes exactly, offsets
    within float32 tolerance."""
    require_jittable(impl, "multibox_target", (PROBE_BOXES[None], PROBE_LABELS))
    anchors, labels = problem
    call = Call(OnDevice(impl, device, jit=True), "multibox_target", anchors=anchors, labels=labels)
    offsets, mask, classes = call()
    e_off, e_mask, e_cls = Call(
        OnDevice(impl, device), "multibox_target", anchors=anchors, labels=labels
    )()
    assert_equal(mask, e_mask, call, what=f"{device.platform}: jit vs eager: mask")
    assert_equal(classes, e_cls, call, what=f"{device.platform}: jit vs eager: class labels")
    assert_close(offsets, e_off, call, what=f"{device.platform}: jit vs eager: offsets")
    for b in range(labels.shape[0]):
        real = labels[b : b + 1, labels[b, :, 0] >= 0]
        r_off, r_mask, r_cls = reference.multibox_target(anchors, real)
        assert_equal(
            mask[b],
            r_mask[0],
            call,
            what=f"{device.platform}: jit, image {b} vs reference unpadded: mask",
        )
        assert_equal(
            classes[b],
            r_cls[0],
            call,
            what=f"{device.platform}: jit, image {b} vs reference unpadded: classes",
        )
        assert_close(
            offsets[b],
            r_off[0],
            call,
            what=f"{device.platform}: jit, image {b} vs reference unpadded: offsets",
        )


@given(
    lattice=st.booleans(),
    data=st.data(),
)
def test_jit_box_iou_equals_eager(impl, device, lattice, data):
    """``jax.jit(box_iou)`` equals the eager call and the reference (float32 tolerance), on
    lattice boxes (small ones too: an ``eps`` in the union shows there) and float boxes."""
    require_jittable(impl, "box_iou", (PROBE_BOXES, PROBE_BOXES))
    some = boxes if lattice else offlattice_boxes
    b1 = data.draw(some(st.sampled_from(JIT_SIZES)), label="boxes1")
    b2 = data.draw(some(st.sampled_from(JIT_SIZES)), label="boxes2")
    call = Call(OnDevice(impl, device, jit=True), "box_iou", boxes1=b1, boxes2=b2)
    got = call()
    eager = Call(OnDevice(impl, device), "box_iou", boxes1=b1, boxes2=b2)()
    assert_close(got, eager, call, what=f"{device.platform}: jit vs eager: IoU")
    assert_close(
        got, reference.box_iou(b1, b2), call, what=f"{device.platform}: jit vs reference: IoU"
    )


# --- no recompiles for new values ---------------------------------------------------------


@st.composite
def same_shape_calls(draw, name: str):
    """Two argument tuples for ``name`` with the same shapes and new values (new thresholds
    too), and the names of the static arguments."""
    if name in ("nms", "nms_padded", "nms_keep_mask"):
        n = draw(st.sampled_from((5, 21)))
        pair = [draw(nms_problems(lattice=True, n=st.just(n))) for _ in range(2)]
        args = [(p.boxes, p.scores, p.iou_threshold) for p in pair]
        if name == "nms_padded":
            return [a + (3,) for a in args], ("max_output_size",)
        return args, ()
    if name == "box_iou":
        n, m = draw(st.sampled_from((5, 21))), draw(st.sampled_from((1, 5)))
        return [(draw(boxes(st.just(n))), draw(boxes(st.just(m)))) for _ in range(2)], ()
    if name == "assign_anchor_to_bbox":
        g, a = draw(st.sampled_from((1, 5))), draw(st.sampled_from((5, 21)))
        return [
            (draw(boxes(st.just(g))), draw(boxes(st.just(a))), None, draw(dyadic_thresholds()))
            for _ in range(2)
        ], ()
    if name == "multibox_prior":
        data, sizes, ratios = draw(prior_problems())
        values = [
            st.lists(st.sampled_from(PRIOR_SIZES), min_size=len(sizes), max_size=len(sizes)),
            st.lists(st.sampled_from(PRIOR_RATIOS), min_size=len(ratios), max_size=len(ratios)),
        ]
        return [(data, *(np.asarray(draw(v), F32) for v in values)) for _ in range(2)], ()
    if name == "multibox_target":
        anchors, labels = draw(target_problems())
        second = draw(anchors_1a4(anchors.shape[1]))
        return [(anchors, labels), (second, draw(label_batches(batch=2, num_rows=4)))], ()
    # multibox_detection
    a = draw(st.sampled_from((5, 21)))
    pair = [
        draw(detection_problems(exact=False, num_anchors=st.just(a), batch_classes=st.just((3, 3))))
        for _ in range(2)
    ]
    return [tuple(p[:5]) for p in pair], ()


STATIC_FORMS = (
    "nms_padded",
    "nms_keep_mask",
    "box_iou",
    "multibox_target",
    "multibox_detection",
    "assign_anchor_to_bbox",
    "multibox_prior",
)
EAGER_ONLY = ("nms",)  # a variable-length result: no jax.jit form
PROBES = {
    "nms": ((PROBE_BOXES, PROBE_SCORES, 0.5), ()),
    "nms_padded": ((PROBE_BOXES, PROBE_SCORES, 0.5, 2), ("max_output_size",)),
    "nms_keep_mask": ((PROBE_BOXES, PROBE_SCORES, 0.5), ()),
    "box_iou": ((PROBE_BOXES, PROBE_BOXES), ()),
    "assign_anchor_to_bbox": ((PROBE_BOXES, PROBE_BOXES, None, 0.5), ()),
    "multibox_prior": ((np.zeros((2, 2), F32), np.ones(1, F32), np.ones(1, F32)), ()),
    "multibox_target": ((PROBE_BOXES[None], PROBE_LABELS), ()),
    "multibox_detection": ((PROBE_PROBS, np.zeros((1, 8), F32), PROBE_BOXES[None]), ()),
}


_TRACES: dict[tuple[str, str], int] = {}
_WRAPPERS: dict[tuple[str, str], object] = {}


def traced_wrapper(impl, name: str):
    """``jax.jit`` of a wrapper around ``impl.<name>`` that counts its traces in ``_TRACES``
    (one per implementation and function, so its compile cache lives across examples)."""
    key = (impl.name, name)
    if key not in _WRAPPERS:
        fn = getattr(impl, name)
        _TRACES[key] = 0

        def wrapper(*args):
            _TRACES[key] += 1  # a Python side effect: runs once per trace
            return fn(*args)

        _WRAPPERS[key] = jax.jit(wrapper, static_argnums=(3,) if name == "nms_padded" else ())
    return _WRAPPERS[key]


@pytest.mark.parametrize("name", STATIC_FORMS + EAGER_ONLY)
@settings(max_examples=10)  # two calls an example; the shapes are few
@given(data=st.data())
def test_new_values_of_the_same_shapes_do_not_recompile(impl, name, data):
    """After a warm-up call, a call with new values (thresholds included) of the same shapes
    compiles nothing eagerly (``nms`` too: a new number of kept boxes is a new value), and
    ``jax.jit`` of a wrapper around the function does not trace it again (a Python side
    effect counts the traces)."""
    probe, static = PROBES[name]
    if name in EAGER_ONLY:
        getattr(impl, name)  # skips when absent
    else:
        require_jittable(impl, name, probe, static)
    (first, second), static = data.draw(same_shape_calls(name), label="calls")
    fn = getattr(impl, name)
    names = [f"arg{i}" for i in range(len(second))]
    call = Call(impl, name, **dict(zip(names, second, strict=True)))
    jax.block_until_ready(fn(*first))  # warm-up: compiles what the shapes need
    with count_compiles() as compiles:
        jax.block_until_ready(fn(*second))
    check(
        not compiles,
        f"{name}: a second call with new values of the same shapes compiled {len(compiles)} "
        f"XLA program(s) ({compiles[:5]}): something depends on values as if they were static",
        call,
    )
    if name in EAGER_ONLY:
        return
    # Traced, not run: a call looks its trace up in the cache that .trace() fills (and
    # compiling the wrapper would add seconds an example and answer nothing more).
    jitted = traced_wrapper(impl, name)
    key = (impl.name, name)
    jitted.trace(*first)
    before = _TRACES[key]
    jitted.trace(*second)
    check(
        _TRACES[key] == before,
        f"jax.jit of {name}: traced again ({_TRACES[key] - before} times) for new values of "
        "the same shapes",
        call,
    )
