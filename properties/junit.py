"""Reading the suite's JUnit XML for the conformance table (``python -m properties
conformance``, :mod:`properties.conformance`): each test's outcome, the convention keys it read,
and a failure's parts (counterexample, repro snippet, drawing)."""

from __future__ import annotations

import re
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import NamedTuple


class Outcome(NamedTuple):
    entry: str  # plan entry (implementation, or implementation@contract)
    test: str  # file.py::test_name
    outcome: str  # pass, fail, skip, error
    read: tuple[str, ...]  # the convention keys the test read
    text: str  # failure or skip text


def read_junit(path: Path, entry: str | None = None) -> list[Outcome]:
    """Outcomes of the suite's tests in a JUnit XML: from a plan run (entry from each case's
    ``impl`` property), or from a plain run when ``entry`` is given (tests outside the suite's
    package, such as the project's own tests/, are left out)."""
    out: dict[tuple[str, str], Outcome] = {}
    rank = {"skip": 0, "pass": 1, "fail": 2, "error": 3}
    for case in ET.parse(path).getroot().iter("testcase"):
        classname = case.get("classname", "")
        if not classname.startswith("properties.") and "properties" not in classname.split("."):
            continue
        props = {p.get("name"): p.get("value") for p in case.iter("property")}
        name = entry or props.get("impl")
        if not name:
            continue
        test = f"{classname.rsplit('.', 1)[-1]}.py::{case.get('name', '').split('[', 1)[0]}"
        text = ""
        if case.find("error") is not None:
            outcome, text = "error", _text(case.find("error"))
        elif case.find("failure") is not None:
            outcome, text = "fail", _text(case.find("failure"))
        elif case.find("skipped") is not None:
            outcome, text = "skip", case.find("skipped").get("message", "")
        else:
            outcome = "pass"
        read = tuple(k for k in (props.get("conventions_read") or "").split(",") if k)
        key = (name, test)
        if key not in out or rank[outcome] > rank[out[key].outcome]:
            out[key] = Outcome(name, test, outcome, read, text)
    return list(out.values())


def _text(element: ET.Element) -> str:
    """pytest's full report (the ``message`` attribute is cut after a few lines)."""
    return (element.text or element.get("message", "")).strip()


def failure_parts(text: str) -> dict[str, str]:
    """The message, the shrunk counterexample, the repro snippet and the drawing of a failure
    (from pytest's report: its ``E`` prefixes are taken off first)."""
    text = "\n".join(re.sub(r"^E(?: {1,7}|$)", "", ln) for ln in text.splitlines())
    message = next(
        (ln.split("Error: ", 1)[1] for ln in text.splitlines() if "Error: " in ln), text[:300]
    )
    example = re.search(
        r"(?:Falsifying (?:explicit )?example|Failing test case): (.*?\n\s*\)|[^\n]*)", text, re.S
    )
    repro = re.search(
        r"To reproduce:\n(.*?)(?:\n\s*\n|\n\s*(?:Drawing of this example|Failing test case)|$)",
        text,
        re.S,
    )
    drawing = re.search(r"Drawing of this example: (\S+\.png)", text)
    snippet = ""
    if repro:
        snippet = textwrap.dedent(repro.group(1)).strip()
    return {
        "message": re.sub(r" \[\w+\(.*\)\]$", "", message.strip()),
        "counterexample": example.group(1).strip() if example else "",
        "repro": snippet,
        "drawing": drawing.group(1) if drawing else "",
    }
