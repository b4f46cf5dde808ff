"""Shared pytest configuration: markers, the runtime selection, the integration fixtures.

Integration tests run against every runtime selected with ``--runtime`` (default: ocirun
and runc).  See tests/README.md.
"""

from __future__ import annotations

import contextlib
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
        choices=RUNTIMES,
        default=None,
        help="runtime(s) the integration tests run against (repeatable; default: ocirun and runc). "
        "ocirun is $OCIRUN_BIN or .venv/bin/ocirun; runc is /usr/bin/runc.",
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
        "xfail_runtime(name, reason): expected to fail (strict) on runtime NAME only, e.g. where runc "
        "deviates from the spec",
    )


def _selected_runtimes(config: pytest.Config) -> list[str]:
    chosen = config.getoption("--runtime")
    return list(dict.fromkeys(chosen)) if chosen else list(RUNTIMES)


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
                item.add_marker(pytest.mark.xfail(strict=True, reason=f"{name}: {reason}"))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Remember each phase's report on the item, for the leak check to know whether the test failed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


# ---------------------------------------------------------------------------- fixtures


def _runtime_binary(name: str, config: pytest.Config) -> str:
    explicit = config.getoption("--runtime") is not None
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
    """tests/probe/probe.c built static, once per session."""
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
