"""The README's Python examples run as written."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_python_blocks_run():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks, "the README has no Python example"
    namespace: dict = {"__name__": "readme"}
    for block in blocks:
        exec(compile(block, str(README), "exec"), namespace)
    # The example trains a few steps: the loss falls, and the most confident
    # detection of image 1 (which holds only class 1) is of class 1.
    assert float(namespace["value"]) < 0.5 * float(namespace["first_loss"])
    assert namespace["detections"][1, 0, 0] == 1
    assert int(namespace["count"]) >= 1
