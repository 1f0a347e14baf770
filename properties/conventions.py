"""Conventions: the documented, deliberate choices where libraries differ (CONTRACT.md §7).

The contract fixes one answer for each of these; other libraries fix others, on purpose. An
implementation declares its conventions and the suite judges it by them: a failure is then a
real disagreement, not a convention. The closed set, each with the contract's value first:

=============== ========================================== =====================================
key             values                                     what it changes
=============== ========================================== =====================================
box_format      ``xyxy``, ``yxyx``, ``xywh``, ``cxcywh``   how boxes are passed in and out
empty_union     ``0``, ``nan``, ``eps:VALUE``              the IoU of two zero-area boxes; with
                                                           ``eps`` every IoU is
                                                           ``inter / (union + VALUE)``
pixel_offset    ``0``, ``1``                               ``+1`` pixel widths and heights in IoU
nms_suppress    ``>``, ``>=``                              NMS suppresses at ``IoU > t`` or
                                                           ``IoU >= t``
nms_ties        ``lowest``, ``highest``, ``any``           the order NMS visits equal scores in
=============== ========================================== =====================================

An implementation's module declares them as ``CONVENTIONS``: a preset name (:data:`PRESETS`:
``contract``, ``torchvision``, ``keras``, ``tensorflow``, ...) or a mapping of keys to values
(optionally with ``"preset"``, the base the other keys override). On the command line,
``--conventions=PRESET`` replaces the declaration and ``--convention KEY=VALUE`` (repeatable)
overrides one key. An unknown preset, key or value is a :class:`ConventionError` (a
``pytest.UsageError`` on the command line) that lists the valid ones.

How the suite follows them:

- ``box_format`` is a translation at the boundary: the plugin's ``Implementation`` converts box
  arguments from ``xyxy`` to the declared format and box results back (:data:`BOXES` says which
  arguments and results hold boxes), so the properties never see it. The conversions are exact
  on the lattice (CONTRACT.md §5). Under ``yxyx`` the center form is ``(cy, cx, h, w)``; under
  ``xywh`` and ``cxcywh`` it is ``(cx, cy, w, h)`` (CONTRACT.md §7).
- The other keys are :class:`reference.rules.Rules` of the reference's cores:
  :attr:`Conventions.reference` is a copy of the reference that computes under them, and the
  properties whose laws they change read them from the ``conventions`` fixture.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property, partial
from types import ModuleType
from typing import Any, NamedTuple

import numpy as np

from reference.rules import Rules

BOX_FORMATS = ("xyxy", "yxyx", "xywh", "cxcywh")
PIXEL_OFFSETS = ("0", "1")
NMS_SUPPRESS = (">", ">=")
NMS_TIES = ("lowest", "highest", "any")
VALID = {
    "box_format": BOX_FORMATS,
    "empty_union": ("0", "nan", "eps:VALUE"),
    "pixel_offset": PIXEL_OFFSETS,
    "nms_suppress": NMS_SUPPRESS,
    "nms_ties": NMS_TIES,
}
KEYS = tuple(VALID)
# The keys that change an IoU, and the ones that change NMS beyond its IoU.
IOU_KEYS = ("empty_union", "pixel_offset")
NMS_KEYS = ("nms_suppress", "nms_ties")


class ConventionError(ValueError):
    """An unknown preset, key or value; the message lists the valid ones."""


@dataclass(frozen=True)
class Conventions:
    """One value for each key of the closed set; the defaults are the contract's."""

    box_format: str = "xyxy"
    empty_union: str = "0"
    pixel_offset: str = "0"
    nms_suppress: str = ">"
    nms_ties: str = "lowest"

    def __post_init__(self) -> None:
        for key in KEYS:
            canonical = parse_value(key, getattr(self, key))
            object.__setattr__(self, key, canonical)

    # --- what the values mean ---------------------------------------------------------------

    @property
    def union_eps(self) -> float:
        """The epsilon added to every union (0 unless ``empty_union`` is ``eps:VALUE``)."""
        return float(self.empty_union[4:]) if self.empty_union.startswith("eps:") else 0.0

    @property
    def rules(self) -> Rules:
        """These conventions as the reference cores' :class:`~reference.rules.Rules`."""
        return Rules(
            nan_for_empty_union=self.empty_union == "nan",
            union_eps=self.union_eps,
            pixel_offset=float(self.pixel_offset),
            suppress_at_threshold=self.nms_suppress == ">=",
            ties=self.nms_ties,
        )

    @property
    def exact_on_lattice(self) -> bool:
        """Whether IoU decisions stay exact on the lattice (CONTRACT.md §5): an epsilon in the
        union makes every IoU one more rounding away from the exact ratio, so a float32 IoU at
        a dyadic threshold may land on either side of it."""
        return not self.union_eps

    @cached_property
    def reference(self) -> ModuleType:
        """The reference computing under these conventions (boxes ``xyxy`` in and out).

        A copy of the reference package (:func:`properties.broken._mutate.edited_reference`)
        whose IoU, NMS and assignment cores take :attr:`rules`; its public functions keep their
        argument checks. The contract's conventions give the reference itself.
        """
        if self.rules == Rules():
            import reference

            return reference
        return _reference_under(self.rules)

    # --- presenting them --------------------------------------------------------------------

    def items(self) -> list[tuple[str, str]]:
        return [(key, getattr(self, key)) for key in KEYS]

    def describe(self) -> str:
        """``box_format=xyxy empty_union=0 pixel_offset=0 nms_suppress=> nms_ties=lowest``."""
        return " ".join(f"{k}={v}" for k, v in self.items())

    def preset_names(self) -> list[str]:
        """The presets with exactly these values."""
        return [n for n, p in PRESETS.items() if p.conventions == self]

    def differences(self, other: Conventions) -> list[str]:
        """The keys whose values differ from ``other``'s."""
        return [k for k in KEYS if getattr(self, k) != getattr(other, k)]

    def overrides(self) -> dict[str, str]:
        """The keys that differ from the contract's, with their values."""
        return {k: getattr(self, k) for k in self.differences(CONTRACT)}

    def contract_with_format(self) -> Conventions:
        """The contract's conventions in this box format: what a library is held to when the
        conformance table compares it with the contract (a format is how boxes are passed, not
        what is computed)."""
        return Conventions(box_format=self.box_format)


def parse_value(key: str, value: Any) -> str:
    """The canonical text of ``value`` for ``key``; :class:`ConventionError` if invalid."""
    if key not in VALID:
        raise ConventionError(f"unknown convention {key!r}; the conventions are: {', '.join(KEYS)}")
    text = str(value).strip()
    if key == "empty_union":
        return _parse_empty_union(text)
    if key == "nms_suppress":
        text = {"gt": ">", "ge": ">="}.get(text, text)
    if key == "pixel_offset" and text in ("0.0", "1.0", "False", "True"):
        text = {"0.0": "0", "1.0": "1", "False": "0", "True": "1"}[text]
    if text not in VALID[key]:
        raise ConventionError(
            f"convention {key}: unknown value {text!r}; valid values: {', '.join(VALID[key])}"
        )
    return text


def _parse_empty_union(text: str) -> str:
    low = text.lower()
    if low in ("0", "0.0", "zero"):
        return "0"
    if low == "nan":
        return "nan"
    if low.startswith("eps:"):
        try:
            eps = float(low[4:])
        except ValueError:
            eps = math.nan
        if math.isfinite(eps) and eps > 0:
            return f"eps:{eps!r}"
        raise ConventionError(
            f"convention empty_union: {text!r} needs a finite epsilon > 0 after 'eps:' "
            "(e.g. eps:1e-07)"
        )
    raise ConventionError(
        f"convention empty_union: unknown value {text!r}; valid values: 0, nan, eps:VALUE "
        "(an epsilon > 0 added to every union, e.g. eps:1e-07)"
    )


CONTRACT = Conventions()


# --- presets ----------------------------------------------------------------------------------


class Preset(NamedTuple):
    """Named conventions with a citation for every value."""

    library: str
    values: dict[str, tuple[str, str]]  # key -> (value, citation)

    @property
    def conventions(self) -> Conventions:
        return Conventions(**{k: v for k, (v, _) in self.values.items()})

    def citation(self, key: str) -> str:
        return self.values[key][1] if key in self.values else "the contract's value"


_TV = "https://github.com/pytorch/vision/blob/v0.29.1/torchvision/ops/boxes.py"
_TV_DOCS = "https://pytorch.org/vision/0.29/generated/torchvision.ops"
_KERAS = (
    "https://github.com/keras-team/keras/blob/v3.15.1/keras/src/layers/preprocessing/"
    "image_preprocessing/bounding_boxes"
)
_KERAS_HUB = (
    "https://github.com/keras-team/keras-hub/blob/v0.32.0/keras_hub/src/layers/modeling/"
    "non_max_supression.py"
)
_TF = (
    "https://github.com/tensorflow/tensorflow/blob/v2.21.0/tensorflow/core/kernels/image/"
    "non_max_suppression_op.cc"
)
_ONNX_SPEC = "https://onnx.ai/onnx/operators/onnx__NonMaxSuppression.html"
_ONNX_REF = "https://github.com/onnx/onnx/blob/v1.23.2/onnx/reference/ops/op_non_max_suppression.py"
_ORT = (
    "https://github.com/microsoft/onnxruntime/blob/v1.32.0/onnxruntime/core/providers/cpu/"
    "object_detection/non_max_suppression.cc"
)
_ENSEMBLE = (
    "https://github.com/ZFTurbo/Weighted-Boxes-Fusion/blob/v1.0.9/ensemble_boxes/"
    "ensemble_boxes_nms.py"
)
_D2L = "https://d2l.ai/chapter_computer-vision/anchor.html"
_MMDET1 = "https://github.com/open-mmlab/mmdetection/blob/v1.2.0/mmdet/core/bbox/geometry.py"

PRESETS: dict[str, Preset] = {
    "contract": Preset("this project", {k: (getattr(CONTRACT, k), "CONTRACT.md") for k in KEYS}),
    "torchvision": Preset(
        "torchvision.ops",
        {
            "box_format": ("xyxy", f"{_TV_DOCS}.nms.html: boxes in (x1, y1, x2, y2) format"),
            "empty_union": ("nan", f"{_TV}, box_iou: iou = inter / union, unguarded (0/0)"),
            "pixel_offset": ("0", f"{_TV}, box_area: (x2 - x1) * (y2 - y1)"),
            "nms_suppress": (">", f"{_TV_DOCS}.nms.html: discards boxes with IoU > iou_threshold"),
            "nms_ties": (
                "any",
                f"{_TV_DOCS}.nms.html: with equal scores the selected box is not guaranteed "
                "to be the same between CPU and GPU (pytorch/vision #2157)",
            ),
        },
    ),
    "keras": Preset(
        "keras.utils.bounding_boxes (Keras 3)",
        {
            "box_format": (
                "yxyx",
                f"{_KERAS}/iou.py, compute_iou: converts every format to 'yxyx' and computes "
                "in it (the format of its TensorFlow lineage)",
            ),
            "empty_union": (
                "eps:1e-07",
                f"{_KERAS}/iou.py, compute_iou: intersect / (union + backend.epsilon()), 1e-7",
            ),
            "pixel_offset": ("0", f"{_KERAS}/iou.py, _compute_area: (y2 - y1) * (x2 - x1)"),
        },
    ),
    "keras_hub": Preset(
        "keras_hub.layers.NonMaxSuppression (its non_max_suppression)",
        {
            "box_format": ("yxyx", f"{_KERAS_HUB}, non_max_suppression: boxes in yxyx format"),
            "empty_union": ("eps:1e-08", f"{_KERAS_HUB}, _bbox_overlap: union + EPSILON, 1e-8"),
            "pixel_offset": ("0", f"{_KERAS_HUB}, _bbox_overlap: (y2 - y1) * (x2 - x1)"),
            "nms_suppress": (
                ">=",
                f"{_KERAS_HUB}, _cross_suppression keeps iou < iou_threshold; "
                "_suppression_loop_body suppresses iou >= iou_threshold",
            ),
            "nms_ties": (
                "highest",
                f"{_KERAS_HUB}, _sort_scores_and_boxes: ops.flip(ops.argsort(scores)) of a "
                "stable ascending sort",
            ),
        },
    ),
    "tensorflow": Preset(
        "tf.image.non_max_suppression",
        {
            "box_format": ("yxyx", f"{_TF}, IOU(): boxes as [y1, x1, y2, x2]"),
            "empty_union": ("0", f"{_TF}, IOU(): returns 0.0 if area_i <= 0 || area_j <= 0"),
            "pixel_offset": ("0", f"{_TF}, IOU(): area = (ymax - ymin) * (xmax - xmin)"),
            "nms_suppress": (">", f"{_TF}, DoNonMaxSuppressionOp: similarity > threshold"),
            "nms_ties": (
                "lowest",
                f"{_TF}, DoNonMaxSuppressionOp: the priority queue puts the lower box_index "
                "first among equal scores",
            ),
        },
    ),
    "onnx": Preset(
        "ONNX NonMaxSuppression (onnx.reference, onnxruntime)",
        {
            "box_format": (
                "yxyx",
                f"{_ONNX_SPEC}: center_point_box = 0 (default) takes [y1, x1, y2, x2]",
            ),
            "empty_union": (
                "0",
                f"{_ONNX_REF}, suppress_by_iou: no suppression when an area or the "
                "intersection is <= 0 (the IoU 0 of the contract)",
            ),
            "pixel_offset": ("0", f"{_ONNX_REF}, suppress_by_iou: areas without +1"),
            "nms_suppress": (">", f"{_ONNX_REF}, suppress_by_iou: iou > iou_threshold"),
            "nms_ties": (
                "lowest",
                f"{_ONNX_REF}, BoxInfo.__lt__ (lower index first on equal scores); {_ORT}, "
                "BoxInfo::operator< does the same",
            ),
        },
    ),
    "ensemble_boxes": Preset(
        "ensemble_boxes (nms_float_fast, the kernel of ensemble_boxes.nms)",
        {
            "box_format": ("xyxy", f"{_ENSEMBLE}, nms_float_fast: dets as x1, y1, x2, y2"),
            "empty_union": (
                "nan",
                f"{_ENSEMBLE}, nms_float_fast: ovr = inter / (areas[i] + areas - inter), "
                "unguarded (0/0)",
            ),
            "pixel_offset": ("0", f"{_ENSEMBLE}, nms_float_fast: (x2 - x1) * (y2 - y1)"),
            "nms_suppress": (">", f"{_ENSEMBLE}, nms_float_fast: keeps ovr <= thresh"),
            "nms_ties": (
                "any",
                f"{_ENSEMBLE}, nms_float_fast: scores.argsort()[::-1], numba's default "
                "(quicksort) argsort, which is not stable",
            ),
        },
    ),
    "d2l": Preset(
        'the d2l "Anchor Boxes" chapter',
        {
            "empty_union": ("nan", f"{_D2L}, box_iou: inter_areas / union_areas (0/0)"),
            "nms_ties": (
                "any",
                f"{_D2L}, nms: torch.argsort(scores, descending=True), not stable (CONTRACT.md §8)",
            ),
        },
    ),
    "mmdet1": Preset(
        "mmdetection 1.x (legacy pixel boxes)",
        {
            "pixel_offset": (
                "1",
                f"{_MMDET1}, bbox_overlaps: (x2 - x1 + 1) * (y2 - y1 + 1) and overlaps + 1",
            ),
        },
    ),
}


def resolve(
    declared: str | Mapping[str, Any] | Conventions | None = None,
    preset: str | None = None,
    overrides: Iterable[str] | Mapping[str, Any] = (),
    where: str = "",
) -> Conventions:
    """The conventions in force: ``declared`` (a module's ``CONVENTIONS``: a preset name, a
    mapping, or None for the contract's), replaced by ``preset`` when given, then each of
    ``overrides`` (``"KEY=VALUE"`` strings or a mapping). ``where`` prefixes error messages."""
    try:
        base = declared if preset is None else preset
        values = dict(_as_mapping(base))
        pairs = overrides.items() if isinstance(overrides, Mapping) else map(_split, overrides)
        for key, value in pairs:
            values[key] = value
        return Conventions(**{k: parse_value(k, v) for k, v in values.items()})
    except ConventionError as e:
        raise ConventionError(f"{where}{e}") from None


def _as_mapping(spec: str | Mapping[str, Any] | Conventions | None) -> dict[str, Any]:
    if spec is None:
        return {}
    if isinstance(spec, Conventions):
        return dict(spec.items())
    if isinstance(spec, str):
        if spec not in PRESETS:
            raise ConventionError(
                f"unknown conventions preset {spec!r}; the presets are: {', '.join(PRESETS)}"
            )
        return dict(PRESETS[spec].conventions.items())
    if isinstance(spec, Mapping):
        values = dict(spec)
        base = _as_mapping(values.pop("preset")) if "preset" in values else {}
        for key in values:
            parse_value(key, values[key])  # unknown keys and values fail here, named
        return base | values
    raise ConventionError(
        f"conventions must be a preset name or a mapping of keys to values, got {spec!r}"
    )


def _split(item: str) -> tuple[str, str]:
    key, sep, value = str(item).partition("=")  # keys hold no "=": "nms_suppress=>=" splits
    if not sep or not key.strip():
        raise ConventionError(
            f"--convention expects KEY=VALUE, got {item!r}; the keys are: {', '.join(KEYS)}"
        )
    return key.strip(), value.strip()


def help_text() -> str:
    """The keys, their values and the presets, for ``--help`` and error messages."""
    keys = "; ".join(f"{k}: {'|'.join(v)}" for k, v in VALID.items())
    return f"{keys}. Presets: {', '.join(PRESETS)}"


# --- the reference under other rules ------------------------------------------------------


_REFERENCES: dict[Rules, ModuleType] = {}


def _reference_under(rules: Rules) -> ModuleType:
    """A copy of the reference package whose IoU, NMS and assignment cores follow ``rules``."""
    if rules not in _REFERENCES:
        from reference.boxes import iou
        from reference.matching import assign
        from reference.nms import greedy_nms

        from .broken._mutate import Swap, edited_reference

        name = "conventions_" + "_".join(_slug(v) for v in rules)
        _REFERENCES[rules] = edited_reference(
            name,
            Swap("boxes.py", "iou", partial(iou, rules=rules)),
            Swap("nms.py", "greedy_nms", partial(greedy_nms, rules=rules)),
            Swap("matching.py", "assign", partial(assign, rules=rules)),
        )
    return _REFERENCES[rules]


def _slug(value: Any) -> str:
    return "".join(c if c.isalnum() else "_" for c in str(value))


# --- box formats ------------------------------------------------------------------------------

# Which arguments and results of each function hold boxes: ``(position, name, kind)`` of each
# box argument, then the result's kind. Kinds: "corner" (boxes in the box format, last axis 4),
# "center" (the center form, last axis 4), "labels" (last axis 5: class, then a box),
# "detections" (last axis 6: class, score, then a box); None: no boxes.
BOXES: dict[str, tuple[tuple[tuple[int, str, str], ...], str | None]] = {
    "box_corner_to_center": (((0, "boxes", "corner"),), "center"),
    "box_center_to_corner": (((0, "boxes", "center"),), "corner"),
    "multibox_prior": ((), "corner"),
    "box_iou": (((0, "boxes1", "corner"), (1, "boxes2", "corner")), None),
    "assign_anchor_to_bbox": (((0, "ground_truth", "corner"), (1, "anchors", "corner")), None),
    "offset_boxes": (((0, "anchors", "corner"), (1, "assigned_bb", "corner")), None),
    "offset_inverse": (((0, "anchors", "corner"),), "corner"),
    "multibox_target": (((0, "anchors", "corner"), (1, "labels", "labels")), None),
    "nms": (((0, "boxes", "corner"),), None),
    "nms_padded": (((0, "boxes", "corner"),), None),
    "nms_keep_mask": (((0, "boxes", "corner"),), None),
    "multibox_detection": (((2, "anchors", "corner"),), "detections"),
}
_COLUMNS = {"corner": 0, "center": 0, "labels": 1, "detections": 2}


def _namespace(x: Any) -> Any:
    """NumPy for NumPy arrays and lists, ``jax.numpy`` for JAX arrays and tracers."""
    if type(x).__module__.startswith(("jax", "jaxlib")):
        import jax.numpy as jnp

        return jnp
    return np


def _corner_from_xyxy(b: Any, fmt: str, xp: Any) -> Any:
    x1, y1, x2, y2 = b[..., 0], b[..., 1], b[..., 2], b[..., 3]
    if fmt == "yxyx":
        return xp.stack([y1, x1, y2, x2], axis=-1)
    if fmt == "xywh":
        return xp.stack([x1, y1, x2 - x1, y2 - y1], axis=-1)
    return xp.stack([(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1], axis=-1)  # cxcywh


def _corner_to_xyxy(b: Any, fmt: str, xp: Any) -> Any:
    a0, a1, a2, a3 = b[..., 0], b[..., 1], b[..., 2], b[..., 3]
    if fmt == "yxyx":
        return xp.stack([a1, a0, a3, a2], axis=-1)
    if fmt == "xywh":
        return xp.stack([a0, a1, a0 + a2, a1 + a3], axis=-1)
    return xp.stack([a0 - a2 / 2, a1 - a3 / 2, a0 + a2 / 2, a1 + a3 / 2], axis=-1)  # cxcywh


def _center_swap(b: Any, fmt: str, xp: Any) -> Any:
    """``(cx, cy, w, h)`` <-> the format's center form: ``(cy, cx, h, w)`` under ``yxyx``."""
    if fmt != "yxyx":
        return b
    return xp.stack([b[..., 1], b[..., 0], b[..., 3], b[..., 2]], axis=-1)


def convert(
    value: Any, kind: str | None, fmt: str, to_format: bool, keep_dtype: bool = True
) -> Any:
    """``value`` (an argument or result of ``kind``) from ``xyxy`` to ``fmt`` (``to_format``)
    or back. NumPy input is converted in float64 and returned in its own dtype (exact on the
    lattice), or in float64 unless ``keep_dtype``; JAX arrays and tracers in their dtype, so
    that jitted forms still trace."""
    if fmt == "xyxy" or kind is None or value is None:
        return value
    xp = _namespace(value)
    arr = np.asarray(value) if xp is np else value
    if xp is np and (arr.dtype.kind != "f" or arr.ndim == 0 or arr.shape[-1] < 4):
        return value  # not boxes: leave a wrong argument for the implementation to reject
    dtype = arr.dtype
    work = arr.astype(np.float64) if xp is np else arr
    first = _COLUMNS[kind]
    boxes = work[..., first : first + 4]
    if kind == "center":
        converted = _center_swap(boxes, fmt, xp)
    elif to_format:
        converted = _corner_from_xyxy(boxes, fmt, xp)
    else:
        converted = _corner_to_xyxy(boxes, fmt, xp)
    if first or work.shape[-1] > first + 4:
        converted = xp.concatenate([work[..., :first], converted, work[..., first + 4 :]], -1)
    return converted.astype(dtype) if xp is np and keep_dtype else converted


def convert_arguments(
    function: str, args: tuple, kwargs: dict, fmt: str, to_format: bool, keep_dtype: bool = True
):
    """``(args, kwargs)`` of a call of ``function`` with its box arguments converted."""
    params, _ = BOXES.get(function, ((), None))
    args, kwargs = list(args), dict(kwargs)
    with np.errstate(invalid="ignore", over="ignore"):  # padding rows may hold anything
        for position, name, kind in params:
            if position < len(args):
                args[position] = convert(args[position], kind, fmt, to_format, keep_dtype)
            elif name in kwargs:
                kwargs[name] = convert(kwargs[name], kind, fmt, to_format, keep_dtype)
    return tuple(args), kwargs


def convert_result(function: str, result: Any, fmt: str, to_format: bool) -> Any:
    _, kind = BOXES.get(function, ((), None))
    with np.errstate(invalid="ignore", over="ignore"):
        return convert(result, kind, fmt, to_format)


def in_format(
    function: str, f: Callable, fmt: str, to_format: bool, keep_dtype: bool = True
) -> Callable:
    """``f`` called with box arguments converted (``xyxy`` to ``fmt`` when ``to_format``, in
    their dtype unless not ``keep_dtype``) and its box result converted back; ``f`` itself when
    nothing needs converting."""
    if fmt == "xyxy" or function not in BOXES:
        return f

    def converted(*args: Any, **kwargs: Any) -> Any:
        args, kwargs = convert_arguments(function, args, kwargs, fmt, to_format, keep_dtype)
        return convert_result(function, f(*args, **kwargs), fmt, not to_format)

    converted.__name__ = getattr(f, "__name__", function)
    converted.__doc__ = getattr(f, "__doc__", None)
    converted.__wrapped__ = f
    return converted


def reference_under(**values: str) -> dict[str, Callable]:
    """The reference as an implementation under ``values`` (keys of the closed set): the ten
    functions of ``reference.__all__``, taking and returning boxes in ``box_format`` and
    computing under the other keys, plus ``CONVENTIONS`` (nothing: the caller declares).

    For testing the suite's machinery: a module ``globals().update(reference_under(
    nms_ties="highest"))`` is a correct implementation of those conventions.
    """
    import reference

    conventions = resolve(values)
    module = conventions.reference
    api: dict[str, Callable] = {}
    for name in reference.__all__:  # boxes to xyxy in float64: the reference computes in it
        f = getattr(module, name)
        api[name] = in_format(name, f, conventions.box_format, False, keep_dtype=False)
    return api


# --- which conventions a test read (for the conformance table's "why") --------------------------

_READ: set[str] | None = None


def start_reading() -> None:
    """Record, until :func:`stop_reading`, which keys the running test reads."""
    global _READ
    _READ = set()


def stop_reading() -> list[str]:
    """The keys read since :func:`start_reading`, in the order of :data:`KEYS`."""
    global _READ
    read, _READ = _READ or set(), None
    return [k for k in KEYS if k in read]


def _note(*keys: str) -> None:
    if _READ is not None:
        _READ.update(keys)


# What each function of the reference computes under: the IoU's keys, and NMS's.
_REFERENCE_READS = {
    "box_iou": IOU_KEYS,
    "assign_anchor_to_bbox": IOU_KEYS,
    "multibox_target": IOU_KEYS,
    "nms": IOU_KEYS + NMS_KEYS,
    "multibox_detection": IOU_KEYS + NMS_KEYS,
}


class Reading:
    """The ``conventions`` fixture: a :class:`Conventions` that notes which keys a test reads
    (directly, or through :attr:`reference`), so that the conformance table can say which
    convention a departure from the contract comes from."""

    def __init__(self, conventions: Conventions):
        self._conventions = conventions

    def __getattr__(self, name: str) -> Any:
        if name in KEYS:
            _note(name)
        elif name in ("rules",):
            _note(*IOU_KEYS, *NMS_KEYS)
        elif name in ("union_eps", "exact_on_lattice"):
            _note("empty_union")
        elif name == "reference":
            return _ReadingReference(self._conventions.reference, self._conventions.box_format)
        return getattr(self._conventions, name)

    def received(self, function: str, *args: Any) -> tuple:
        """``args`` of ``function`` as the implementation receives them (see
        :class:`_ReadingReference`), box arguments back in ``xyxy`` in float64."""
        if self._conventions.box_format not in ROUNDING_FORMATS:
            return args
        return as_received(function, args, {}, self._conventions.box_format)[0]

    def __repr__(self) -> str:
        return f"Reading({self._conventions!r})"


class _ReadingReference:
    """The reference under the conventions, on the boxes as the implementation received them.

    A box format whose conversion rounds (``xywh``, ``cxcywh`` off the lattice: the inputs are
    handed over in their own float32) gives the implementation boxes a rounding away from the
    test's: expected values are computed on those (exactly the test's boxes on the lattice).
    """

    def __init__(self, module: ModuleType, fmt: str):
        self._module, self._fmt = module, fmt

    def __getattr__(self, name: str) -> Any:
        _note(*_REFERENCE_READS.get(name, ()))
        f = getattr(self._module, name)
        if self._fmt not in ROUNDING_FORMATS or name not in BOXES:
            return f

        def on_received(*args: Any, **kwargs: Any) -> Any:
            args, kwargs = as_received(name, args, kwargs, self._fmt)
            return f(*args, **kwargs)

        return on_received


# Box formats whose conversion from xyxy rounds off the lattice.
ROUNDING_FORMATS = ("xywh", "cxcywh")


def as_received(function: str, args: tuple, kwargs: dict, fmt: str) -> tuple[tuple, dict]:
    """The box arguments of a call as an implementation declaring ``fmt`` receives them
    (converted to ``fmt`` in their dtype), back in ``xyxy`` in float64."""
    args, kwargs = convert_arguments(function, args, kwargs, fmt, True)
    return convert_arguments(function, args, kwargs, fmt, False, keep_dtype=False)
