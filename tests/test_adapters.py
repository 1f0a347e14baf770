"""The adapters of real libraries (``properties/adapters/``).

- A deliberately wrong adapter, one that flips NMS's tie order without declaring it, is caught
  by the tie property; the same adapter without the flip passes under the same declaration.
- Every shipped adapter whose library is installed loads under its short name, declares its
  library and conventions, and writes repro snippets that call the library itself and print
  what the adapter returned (the others skip: their libraries are the ``conformance`` extra).
"""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import re
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

import properties
from properties import conventions as conv
from properties.plugin import CONTRACT_FUNCTIONS, adapter_names, load_implementation

SUITE = Path(properties.__file__).resolve().parent

# torchvision's NMS with the visiting order of equal scores reversed (the boxes handed over in
# reverse index order, the indices mapped back), declaring the torchvision preset with ties to
# the lowest index: a tie rule flipped without saying so. WRONG=False is the honest adapter.
ADAPTER = textwrap.dedent(
    '''
    """torchvision's NMS, ties {what}."""
    import numpy as np
    import torch
    import torchvision

    LIBRARY = "torchvision"
    CONVENTIONS = {{"preset": "torchvision", "nms_ties": "lowest"}}
    CHECKS_ARGUMENTS = False
    WRONG = {wrong}


    def nms(boxes, scores, iou_threshold):
        order = np.arange(len(scores))[::-1] if WRONG else np.arange(len(scores))
        b = torch.from_numpy(np.ascontiguousarray(boxes[order]))
        s = torch.from_numpy(np.ascontiguousarray(scores[order]))
        return order[torchvision.ops.nms(b, s, float(iou_threshold)).numpy()]
    '''
)
TIE_TESTS = [
    "test_nms.py::test_nms_score_ties_go_to_lower_index",
    "test_golden.py::test_nms_ties_go_to_lower_index",
]


def test_an_adapter_that_flips_the_tie_order_undeclared_is_caught(tmp_path):
    pytest.importorskip("torchvision")
    (tmp_path / "flipped.py").write_text(ADAPTER.format(what="flipped", wrong=True))
    (tmp_path / "honest.py").write_text(ADAPTER.format(what="as torchvision's CPU", wrong=False))
    plan = {
        name: {"impl": str(tmp_path / f"{name}.py"), "tests": TIE_TESTS}
        for name in ("flipped", "honest")
    }
    (tmp_path / "plan.json").write_text(json.dumps(plan))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", str(SUITE / "test_nms.py"), str(SUITE / "test_golden.py"),
         "--impl-plan=plan.json", "--hypothesis-profile=selftest", "--anchor-reports=",
         "-p", "no:cacheprovider", "-q", "--junitxml=junit.xml"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stdout[-3000:]
    outcomes = {}
    for case in ET.parse(tmp_path / "junit.xml").getroot().iter("testcase"):
        failed = case.find("failure") is not None or case.find("error") is not None
        outcomes[case.get("name")] = "failed" if failed else "passed"
    assert outcomes == {
        "test_nms_score_ties_go_to_lower_index[flipped]": "failed",
        "test_nms_score_ties_go_to_lower_index[honest]": "passed",
        "test_nms_ties_go_to_lower_index[flipped]": "failed",
        "test_nms_ties_go_to_lower_index[honest]": "passed",
    }, outcomes


# --- the shipped adapters ----------------------------------------------------------------------

# One small call per function an adapter may provide: lattice boxes, exact answers.
BOXES = np.array([[0, 0, 1, 1], [0, 0, 0.5, 1], [0.75, 0.25, 1.5, 0.5], [0.5, 0.5, 0.5, 0.5]])
CALLS = {
    "box_iou": dict(boxes1=BOXES.astype(np.float32), boxes2=BOXES[:2].astype(np.float32)),
    "nms": dict(
        boxes=BOXES.astype(np.float32),
        scores=np.array([0.75, 0.75, 0.5, 0.25], np.float32),
        iou_threshold=0.25,
    ),
    "box_corner_to_center": dict(boxes=BOXES.astype(np.float32)),
    "box_center_to_corner": dict(boxes=np.array([[0.5, 0.5, 1, 1]], np.float32)),
    "box_convert": dict(boxes=BOXES.astype(np.float32), in_fmt="xyxy", out_fmt="xywh"),
    "clip_boxes_to_image": dict(boxes=BOXES.astype(np.float32), size=(0.75, 1.0)),
    "remove_small_boxes": dict(boxes=BOXES.astype(np.float32), min_size=0.5),
    "offset_inverse": dict(
        anchors=BOXES[:3].astype(np.float32), offset_preds=np.full((3, 4), 0.5, np.float32)
    ),
}


def _declared(name: str) -> dict:
    tree = ast.parse((SUITE / "adapters" / f"{name}.py").read_text())
    return {
        n.targets[0].id: ast.literal_eval(n.value)
        for n in tree.body
        if isinstance(n, ast.Assign) and isinstance(n.targets[0], ast.Name)
        and n.targets[0].id in ("LIBRARY", "CONVENTIONS", "CHECKS_ARGUMENTS")
    }  # fmt: skip


@pytest.mark.parametrize("name", adapter_names())
def test_adapter_declares_library_and_conventions(name):
    """Read without importing: a library, conventions that resolve, no argument checks."""
    declared = _declared(name)
    assert declared.get("LIBRARY"), name
    assert declared.get("CHECKS_ARGUMENTS") is False, name
    conv.resolve(declared["CONVENTIONS"])


@pytest.mark.parametrize("name", adapter_names())
def test_adapter_repro_calls_the_library_and_prints_its_answer(name, tmp_path):
    """Loaded under its short name with its conventions; for each function it provides, the
    repro snippet runs without this project (``-I``: the library alone) and prints what the
    adapter returned through the plugin (boxes in the library's format). One process runs the
    snippets of all functions, one after the other."""
    library = _declared(name)["LIBRARY"].replace("-", "_")
    if importlib.util.find_spec(library) is None:  # not imported here: keras must see its backend
        pytest.skip(f"{library} is not installed (the conformance extra)")
    impl = load_implementation(name)
    assert impl.conventions == conv.resolve(_declared(name)["CONVENTIONS"])
    provided = [f for f in CONTRACT_FUNCTIONS if impl.has(f)]
    assert provided, f"{name} provides none of {CONTRACT_FUNCTIONS}"
    fmt = impl.conventions.box_format
    expected, script = {}, []
    for function in provided:
        args = CALLS[function]
        converted = conv.convert_arguments(function, tuple(args.values()), {}, fmt, True)[0]
        expected[function] = np.asarray(getattr(impl.module, function)(*converted), np.float64)
        code = impl.repro(function, args)
        assert "properties" not in code, code
        script += [f"print('=== {function}')", code]
    run = subprocess.run(
        [sys.executable, "-I", "-c", "\n".join(script)], capture_output=True, text=True,
        timeout=300, cwd=tmp_path, env={**os.environ, "KERAS_BACKEND": "jax"},
    )  # fmt: skip
    assert run.returncode == 0, ("\n".join(script), run.stderr[-3000:])
    printed = dict(part.split("\n", 1) for part in run.stdout.split("=== ")[1:])
    for function, want in expected.items():
        numbers = re.findall(r"-?\d+\.?\d*(?:e[-+]?\d+)?", printed[function])
        np.testing.assert_allclose(
            np.array([float(x) for x in numbers]), want.reshape(-1), rtol=1e-6, atol=1e-6,
            err_msg=f"{name}.{function}: the repro printed {printed[function]!r}",
        )  # fmt: skip
