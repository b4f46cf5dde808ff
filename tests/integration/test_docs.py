"""docs/library.md: every ```python block runs, as the doc says, on real containers.

ocirun only (the library's examples).  Each example runs as a script of its own in a fresh
directory: the doc's names are replaced (/tmp/ocirun-docs by the test's directory, /run/ocirun-docs
by a state root in it, /ocirun-docs/ by a cgroup below /ocirun-test/), the first block (which builds
the bundle) runs first, then the example; it must exit 0 and leave nothing behind.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from .support import CGROUP_PARENT, DEFAULT_OCIRUN, find_leaks, remove_leaks
from .support import Runtime as Driver

DOC = Path(__file__).resolve().parents[2] / "docs" / "library.md"


def blocks(text: str) -> list[tuple[str, str]]:
    """The ```python blocks of ``text``, each with the heading it is under."""
    found = []
    heading = ""
    lines = iter(text.splitlines())
    for line in lines:
        if line.startswith("#"):
            heading = line.lstrip("#").strip()
        elif line.strip() == "```python":
            code = []
            for inner in lines:
                if inner.strip() == "```":
                    break
                code.append(inner)
            found.append((heading, "\n".join(code) + "\n"))
    return found


BLOCKS = blocks(DOC.read_text())
SETUP = BLOCKS[0][1]


def slug(heading: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", heading.lower()).strip("-")[:40]


def localize(code: str, workdir: Path, tag: str) -> str:
    """The doc's names of its own replaced by this test's."""
    return (code.replace("/tmp/ocirun-docs", str(workdir / "docs"))
                .replace("/run/ocirun-docs", str(workdir / "root"))
                .replace("/ocirun-docs/", f"/{CGROUP_PARENT}/{tag}-"))


def run_script(path: Path, code: str) -> tuple[int, str]:
    """Runs ``code`` as a script: its exit status and output.  The output goes to a file, not a
    pipe: a container the script left running holds its stdio, and reading a pipe to its end would
    wait for that container."""
    path.write_text(code)
    out = path.with_suffix(".out")
    with open(out, "wb") as f:
        status = subprocess.run([sys.executable, str(path)], stdin=subprocess.DEVNULL, stdout=f,
                                stderr=subprocess.STDOUT, timeout=120).returncode
    return status, out.read_text(errors="replace")


def test_the_doc_has_examples_for_every_public_name() -> None:
    import ocirun

    code = "".join(c for _, c in BLOCKS)
    assert len(BLOCKS) >= 10
    for name in ocirun.__all__:
        if name not in ("__version__", "ContainerState"):
            assert name in code or f"ocirun.{name}" in DOC.read_text(), name
    for method in ("create", "run(", "get(", "list(", "spec(", "state(", ".status", "start(", "kill(",
                   ".wait(", "wait_async(", "delete(", "exec(", ".master", "returncode", "pause(",
                   "resume(", "update(", "ps(", "stats(", "events(", "events_async(", "add_mount(",
                   "check(", "to_json(", "write(", "namespaces", "readonly", "hostname", "cwd", "user"):
        assert method in code, f"no example uses {method}"


@pytest.mark.parametrize("index", range(len(BLOCKS)), ids=[f"{i}-{slug(h)}" for i, (h, _) in enumerate(BLOCKS)])
def test_example_runs(index: int, workdir: Path) -> None:
    heading, code = BLOCKS[index]
    tag = f"docs-{uuid.uuid4().hex[:8]}"
    (workdir / "docs").mkdir()
    (workdir / "root").mkdir()
    # The command line for the leak checks and to clean up (same --root; the cgroups all start with tag).
    driver = Driver("ocirun", os.environ.get("OCIRUN_BIN") or str(DEFAULT_OCIRUN), workdir)
    driver.root = workdir / "root"
    driver.ids[:] = [tag]
    try:
        if index > 0:
            status, output = run_script(workdir / "setup.py", localize(SETUP, workdir, tag))
            assert status == 0, f"the first example failed:\n{output}"
        status, output = run_script(workdir / "example.py", localize(code, workdir, tag))
        assert status == 0, f"the example under {heading!r} failed:\n{output}"
    finally:
        left = driver.ids_in_root()
        for cid in left:
            driver.run("delete", "--force", "--", cid, check=False)
        problems = find_leaks(driver, workdir)
        if problems:
            remove_leaks(workdir, driver.ids)
    assert not left and not problems, f"left behind: containers {left}, {problems}"


def test_examples_type_check(workdir: Path) -> None:
    """The examples pass ``mypy --strict``: the library's types (py.typed) are complete enough for
    a program written as the doc shows."""
    pytest.importorskip("mypy", reason="mypy is not installed (pip install '.[lint]')")
    files = []
    for index, (_, code) in enumerate(BLOCKS):
        path = workdir / f"example_{index}.py"
        path.write_text(code)
        files.append(str(path))
    # From the checkout, with its settings (pyproject.toml), as make lint checks tests/typing.
    res = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(workdir / "cache"), *files],
                         cwd=DOC.parents[1], capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stdout + res.stderr
