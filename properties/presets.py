"""The conventions presets (CONTRACT.md §7): each library's values of the closed set of
:mod:`properties.conventions`, with a citation for every value."""

from __future__ import annotations

from typing import NamedTuple

from .conventions import CONTRACT, KEYS, Conventions


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
