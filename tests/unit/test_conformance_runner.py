"""tests/conformance/runtime_tools.py reads a validation file's TAP output as the page says."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest

RUNNER = Path(__file__).parents[1] / "conformance" / "runtime_tools.py"

FILES = {
    "passes": 'echo "TAP version 13"; echo "ok 1 - a"; echo "ok 2 # SKIP b"; echo "1..2"',
    "fails": 'echo "ok 1 - a"; echo "not ok 2 - b"; echo "1..2"',
    "quiet": 'echo "TAP version 13"; echo "1..0"',
    "reports": 'echo "TAP version 13"; echo "  ---"; echo "  {}"; echo "  ..."; echo "1..0"',
    "exits": 'echo "ok 1 - a"; exit 1',
    "runtime": '[ "$RUNTIME" = /bin/true ] && echo "ok 1" || echo "not ok 1"',
}


@pytest.fixture(scope="module")
def runner() -> Any:
    spec = importlib.util.spec_from_file_location("runtime_tools", RUNNER)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_results(runner: Any, tmp_path: Path) -> None:
    checkout = tmp_path / "runtime-tools"
    for name, body in FILES.items():
        d = checkout / "validation" / name
        d.mkdir(parents=True)
        (d / f"{name}.t").write_text("#!/bin/sh\n" + body + "\n")
        (d / f"{name}.t").chmod(0o755)
    (checkout / "runtimetest").write_text("")
    (checkout / "runtimetest").chmod(0o755)
    logs = tmp_path / "logs"
    page = tmp_path / "page.md"
    rc = runner.main([str(checkout), "--runtime", "x=/bin/true", "--retries", "0", "--logs", str(logs),
                      "--page", str(page), "--command", "make it"])
    assert rc == 0
    got = {n: r["result"] for n, r in json.loads((logs / "results.json").read_text())["x"].items()}
    assert got == {"passes": "pass", "fails": "fail", "quiet": "no assertion", "reports": "fail",
                   "exits": "fail", "runtime": "pass"}
    text = page.read_text()
    assert "    make it\n" in text and "x 2/6 pass (1 no assertion)" in text
    assert "| quiet | no assertion | not explained yet: 1..0 |" in text
