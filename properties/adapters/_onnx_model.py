"""The ONNX graph both ONNX adapters run: one ``NonMaxSuppression`` node (opset 11).

Inputs ``boxes (1, N, 4)`` ``[y1, x1, y2, x2]`` (``center_point_box = 0``, the default),
``scores (1, 1, N)``, ``max_output_boxes_per_class (1,)`` and ``iou_threshold (1,)``; no
``score_threshold`` (the contract's NMS has none). Output ``selected_indices (K, 3)``: batch,
class, box, in selection order.
"""

from __future__ import annotations

import numpy as np
from onnx import TensorProto, helper

OPSET = 11


def nms_model():
    node = helper.make_node(
        "NonMaxSuppression",
        ["boxes", "scores", "max_output_boxes_per_class", "iou_threshold"],
        ["selected_indices"],
        center_point_box=0,
    )
    graph = helper.make_graph(
        [node],
        "nms",
        [
            helper.make_tensor_value_info("boxes", TensorProto.FLOAT, [1, "N", 4]),
            helper.make_tensor_value_info("scores", TensorProto.FLOAT, [1, 1, "N"]),
            helper.make_tensor_value_info("max_output_boxes_per_class", TensorProto.INT64, [1]),
            helper.make_tensor_value_info("iou_threshold", TensorProto.FLOAT, [1]),
        ],
        [helper.make_tensor_value_info("selected_indices", TensorProto.INT64, ["K", 3])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 7  # readable by every onnxruntime of the last years
    return model


def feeds(boxes, scores, iou_threshold) -> dict[str, np.ndarray]:
    """The graph's inputs for one image and one class: every box may be selected."""
    b = np.asarray(boxes, np.float32).reshape(1, -1, 4)
    return {
        "boxes": b,
        "scores": np.asarray(scores, np.float32).reshape(1, 1, -1),
        "max_output_boxes_per_class": np.array([b.shape[1]], np.int64),
        "iou_threshold": np.array([iou_threshold], np.float32),
    }


# The repro snippets' own copy of the graph, so that they need nothing from this project.
MODEL_SOURCE = """from onnx import TensorProto, helper
node = helper.make_node("NonMaxSuppression", ["boxes", "scores", "max_output_boxes_per_class",
                        "iou_threshold"], ["selected_indices"], center_point_box=0)
graph = helper.make_graph([node], "nms", [
    helper.make_tensor_value_info("boxes", TensorProto.FLOAT, [1, "N", 4]),
    helper.make_tensor_value_info("scores", TensorProto.FLOAT, [1, 1, "N"]),
    helper.make_tensor_value_info("max_output_boxes_per_class", TensorProto.INT64, [1]),
    helper.make_tensor_value_info("iou_threshold", TensorProto.FLOAT, [1])],
    [helper.make_tensor_value_info("selected_indices", TensorProto.INT64, ["K", 3])])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 11)])
model.ir_version = 7
feeds = {"boxes": boxes.reshape(1, -1, 4), "scores": scores.reshape(1, 1, -1),
         "max_output_boxes_per_class": np.array([len(boxes)], np.int64),
         "iou_threshold": np.array([iou_threshold], np.float32)}"""
