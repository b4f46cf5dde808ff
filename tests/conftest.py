"""Shared pytest configuration: markers, the runtime selection, the integration fixtures, and the
harness's summary and JSON report.

Integration tests run against every runtime selected with ``--runtime`` (default: ocirun
and runc; any runc-compatible binary by path).  See tests/README.md.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Generator, Iterator
from pathlib import Path

import pytest

from tests.integration import support

RUNTIMES = ("ocirun", "runc")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--runtime",
        action="append",
        default=None,
        help="runtime(s) the integration tests run against (repeatable; default: ocirun and runc). "
        "ocirun is $OCIRUN_BIN or .venv/bin/ocirun; runc is /usr/bin/runc; any other runc-compatible "
        "binary by PATH (named by its file name, e.g. crun) or NAME=PATH.",
    )
    parser.addoption(
        "--report-json",
        default=None,
        metavar="PATH",
        help="write the integration results as JSON: per runtime and spec area, the counts and the "
        "tests that failed, with their first error line",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "integration: needs root and real namespaces; skipped when not root")
    config.addinivalue_line(
        "markers",
        "v2lane: also in CI's pure cgroup v2 lane (make test-v2): a lifecycle, exec or mounts test whose "
        "code paths differ on cgroup v2",
    )
    config.addinivalue_line(
        "markers",
        "xfail_runtime(name, reason, strict=True): expected to fail on runtime NAME only, e.g. where runc "
        "deviates from the spec (strict=False: a race of that runtime's that shows only sometimes)",
    )


def _runtime_choices(config: pytest.Config) -> dict[str, str | None]:
    """--runtime's values as name -> binary (None: ocirun's or runc's default, found later)."""
    out: dict[str, str | None] = {}
    for value in config.getoption("--runtime") or RUNTIMES:
        if value in RUNTIMES:
            out[value] = None
            continue
        name, eq, path = value.partition("=")
        if not eq:
            name, path = os.path.basename(value), value
        if not name or not path:
            raise pytest.UsageError(f"--runtime {value!r}: give ocirun, runc, a PATH or NAME=PATH")
        if not os.access(path, os.X_OK):
            raise pytest.UsageError(f"--runtime {value!r}: {path} is not an executable file")
        out[name] = os.path.abspath(path)
    return out


def _selected_runtimes(config: pytest.Config) -> list[str]:
    return list(_runtime_choices(config))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "runtime" in metafunc.fixturenames:
        metafunc.parametrize("runtime", _selected_runtimes(metafunc.config), indirect=True)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    integration_dir = Path(__file__).parent / "integration"
    not_root = os.geteuid() != 0
    for item in items:
        if integration_dir in Path(item.path).parents:
            item.add_marker(pytest.mark.integration)
            own = item.get_closest_marker("timeout")
            if own is None:
                item.add_marker(pytest.mark.timeout(60 * support.SLOWDOWN))
            elif support.SLOWDOWN != 1 and own.args:
                item.add_marker(pytest.mark.timeout(own.args[0] * support.SLOWDOWN), append=False)
        if item.get_closest_marker("integration") and not_root:
            item.add_marker(pytest.mark.skip(reason="integration tests need root"))
        callspec = getattr(item, "callspec", None)
        runtime = callspec.params.get("runtime") if callspec else None
        for mark in item.iter_markers("xfail_runtime"):
            name = mark.args[0]
            if name == runtime:
                reason = mark.kwargs.get("reason") or (mark.args[1] if len(mark.args) > 1 else "")
                strict = mark.kwargs.get("strict", True)
                item.add_marker(pytest.mark.xfail(strict=strict, reason=f"{name}: {reason}"))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Remember each phase's report on the item, for the leak check to know whether the test failed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    callspec = getattr(item, "callspec", None)
    runtime = callspec.params.get("runtime") if callspec else None
    if runtime is not None:
        report.user_properties.append(("runtime", runtime))
    return report


# ---------------------------------------------------------------------------- the harness's summary

# A test's outcome per runtime and spec area (the module: test_mounts.py is "mounts").
_OUTCOMES: dict[str, dict[str, dict[str, list[tuple[str, str]]]]] = {}


def _area(nodeid: str) -> str:
    module = nodeid.split("::", 1)[0].rsplit("/", 1)[-1]
    return module.removeprefix("test_").removesuffix(".py")


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    runtime = dict(report.user_properties).get("runtime")
    if runtime is None:
        return
    if report.when == "call" or (report.when == "setup" and not report.passed):
        xfail = hasattr(report, "wasxfail")
        outcome = ("xfailed" if report.skipped else "xpassed") if xfail else report.outcome
    elif report.when == "teardown" and report.failed:
        outcome = "failed"  # the leak check
    else:
        return
    first = ""
    if outcome in ("failed", "xpassed") and report.longrepr is not None:
        first = next((line.strip() for line in str(report.longreprtext).splitlines()[::-1]
                      if line.strip().startswith("E ")), "")[:300]
    elif outcome in ("skipped", "xfailed") and isinstance(report.longrepr, tuple):
        first = str(report.longrepr[2])[:300]
    per_area = _OUTCOMES.setdefault(runtime, {}).setdefault(_area(report.nodeid), {})
    per_area.setdefault(outcome, []).append((report.nodeid, first))


_COLUMNS = ("passed", "failed", "skipped", "xfailed", "xpassed")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    """Per runtime: passed / failed / not applicable (skipped) / expected deviation (xfailed) by
    spec area; with --report-json, the same and each failure's first error line as JSON."""
    if not _OUTCOMES:
        return
    tr = terminalreporter
    tr.section("runtime harness: results by spec area")
    for runtime, areas in sorted(_OUTCOMES.items()):
        tr.write_line(f"{runtime}:")
        tr.write_line(f"  {'area':<12}" + "".join(f"{c:>9}" for c in _COLUMNS))
        totals = dict.fromkeys(_COLUMNS, 0)
        for area, outcomes in sorted(areas.items()):
            counts = {c: len(outcomes.get(c, ())) for c in _COLUMNS}
            for c in _COLUMNS:
                totals[c] += counts[c]
            tr.write_line(f"  {area:<12}" + "".join(f"{counts[c]:>9}" for c in _COLUMNS))
        tr.write_line(f"  {'total':<12}" + "".join(f"{totals[c]:>9}" for c in _COLUMNS))
    path = config.getoption("--report-json")
    if path:
        doc = {
            runtime: {
                area: {
                    **{c: len(outcomes.get(c, ())) for c in _COLUMNS},
                    "failures": [{"test": t, "error": e} for t, e in outcomes.get("failed", [])],
                    "not_applicable": [{"test": t, "reason": e} for t, e in outcomes.get("skipped", [])],
                }
                for area, outcomes in sorted(areas.items())
            }
            for runtime, areas in sorted(_OUTCOMES.items())
        }
        Path(path).write_text(json.dumps(doc, indent=2) + "\n")
        tr.write_line(f"JSON report: {path}")


# ---------------------------------------------------------------------------- fixtures


def _runtime_binary(name: str, config: pytest.Config) -> str:
    explicit = config.getoption("--runtime") is not None
    path = _runtime_choices(config).get(name)
    if path is not None:
        return path
    if name == "ocirun":
        path = os.environ.get("OCIRUN_BIN") or str(support.DEFAULT_OCIRUN)
        if not os.access(path, os.X_OK):
            # Deliberately a failure, not a skip: a missing ocirun must not pass as green.
            pytest.fail(
                f"ocirun binary not found or not executable at {path} (set OCIRUN_BIN, install the "
                f"package into .venv, or run only runc with --runtime=runc)",
                pytrace=False,
            )
        return path
    runc = support.DEFAULT_RUNC if os.access(support.DEFAULT_RUNC, os.X_OK) else shutil.which("runc")
    if not runc:
        if explicit:
            pytest.fail("runc is not installed (/usr/bin/runc)", pytrace=False)
        pytest.skip("runc is not installed")
    return runc


@pytest.fixture(scope="session")
def probe_binary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tests/probe/probe.c built static, once per session; or $OCIRUN_TEST_PROBE, one built
    already (the emulated guests' make targets build it on the host: gcc takes ~40 s there)."""
    prebuilt = os.environ.get("OCIRUN_TEST_PROBE")
    if prebuilt:
        if not os.access(prebuilt, os.X_OK):
            pytest.fail(f"OCIRUN_TEST_PROBE={prebuilt}: not an executable file", pytrace=False)
        return Path(prebuilt)
    out = tmp_path_factory.mktemp("probe") / "probe"
    cmd = ["gcc", "-static", "-O2", "-std=gnu11", "-Wall", "-Wextra", "-Werror",
           "-o", str(out), str(support.PROBE_SOURCE)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.fail(f"building the probe failed: {' '.join(cmd)}\n{proc.stderr}", pytrace=False)
    return out


@pytest.fixture(scope="session")
def _cgroup_parent() -> Iterator[None]:
    """At the end of the session remove the (then empty) /ocirun-test parent cgroups."""
    yield
    for hierarchy in support.cgroup_mounts():  # the v1 hierarchies, or the one on pure v2
        parent = hierarchy / support.CGROUP_PARENT
        if parent.is_dir():
            with contextlib.suppress(OSError):  # not empty: a leak, reported by the test that made it
                parent.rmdir()


@pytest.fixture
def workdir() -> Iterator[Path]:
    """A fresh directory for one test's bundles, state root, logs and outputs."""
    support.WORK_BASE.mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix="t-", dir=support.WORK_BASE))
    yield path
    # Never remove a directory something is still mounted on: rmtree would descend into it.
    if not support.leaked_mounts(path, []):
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def runtime(request: pytest.FixtureRequest, workdir: Path, _cgroup_parent: None) -> Iterator[support.Runtime]:
    """The runtime under test (parametrized), with a fresh --root, and a leak check after the test.

    After the test: containers still in the root are force-deleted and the test fails;
    so it does for mounts, cgroups, processes left behind and host device nodes changed.
    A test that already failed is not failed twice: its leaks are only cleaned up and
    listed in a report section (a failed test rarely got to its own delete).
    """
    name = request.param
    binary = _runtime_binary(name, request.config)
    devices_before = support.device_snapshot()
    rt = support.Runtime(name, binary, workdir)
    yield rt

    problems = []
    left = support.cleanup_leftovers(rt)
    rt.ids.extend(cid for cid in left if cid not in rt.ids)
    if left:
        problems.append(f"containers left (force-deleted now): {left}")
    problems += support.find_leaks(rt, workdir)
    devices_after = support.device_snapshot()
    for dev, before in devices_before.items():
        after = devices_after[dev]
        if after != before:
            problems.append(f"host {dev} changed: (uid, gid, mode, rdev) {before} -> {after}")
            if before and after and before[3] == after[3]:  # same node: put owner and mode back
                os.chown(dev, before[0], before[1])
                os.chmod(dev, before[2] & 0o7777)
    if problems:
        support.remove_leaks(workdir, rt.ids)
        text = "leak check after the test:\n  " + "\n  ".join(problems)
        call = getattr(request.node, "report_call", None)
        if call is not None and call.failed:
            request.node.add_report_section("teardown", "leaks (test failed already)", text)
        else:
            pytest.fail(text, pytrace=False)


@pytest.fixture
def bundle(workdir: Path, probe_binary: Path) -> support.Bundle:
    """A bundle with the busybox+probe rootfs and ``base_config()`` (written at create/run)."""
    path = workdir / "bundle"
    path.mkdir()
    support.make_rootfs(path / "rootfs", probe_binary)
    return support.Bundle(path)


@pytest.fixture
def make_bundle(workdir: Path, probe_binary: Path) -> Callable[[str], support.Bundle]:
    """Factory for extra bundles in the same test: ``make_bundle("name")``."""

    def make(name: str) -> support.Bundle:
        path = workdir / name
        path.mkdir()
        support.make_rootfs(path / "rootfs", probe_binary)
        return support.Bundle(path)

    return make
