"""The failure reports: message, copy-paste repro and drawing, as a user of the suite sees them."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from properties import asserts
from properties.asserts import Call, assert_close, assert_equal, check

BROKEN_NMS = Path(__file__).resolve().parents[1] / "properties" / "broken" / "nms_ge.py"

DEMO = textwrap.dedent(
    """
    from hypothesis import given, strategies as st

    import reference
    from properties.asserts import Call, assert_equal
    from properties.strategies import boxes, distinct_scores, sizes


    @given(st.data())
    def test_nms_equals_reference(impl, data):
        b = data.draw(boxes(sizes(13, min_size=1)))
        s = data.draw(distinct_scores(len(b)))
        call = Call(impl, "nms", boxes=b, scores=s, iou_threshold=0.0)
        assert_equal(call(), reference.nms(b, s, 0.0), call, what="kept indices")
    """
)


def test_failure_report_of_a_broken_nms(tmp_path):
    """Against nms with ``>=``: got/expected/call in the message, a repro that reproduces, a PNG."""
    (tmp_path / "test_demo.py").write_text(DEMO)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "test_demo.py", f"--impl={BROKEN_NMS}"]
        + ["-p", "no:cacheprovider", "-q", "--hypothesis-profile=selftest"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    out = proc.stdout
    assert proc.returncode == 1, out[-3000:]
    message = re.search(r"AssertionError: (kept indices: got .*)", out)
    assert message, out[-3000:]
    assert "expected" in message.group(1)
    assert "[nms(boxes, scores, iou_threshold=0.0)]" in message.group(1)

    # The snippet, copied from the report, reproduces the wrong answer.
    snippet = re.search(r"To reproduce:\n(.*?)\nE\s*\n", out, re.S)
    assert snippet, out[-3000:]
    code = textwrap.dedent("\n".join(line[1:] for line in snippet.group(1).splitlines()))
    got = re.search(r"got (\[[^\]]*\])", message.group(1)).group(1)
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env
    )
    assert run.returncode == 0, run.stderr
    printed = [int(x) for x in re.findall(r"-?\d+", run.stdout)]
    assert printed == eval(got), (code, run.stdout, got)

    # One drawing, of the final (shrunk) example, named in the message.
    drawing = re.search(r"Drawing of this example: (\S+\.png)", out)
    assert drawing, out[-3000:]
    pngs = list((tmp_path / "anchor-reports").glob("*.png"))
    assert [str(p) for p in pngs] == [drawing.group(1)]
    assert pngs[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _message(fn, *args, **kwargs) -> str:
    with pytest.raises(AssertionError) as info:
        fn(*args, **kwargs)
    return str(info.value)


def test_messages_name_the_difference(monkeypatch):
    monkeypatch.setattr(asserts, "REPORTS_DIR", None)
    import reference

    call = Call(reference, "box_iou", boxes1=np.zeros((1, 4), np.float32), boxes2=np.ones((2, 4)))
    msg = _message(assert_equal, [1, 2, 3], [1, 5, 3], call, what="labels")
    assert msg.startswith("labels: got [1, 2, 3], expected [1, 5, 3]; first difference at index")
    assert "(1,): 2 vs 5" in msg or "(1,): np.int64(2) vs np.int64(5)" in msg
    assert "[box_iou(boxes1, boxes2)]" in msg
    assert "boxes1 = np.array([[0., 0., 0., 0.]], dtype=np.float32)" in msg

    msg = _message(assert_equal, np.zeros(2), np.zeros(3), None, what="x")
    assert "shape (2,) vs (3,)" in msg
    assert_equal(np.array([np.nan, -0.0]), np.array([np.nan, 0.0]), None)
    _message(assert_equal, np.array([-0.0]), np.array([0.0]), None, signed_zero=True)

    assert_close(np.float32([1.0 + 1e-6]), np.float64([1.0]), None)  # within float32 tolerance
    msg = _message(assert_close, np.float32([1.0, 1.01]), [1.0, 1.0], None, what="w")
    assert "worst at index (1,)" in msg and "rtol=1e-05" in msg
    assert "law broken [nms(iou_threshold=0.5)]" in _message(
        check, False, "law broken", Call(reference, "nms", iou_threshold=0.5)
    )
    check(True, "never shown", None)
