"""Fields of config.json that had no test of their effect, and those ocirun refuses (issue 15):
each is applied (checked from inside) or refused with one line naming its JSON path, nothing
left behind.  tests/unit/test_spec_coverage.py maps every property of the schema to the tests
that cover it; these are the ones nothing else covered."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from .support import Bundle, Runtime, expect_error, probe_args


def test_intel_rdt_without_resctrl_is_refused(runtime: Runtime, bundle: Bundle) -> None:
    """linux.intelRdt where no resctrl is mounted (this host): create fails, naming the field."""
    if " - resctrl " in Path("/proc/self/mountinfo").read_text():
        pytest.skip("resctrl is mounted here")
    bundle.set_args(*probe_args("exit", "0"))
    bundle.linux["intelRdt"] = {"closID": "ocirun-test", "l3CacheSchema": "L3:0=f", "memBwSchema": "MB:0=50",
                                "schemata": ["L2:0=3"], "enableMonitoring": True}
    res = runtime.try_create(bundle)
    expect_error(runtime, res, runc=r"Intel RDT",
                 ocirun=r"\$\.linux\.intelRdt: no resctrl filesystem is mounted: Intel RDT is not available")
    assert runtime.ids_in_root() == []
    assert runtime.leaks() == []


@pytest.mark.xfail_runtime("runc", "runc 1.1.5 predates process.execCPUAffinity (runc 1.2)")
def test_exec_cpu_affinity(runtime: Runtime, bundle: Bundle) -> None:
    """process.execCPUAffinity of an exec'd process (config.md: not for the container's init):
    ``final`` is its affinity when it runs; ``initial`` only while the runtime sets it up."""
    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("needs two CPUs")
    bundle.set_args(*probe_args("sleep", "600"))
    cid = runtime.create(bundle)
    runtime.start(cid)
    try:
        process = {"args": ["cat", "/proc/self/status"], "cwd": "/", "env": ["PATH=/bin"],
                   "execCPUAffinity": {"initial": "1", "final": "0"}}
        path = runtime.workdir / "process.json"
        path.write_text(json.dumps(process))
        out = runtime.run("exec", "--process", str(path), cid).stdout
        assert re.search(r"Cpus_allowed_list:\s+0\n", out), out
    finally:
        runtime.delete(cid, force=True, check=False)


@pytest.mark.xfail_runtime("runc", "runc 1.1.5 predates process.scheduler (runc 1.2)")
def test_scheduler_deadline_runtime_deadline_period(runtime: Runtime, bundle: Bundle) -> None:
    """SCHED_DEADLINE with its runtime, deadline and period (sched_setattr), read back from
    inside with sched_getattr (the probe execs nothing: a deadline task cannot fork)."""
    bundle.process["scheduler"] = {"policy": "SCHED_DEADLINE", "runtime": 1_000_000, "deadline": 5_000_000,
                                   "period": 10_000_000}
    report = runtime.run_probe(bundle, "sched")
    assert (report["policy"], report["runtime"], report["deadline"], report["period"]) == (
        6, 1_000_000, 5_000_000, 10_000_000), report


@pytest.mark.xfail_runtime("runc", "runc 1.1.5 (runtime-spec 1.0.2) ignores linux.personality")
def test_personality_flags_are_refused(runtime: Runtime, bundle: Bundle) -> None:
    """linux.personality.flags: none is supported, so any is refused (never dropped)."""
    bundle.set_args(*probe_args("exit", "0"))
    bundle.linux["personality"] = {"domain": "LINUX", "flags": ["ADDR_NO_RANDOMIZE"]}
    expect_error(runtime, runtime.try_create(bundle),
                 ocirun=r"\$\.linux\.personality\.flags: no personality flags are supported")
    assert runtime.ids_in_root() == []
    assert runtime.leaks() == []


@pytest.mark.xfail_runtime("runc", "runc 1.1.5 predates process.scheduler (runc 1.2)")
def test_scheduler_flags(runtime: Runtime, bundle: Bundle) -> None:
    """process.scheduler.flags reach sched_setattr: SCHED_FLAG_RESET_ON_FORK reads back."""
    bundle.process["scheduler"] = {"policy": "SCHED_BATCH", "flags": ["SCHED_FLAG_RESET_ON_FORK"]}
    report = runtime.run_probe(bundle, "sched")
    assert report["policy"] == 3 and report["flags"] & 0x01, report


def test_device_owner_and_mode(runtime: Runtime, bundle: Bundle) -> None:
    """linux.devices[] uid, gid and fileMode: the node is made with them."""
    bundle.linux["devices"] = [{"path": "/dev/ocnull", "type": "c", "major": 1, "minor": 3, "fileMode": 0o640,
                                "uid": 1000, "gid": 1001}]
    (st,) = runtime.run_probe(bundle, "stat", "/dev/ocnull")
    assert (st["type"], st["uid"], st["gid"], st["mode"] & 0o777) == ("char", 1000, 1001, 0o640), st
