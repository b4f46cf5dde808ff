"""Process security fields (issue 5), each checked from inside the container with the probe.

Capabilities (all five sets), noNewPrivileges, rlimits, oomScoreAdj, ioPriority, scheduler,
personality, sysctl, the LSM fields (this host has neither AppArmor nor SELinux), maskedPaths,
readonlyPaths, and the capabilities of ``<runtime> spec``.  Seccomp has its own file.

This host: root has no CAP_SYS_RESOURCE in its bounding set, and the open-files hard limit of the
test process is 20000, so a container cannot be given more (the tests read the real limits and
skip what does not apply elsewhere).
runc 1.1.5 (spec 1.0.2) predates scheduler, ioPriority and personality: it ignores them, which
the tests mark as a strict xfail.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import resource
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .support import Bundle, Runtime, expect_error, find_mount, parse_json, probe_args, work_base_limit

CAP = {
    "CAP_CHOWN": 0, "CAP_DAC_OVERRIDE": 1, "CAP_KILL": 5, "CAP_SETGID": 6, "CAP_SETUID": 7,
    "CAP_NET_BIND_SERVICE": 10, "CAP_NET_RAW": 13, "CAP_SYS_CHROOT": 18, "CAP_SYS_ADMIN": 21,
    "CAP_SYS_RESOURCE": 24, "CAP_AUDIT_WRITE": 29,
}
DEFAULT_CAPS = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
CAP_SETS = ("bounding", "effective", "permitted", "inheritable", "ambient")


def mask(*names: str) -> int:
    bits = 0
    for name in names:
        bits |= 1 << CAP[name]
    return bits


def host_has(cap: str) -> bool:
    """Whether this (root) test process has ``cap`` in its bounding set."""
    with open("/proc/self/status") as f:
        bounding = int(next(line for line in f if line.startswith("CapBnd:")).split()[1], 16)
    return bool(bounding >> CAP[cap] & 1)


def cap_sets(runtime: Runtime, bundle: Bundle) -> dict[str, int]:
    caps = runtime.run_probe(bundle, "caps")
    return {name: int(caps[name], 16) for name in CAP_SETS}


def run_fails(runtime: Runtime, bundle: Bundle, *, runc: str | None = None, ocirun: str | None = None,
              both: str | None = None) -> str:
    """create must fail: exit 1, one error line matching, nothing left behind."""
    res = runtime.try_create(bundle)
    line = expect_error(runtime, res, runc=runc, ocirun=ocirun, both=both)
    assert runtime.leaks() == []
    return line


def log_text(runtime: Runtime) -> str:
    try:
        return runtime.log.read_text(errors="replace")
    except FileNotFoundError:
        return ""


# ---------------------------------------------------------------------------- capabilities


def test_five_capability_sets_non_root(runtime: Runtime, bundle: Bundle) -> None:
    """For a non-root user only bounding, inheritable and ambient survive execve as configured;
    permitted and effective become the ambient set.  An ambient capability is raised only if it
    is both permitted and inheritable: SYS_CHROOT (not permitted) and NET_RAW (not inheritable)
    are left out, CHOWN and KILL go through."""
    bundle.process["user"] = {"uid": 1000, "gid": 1000}
    bundle.process["capabilities"] = {
        "bounding": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW", "CAP_SYS_CHROOT", "CAP_NET_BIND_SERVICE"],
        "permitted": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW", "CAP_NET_BIND_SERVICE"],
        "effective": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
        "inheritable": ["CAP_CHOWN", "CAP_KILL", "CAP_SYS_CHROOT"],
        "ambient": ["CAP_CHOWN", "CAP_SYS_CHROOT", "CAP_NET_RAW", "CAP_KILL"],
    }
    sets = cap_sets(runtime, bundle)
    assert sets["bounding"] == mask("CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW", "CAP_SYS_CHROOT",
                                    "CAP_NET_BIND_SERVICE")
    assert sets["inheritable"] == mask("CAP_CHOWN", "CAP_KILL", "CAP_SYS_CHROOT")
    assert sets["ambient"] == mask("CAP_CHOWN", "CAP_KILL")
    assert sets["permitted"] == sets["effective"] == mask("CAP_CHOWN", "CAP_KILL")


def test_five_capability_sets_root(runtime: Runtime, bundle: Bundle) -> None:
    """Root would get bounding | inheritable as permitted across execve, but no_new_privs keeps the
    permitted set from growing: what the config permits is what root keeps (and effective is
    root's whole permitted set after execve, whatever the config's effective list says)."""
    bundle.process["capabilities"] = {
        "bounding": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT"],
        "permitted": ["CAP_CHOWN", "CAP_KILL"],
        "effective": ["CAP_CHOWN"],
        "inheritable": ["CAP_KILL", "CAP_SYS_CHROOT"],
        "ambient": ["CAP_KILL"],
    }
    sets = cap_sets(runtime, bundle)
    assert sets["bounding"] == mask("CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT")
    assert sets["inheritable"] == mask("CAP_KILL", "CAP_SYS_CHROOT")
    assert sets["ambient"] == mask("CAP_KILL")
    assert sets["permitted"] == sets["effective"] == mask("CAP_CHOWN", "CAP_KILL")


def test_root_without_no_new_privs_gets_bounding_and_inheritable(runtime: Runtime, bundle: Bundle) -> None:
    bundle.process["noNewPrivileges"] = False
    bundle.process["capabilities"] = {
        "bounding": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
        "permitted": ["CAP_CHOWN"],
        "effective": ["CAP_CHOWN"],
        "inheritable": ["CAP_KILL"],
    }
    sets = cap_sets(runtime, bundle)
    both = mask("CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE")
    assert sets["bounding"] == sets["permitted"] == sets["effective"] == both
    assert sets["inheritable"] == mask("CAP_KILL")
    assert sets["ambient"] == 0


@pytest.mark.parametrize("keep_chown", [True, False], ids=["with-chown", "chown-dropped"])
def test_bounding_set_drop_takes_effect(runtime: Runtime, bundle: Bundle, keep_chown: bool) -> None:
    """Root without CAP_CHOWN in its bounding set cannot give a file away."""
    caps = DEFAULT_CAPS + (["CAP_CHOWN"] if keep_chown else [])
    bundle.process["capabilities"] = {k: list(caps) for k in ("bounding", "effective", "permitted")}
    bundle.set_args("sh", "-c", "touch /tmp/f && chown 1000 /tmp/f && echo chowned; "
                                "/bin/probe caps")
    status, out, err = runtime.run_container(bundle)
    assert status == 0, err
    bounding = int(parse_json(out)["bounding"], 16)
    assert bool(bounding >> CAP["CAP_CHOWN"] & 1) == keep_chown
    assert ("chowned" in out) == keep_chown, (out, err)


def test_unknown_capability_name_is_left_out_with_a_warning(runtime: Runtime, bundle: Bundle) -> None:
    """config.md: a capability that cannot be mapped to a kernel interface MUST be logged as a
    warning, and the runtime SHOULD NOT fail: the container runs without it."""
    bundle.process["capabilities"]["bounding"].append("CAP_NO_SUCH_THING")
    sets = cap_sets(runtime, bundle)
    assert sets["bounding"] == mask(*DEFAULT_CAPS)
    assert re.search(r"level=warning.*CAP_NO_SUCH_THING", log_text(runtime)), log_text(runtime)


@pytest.mark.parametrize("name", ["NO_SUCH_THING", "cap_chown", "NET_ADMIN", "CAP_UNKNOWN"])
def test_capability_name_of_any_spelling_is_left_out_with_a_warning(
    runtime: Runtime, bundle: Bundle, name: str
) -> None:
    """A name without the CAP_ prefix, or in lower case, is a capability the runtime does not
    know like CAP_UNKNOWN: a warning naming it, and the container runs without it (runc ignores
    them all; only the exact upper-case CAP_ names are capabilities)."""
    for set_name in ("bounding", "effective", "permitted"):
        bundle.process["capabilities"][set_name].append(name)
    sets = cap_sets(runtime, bundle)
    for set_name in ("bounding", "effective", "permitted"):
        assert sets[set_name] == mask(*DEFAULT_CAPS), (set_name, hex(sets[set_name]))
    assert re.search(rf"level=warning.*{name}", log_text(runtime)), log_text(runtime)


@pytest.mark.xfail_runtime("runc", reason="runc 1.1.5 fails the container: `unable to apply caps: operation "
                                          "not permitted` for a capability the host's bounding set lacks")
def test_capability_the_host_lacks_is_left_out_with_a_warning(runtime: Runtime, bundle: Bundle) -> None:
    """Root here has no CAP_SYS_RESOURCE: a config asking for it in every set still runs, without
    it, and the runtime says so in its log."""
    if host_has("CAP_SYS_RESOURCE"):
        pytest.skip("this host's root has CAP_SYS_RESOURCE")
    caps = [*DEFAULT_CAPS, "CAP_SYS_RESOURCE"]
    bundle.process["capabilities"] = {k: list(caps) for k in CAP_SETS}
    sets = cap_sets(runtime, bundle)
    for name in ("bounding", "permitted", "effective", "inheritable", "ambient"):
        assert sets[name] == mask(*DEFAULT_CAPS), (name, hex(sets[name]))
    assert re.search(r"level=warning.*CAP_SYS_RESOURCE", log_text(runtime)), log_text(runtime)


# ---------------------------------------------------------------------------- noNewPrivileges


@pytest.fixture
def suid_probe(bundle: Bundle) -> str:
    """A set-user-ID-root copy of the probe in the rootfs."""
    path = bundle.path / "rootfs" / "bin" / "suid-probe"
    shutil.copy2(bundle.path / "rootfs" / "bin" / "probe", path)
    os.chown(path, 0, 0)
    os.chmod(path, 0o4755)
    return "/bin/suid-probe"


@pytest.mark.parametrize("nnp", [True, False])
def test_no_new_privileges(runtime: Runtime, bundle: Bundle, suid_probe: str, nnp: bool) -> None:
    """The flag is set as asked, and with it a set-user-ID program gains nothing."""
    if not nnp and (reason := work_base_limit("nosuid")):
        pytest.skip(reason)
    bundle.process["noNewPrivileges"] = nnp
    bundle.process["user"] = {"uid": 1000, "gid": 1000}
    bundle.set_args("sh", "-c", f"/bin/probe nnp; {suid_probe} ids")
    status, out, err = runtime.run_container(bundle)
    assert status == 0, err
    first, last = (json.loads(line) for line in out.splitlines() if line.strip())
    assert first["prctl"] == int(nnp) and first["status"] == str(int(nnp))
    assert last["uid"] == 1000
    assert last["euid"] == (1000 if nnp else 0), last


# ---------------------------------------------------------------------------- rlimits


RLIMIT_NUMBERS = {
    "RLIMIT_CPU": 0, "RLIMIT_FSIZE": 1, "RLIMIT_DATA": 2, "RLIMIT_STACK": 3, "RLIMIT_CORE": 4,
    "RLIMIT_RSS": 5, "RLIMIT_NPROC": 6, "RLIMIT_NOFILE": 7, "RLIMIT_MEMLOCK": 8, "RLIMIT_AS": 9,
    "RLIMIT_LOCKS": 10, "RLIMIT_SIGPENDING": 11, "RLIMIT_MSGQUEUE": 12, "RLIMIT_NICE": 13,
    "RLIMIT_RTPRIO": 14, "RLIMIT_RTTIME": 15,
}


def _limit(value: int, hard: int) -> int:
    return value if hard == resource.RLIM_INFINITY else min(value, hard)


def test_rlimits_of_every_type(runtime: Runtime, bundle: Bundle) -> None:
    """All 16 RLIMIT_* types, each set below what the runtime itself may grant."""
    wanted = {
        "RLIMIT_CPU": 3600, "RLIMIT_FSIZE": 1 << 30, "RLIMIT_DATA": 1 << 33, "RLIMIT_STACK": 1 << 24,
        "RLIMIT_CORE": 1 << 20, "RLIMIT_RSS": 1 << 32, "RLIMIT_NPROC": 4000, "RLIMIT_NOFILE": 777,
        "RLIMIT_MEMLOCK": 1 << 16, "RLIMIT_AS": 1 << 36, "RLIMIT_LOCKS": 300, "RLIMIT_SIGPENDING": 500,
        "RLIMIT_MSGQUEUE": 1 << 18, "RLIMIT_NICE": 0, "RLIMIT_RTPRIO": 0, "RLIMIT_RTTIME": 1 << 20,
    }
    limits = []
    expected = {}
    for name, value in wanted.items():
        hard = _limit(value, resource.getrlimit(RLIMIT_NUMBERS[name])[1])
        soft = hard // 2 if name not in ("RLIMIT_NICE", "RLIMIT_RTPRIO") else hard
        limits.append({"type": name, "soft": soft, "hard": hard})
        expected[name] = {"soft": soft, "hard": hard}
    bundle.process["rlimits"] = limits
    report = runtime.run_probe(bundle, "rlimits")
    assert report == expected
    assert set(report) == set(RLIMIT_NUMBERS)


def test_rlimit_above_the_hard_limit_is_an_error(runtime: Runtime, bundle: Bundle) -> None:
    """Without CAP_SYS_RESOURCE nobody can raise a hard limit: a clear error, nothing left."""
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if hard == resource.RLIM_INFINITY or host_has("CAP_SYS_RESOURCE"):
        pytest.skip("the runtime could raise the limit here")
    bundle.process["rlimits"] = [{"type": "RLIMIT_NOFILE", "soft": 1024, "hard": hard + 10000}]
    run_fails(runtime, bundle, runc=r"rlimit.*operation not permitted",
              ocirun=rf"setrlimit RLIMIT_NOFILE 1024:{hard + 10000}: Operation not permitted")


def test_rlimit_soft_above_hard_is_an_error(runtime: Runtime, bundle: Bundle) -> None:
    bundle.process["rlimits"] = [{"type": "RLIMIT_NOFILE", "soft": 2048, "hard": 1024}]
    run_fails(runtime, bundle, runc=r"rlimit.*invalid argument", ocirun=r"\$\.process\.rlimits\[0\]")


# ---------------------------------------------------------------------------- oomScoreAdj


def oom_score_adj(runtime: Runtime, bundle: Bundle) -> str:
    [report] = runtime.run_probe(bundle, "read", "/proc/self/oom_score_adj")
    assert report["ok"], report
    return str(report["data"]).strip()


@pytest.mark.parametrize("value", [1, 500, 1000])
def test_oom_score_adj_raised(runtime: Runtime, bundle: Bundle, value: int) -> None:
    bundle.process["oomScoreAdj"] = value
    assert oom_score_adj(runtime, bundle) == str(value)


def test_oom_score_adj_below_the_callers_needs_cap_sys_resource(runtime: Runtime, bundle: Bundle) -> None:
    """Lowering below the caller's value (0 here) needs CAP_SYS_RESOURCE, which root lacks on
    this host: the value is applied or create fails with a clear error; never another value."""
    bundle.process["oomScoreAdj"] = -500
    bundle.set_args(*probe_args("read", "/proc/self/oom_score_adj"))
    status, out, err = runtime.run_container(bundle)
    if status == 0:
        assert parse_json(out)[0]["data"].strip() == "-500"
    else:
        assert status == 1
        said = err + log_text(runtime)  # runc 1.1.5 says it only in its log
        assert re.search(r"oom_score_adj.*(Permission denied|Operation not permitted)", said, re.I), said
        assert runtime.leaks() == []


# ------------------------------------------------------------------ ioPriority, scheduler, personality

RUNC_115_IGNORES = "runc 1.1.5 (runtime-spec 1.0.2) ignores process.{} (added in runc 1.2)"


@pytest.mark.xfail_runtime("runc", reason=RUNC_115_IGNORES.format("ioPriority"))
@pytest.mark.parametrize(("cls", "level", "number"), [("IOPRIO_CLASS_BE", 5, 2), ("IOPRIO_CLASS_IDLE", 0, 3),
                                                       ("IOPRIO_CLASS_BE", 0, 2)])
def test_io_priority(runtime: Runtime, bundle: Bundle, cls: str, level: int, number: int) -> None:
    bundle.process["ioPriority"] = {"class": cls, "priority": level}
    report = runtime.run_probe(bundle, "ioprio")
    assert (report["class"], report["level"]) == (number, level), report


SCHED_OTHER, SCHED_FIFO, SCHED_BATCH, SCHED_IDLE = 0, 1, 3, 5


@pytest.mark.xfail_runtime("runc", reason=RUNC_115_IGNORES.format("scheduler"))
@pytest.mark.parametrize(("sched", "policy", "nice"), [
    ({"policy": "SCHED_BATCH", "nice": 5}, SCHED_BATCH, 5),
    ({"policy": "SCHED_IDLE"}, SCHED_IDLE, 0),
    ({"policy": "SCHED_OTHER", "nice": 7}, SCHED_OTHER, 7),
], ids=["batch-nice5", "idle", "other-nice7"])
def test_scheduler(runtime: Runtime, bundle: Bundle, sched: dict[str, Any], policy: int, nice: int) -> None:
    bundle.process["scheduler"] = sched
    report = runtime.run_probe(bundle, "sched")
    assert report["errno"] == 0
    assert (report["policy"], report["nice"], report["getpriority"]) == (policy, nice, nice), report


RT_PARENT = Path("/sys/fs/cgroup/cpu/ocirun-test/cpu.rt_runtime_us")


@pytest.fixture
def realtime_budget() -> Iterator[dict[str, Any]]:
    """SCHED_FIFO needs realtime runtime in the container's cgroup where the kernel groups realtime
    tasks (cgroup v1 cpu.rt_runtime_us): give the /ocirun-test parent a budget for the test and
    ask for a share of it in linux.resources.  On cgroup v2 nothing is needed."""
    if not RT_PARENT.parent.parent.is_dir() or not (RT_PARENT.parent.parent / "cpu.rt_runtime_us").exists():
        yield {}
        return
    RT_PARENT.parent.mkdir(exist_ok=True)
    before = RT_PARENT.read_text().strip()
    if int(before) < 20000:
        try:
            RT_PARENT.write_text("100000")
        except OSError as e:
            pytest.skip(f"no realtime budget for the test cgroup: {e}")
    try:
        yield {"cpu": {"realtimeRuntime": 10000, "realtimePeriod": 1000000}}
    finally:
        # Best effort: another test session may hold a realtime share under the same parent,
        # and a budget left on /ocirun-test harms nobody (the parent goes at the session's end).
        with contextlib.suppress(OSError):
            RT_PARENT.write_text(before)


@pytest.mark.xfail_runtime("runc", reason=RUNC_115_IGNORES.format("scheduler"))
def test_scheduler_fifo(runtime: Runtime, bundle: Bundle, realtime_budget: dict[str, Any]) -> None:
    if realtime_budget:
        bundle.linux["resources"] = realtime_budget
    bundle.process["scheduler"] = {"policy": "SCHED_FIFO", "priority": 10}
    report = runtime.run_probe(bundle, "sched")
    assert (report["policy"], report["priority"]) == (SCHED_FIFO, 10), report


@pytest.mark.xfail_runtime("runc", reason=RUNC_115_IGNORES.format("scheduler"))
def test_scheduler_fifo_without_a_realtime_budget_says_so(runtime: Runtime, bundle: Bundle) -> None:
    """Where the kernel groups real-time tasks (cgroup v1 cpu.rt_runtime_us), a new cpu cgroup has
    no real-time budget: SCHED_FIFO fails with EPERM, and the error says which field gives one."""
    if not Path("/sys/fs/cgroup/cpu/cpu.rt_runtime_us").exists():
        pytest.skip("no cgroup v1 real-time group scheduling here (/sys/fs/cgroup/cpu/cpu.rt_runtime_us)")
    bundle.process["scheduler"] = {"policy": "SCHED_FIFO", "priority": 10}
    run_fails(runtime, bundle, ocirun=r"^config.json: \$\.process\.scheduler\.policy: SCHED_FIFO: "
                                     r"Operation not permitted: the container's cpu cgroup has no real-time budget .*"
                                     r"\$\.linux\.resources\.cpu\.realtimeRuntime")


@pytest.mark.xfail_runtime("runc", reason="runc 1.1.5 (runtime-spec 1.0.2) ignores linux.personality")
def test_personality_linux32(runtime: Runtime, bundle: Bundle) -> None:
    bundle.linux["personality"] = {"domain": "LINUX32"}
    bundle.set_args("sh", "-c", "uname -m; /bin/probe personality")
    status, out, err = runtime.run_container(bundle)
    assert status == 0, err
    lines = out.split()
    assert lines[0] == "i686", out
    assert parse_json(out)["domain"] == 0x0008


def test_personality_linux_is_the_default(runtime: Runtime, bundle: Bundle) -> None:
    bundle.linux["personality"] = {"domain": "LINUX"}
    assert runtime.run_probe(bundle, "personality")["machine"] == "x86_64"


# ---------------------------------------------------------------------------- sysctl


def test_namespaced_sysctls_apply_inside_only(runtime: Runtime, bundle: Bundle) -> None:
    host = {p: Path(p).read_text() for p in ("/proc/sys/net/ipv4/ip_forward", "/proc/sys/kernel/shmmax")}
    value = "1" if host["/proc/sys/net/ipv4/ip_forward"].strip() == "0" else "0"
    bundle.linux["sysctl"] = {"net.ipv4.ip_forward": value, "kernel.shmmax": "123456789"}
    report = runtime.run_probe(bundle, "read", *host)
    assert [r["data"].strip() for r in report] == [value, "123456789"]
    assert {p: Path(p).read_text() for p in host} == host, "the host's values changed"


# What `runc spec`, Docker and podman write: /proc/sys is read-only, some of /proc masked.
SPEC_MASKED_PATHS = ["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
                     "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware",
                     "/proc/scsi"]
SPEC_READONLY_PATHS = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]


@pytest.mark.parametrize("sysctls", [
    pytest.param({"net.ipv4.ip_unprivileged_port_start": "0"}, id="docker-default"),
    pytest.param({"net.ipv4.ping_group_range": "0\t0"}, id="podman-default"),
    pytest.param({"net.ipv4.ip_local_port_range": "20000\t30000", "kernel.msgmax": "65536"}, id="net-and-kernel"),
])
def test_sysctls_are_written_before_proc_sys_is_made_read_only(
        runtime: Runtime, bundle: Bundle, sysctls: dict[str, str]) -> None:
    """Clients list /proc/sys in readonlyPaths and still set sysctls: the values are written first,
    and the container then finds /proc/sys read-only (Docker and podman with their stock settings)."""
    bundle.linux["maskedPaths"] = SPEC_MASKED_PATHS
    bundle.linux["readonlyPaths"] = SPEC_READONLY_PATHS
    bundle.linux["sysctl"] = sysctls
    paths = ["/proc/sys/" + k.replace(".", "/") for k in sysctls]
    bundle.set_args("/bin/sh", "-c", f"/bin/probe read {' '.join(paths)}; /bin/probe openw {' '.join(paths)}")
    status, out, err = runtime.run_container(bundle)
    assert status == 0, err
    reads, writes = (json.loads(line) for line in out.splitlines() if line.strip())
    assert [r["data"].strip() for r in reads] == list(sysctls.values())
    assert [w["errno"] for w in writes] == [errno.EROFS] * len(paths), writes


@pytest.mark.parametrize("key", ["vm.swappiness", "kernel.panic", "fs.file-max"])
def test_non_namespaced_sysctl_is_refused(runtime: Runtime, bundle: Bundle, key: str) -> None:
    path = Path("/proc/sys") / key.replace(".", "/")
    before = path.read_text()
    bundle.linux["sysctl"] = {key: "1"}
    run_fails(runtime, bundle, runc=rf'sysctl "{re.escape(key)}" is not in a separate kernel namespace',
              ocirun=rf"\$\.linux\.sysctl\['{re.escape(key)}'\]: is not in a separate kernel namespace")
    assert path.read_text() == before


def test_net_sysctl_without_a_network_namespace_is_refused(runtime: Runtime, bundle: Bundle) -> None:
    before = Path("/proc/sys/net/ipv4/ip_forward").read_text()
    bundle.linux["namespaces"] = [ns for ns in bundle.linux["namespaces"] if ns["type"] != "network"]
    bundle.linux["sysctl"] = {"net.ipv4.ip_forward": "0" if before.strip() == "1" else "1"}
    run_fails(runtime, bundle, runc=r"sysctl \"net\.ipv4\.ip_forward\" not allowed in host network namespace",
              ocirun=r"\$\.linux\.sysctl\['net\.ipv4\.ip_forward'\]: "
                     r"is not allowed in the host's network namespace")
    assert Path("/proc/sys/net/ipv4/ip_forward").read_text() == before


def test_hostname_sysctl_with_a_new_uts_namespace_is_refused(runtime: Runtime, bundle: Bundle) -> None:
    """kernel.hostname conflicts with $.hostname, which sets the name: refused (runc, crun)."""
    bundle.config["hostname"] = "box"
    bundle.linux["sysctl"] = {"kernel.hostname": "other"}
    run_fails(runtime, bundle, runc=r'sysctl "kernel\.hostname" is not allowed as it conflicts with the OCI '
                                    r'"hostname" field',
              ocirun=r"\$\.linux\.sysctl\['kernel\.hostname'\]: conflicts with \$\.hostname")


@pytest.mark.xfail_runtime("runc", reason="runc 1.1.5 predates $.domainname (it ignores the field)")
def test_domainname_sysctl_conflicting_with_domainname_is_refused(runtime: Runtime, bundle: Bundle) -> None:
    bundle.config["domainname"] = "example.org"
    bundle.linux["sysctl"] = {"kernel.domainname": "other.org"}
    run_fails(runtime, bundle, ocirun=r"\$\.linux\.sysctl\['kernel\.domainname'\]: conflicts with \$\.domainname")


def test_domainname_sysctl_alone_sets_the_domainname(runtime: Runtime, bundle: Bundle) -> None:
    bundle.linux["sysctl"] = {"kernel.domainname": "example.org"}
    assert runtime.run_probe(bundle, "hostname")["domainname"] == "example.org"


# ---------------------------------------------------------------------------- LSM labels


def needs_no_lsm(kind: str) -> None:
    path = {"apparmor": "/sys/kernel/security/apparmor", "selinux": "/sys/fs/selinux"}[kind]
    if os.path.isdir(path):
        pytest.skip(f"{kind} is enabled on this host: this test is about asking for it where it is not")


def test_apparmor_profile_without_apparmor(runtime: Runtime, bundle: Bundle) -> None:
    """Confinement that cannot be had must not run unconfined."""
    needs_no_lsm("apparmor")
    bundle.process["apparmorProfile"] = "docker-default"
    run_fails(runtime, bundle, runc=r"apparmor",
              ocirun=r"\$\.process\.apparmorProfile: AppArmor profile 'docker-default' requested, "
                     r"but AppArmor is not enabled")


def test_selinux_label_without_selinux(runtime: Runtime, bundle: Bundle) -> None:
    needs_no_lsm("selinux")
    bundle.process["selinuxLabel"] = "system_u:system_r:container_t:s0"
    run_fails(runtime, bundle, runc=r"selinux label is specified in config, but selinux is disabled",
              ocirun=r"\$\.process\.selinuxLabel: SELinux label .* requested, but SELinux is not enabled")


def test_mount_label_without_selinux(runtime: Runtime, bundle: Bundle) -> None:
    needs_no_lsm("selinux")
    bundle.linux["mountLabel"] = "system_u:object_r:container_file_t:s0"
    run_fails(runtime, bundle, runc=r"context=.*invalid argument",
              ocirun=r"\$\.linux\.mountLabel: mount label .* requested, but SELinux is not enabled")


# ---------------------------------------------------------------------------- maskedPaths


@pytest.fixture
def image_paths(bundle: Bundle) -> Path:
    """A file and a directory with content in the image, to mask or make read-only."""
    root = bundle.path / "rootfs"
    (root / "etc" / "secret").write_text("secret-data\n")
    for d in ("maskdir", "rodir"):
        (root / "etc" / d).mkdir()
        (root / "etc" / d / "file").write_text("data\n")
    return root


def test_masked_file_reads_empty_as_the_null_device(runtime: Runtime, bundle: Bundle,
                                                    image_paths: Path) -> None:
    bundle.linux["maskedPaths"] = ["/etc/secret", "/proc/keys"]
    reads = runtime.run_probe(bundle, "read", "/etc/secret", "/proc/keys")
    assert [(r["ok"], r["size"]) for r in reads] == [(True, 0), (True, 0)], reads
    stats = runtime.run_probe(bundle, "stat", "/etc/secret", "/proc/keys")
    for st in stats:
        assert (st.get("type"), st.get("major"), st.get("minor")) == ("char", 1, 3), st
    assert (image_paths / "etc" / "secret").read_text() == "secret-data\n"


@pytest.mark.xfail_runtime("runc", reason="CVE-2025-31133: runc 1.1.5 masks with the container's /dev/null, "
                                          "not the host's (fixed in 1.2.8, 1.3.3, 1.4.0-rc.3)")
def test_masked_file_is_the_hosts_dev_null(runtime: Runtime, bundle: Bundle, image_paths: Path) -> None:
    """The mask is a bind of the host's /dev/null itself (same device and inode), verified by fd,
    never a node the container could have replaced."""
    host = os.stat("/dev/null")
    bundle.linux["maskedPaths"] = ["/etc/secret"]
    [st] = runtime.run_probe(bundle, "stat", "/etc/secret")
    assert (st["dev"], st["ino"]) == (host.st_dev, host.st_ino), st


def test_masked_directory_is_an_empty_read_only_tmpfs(runtime: Runtime, bundle: Bundle,
                                                      image_paths: Path) -> None:
    bundle.linux["maskedPaths"] = ["/etc/maskdir", "/sys/firmware"]
    bundle.set_args("sh", "-c", "ls -A /etc/maskdir /sys/firmware; /bin/probe write /etc/maskdir/new x; "
                                "/bin/probe mounts")
    status, out, err = runtime.run_container(bundle)
    assert status == 0, err
    lines = [line for line in out.splitlines() if line.strip()]
    write, mounts = json.loads(lines[-2]), json.loads(lines[-1])
    assert not any(line.startswith("file") for line in lines[:-2]), f"masked directories are not empty: {out}"
    assert write == {"ok": False, "errno": errno.EROFS}
    for target in ("/etc/maskdir", "/sys/firmware"):
        m = find_mount(mounts, target)
        assert m["fstype"] == "tmpfs" and "ro" in m["options"], m
    assert (image_paths / "etc" / "maskdir" / "file").read_text() == "data\n"


def test_masked_path_that_does_not_exist_is_ignored(runtime: Runtime, bundle: Bundle) -> None:
    bundle.linux["maskedPaths"] = ["/no/such/path", "/proc/no-such-file", "/etc/passwd"]
    [missing, passwd] = runtime.run_probe(bundle, "stat", "/no/such/path", "/etc/passwd")
    assert not missing["exists"] and missing["errno"] == errno.ENOENT, "a missing masked path is not created"
    assert (passwd.get("type"), passwd.get("major"), passwd.get("minor")) == ("char", 1, 3)


# ---------------------------------------------------------------------------- readonlyPaths


def test_readonly_paths_refuse_writes(runtime: Runtime, bundle: Bundle, image_paths: Path) -> None:
    bundle.linux["readonlyPaths"] = ["/etc/rodir", "/proc/sys", "/no/such/path"]
    writes = runtime.run_probe(bundle, "openw", "/etc/rodir/file", "/proc/sys/kernel/hostname",
                               "/proc/sys/net/ipv4/ip_forward", "/etc/passwd")
    assert [w["errno"] for w in writes] == [errno.EROFS, errno.EROFS, errno.EROFS, 0], writes
    assert (image_paths / "etc" / "rodir" / "file").read_text() == "data\n"


def test_readonly_and_masked_paths_cannot_be_undone_without_cap_sys_admin(
        runtime: Runtime, bundle: Bundle, image_paths: Path) -> None:
    """Root in the container without CAP_SYS_ADMIN can neither remount them rw nor unmount them."""
    bundle.linux["readonlyPaths"] = ["/etc/rodir", "/proc/sys"]
    bundle.linux["maskedPaths"] = ["/etc/secret", "/etc/maskdir"]
    script = "; ".join([
        "mount -o remount,rw /etc/rodir; echo remount=$?",
        "mount -o remount,rw,bind /etc/rodir; echo remount-bind=$?",
        "mount -o remount,rw /proc/sys; echo remount-proc-sys=$?",
        "mount -o remount,rw /etc/maskdir; echo remount-mask=$?",
        "umount /etc/rodir; echo umount=$?",
        "umount -l /etc/secret; echo umount-mask=$?",
        "umount -l /etc/maskdir; echo umount-maskdir=$?",
        "/bin/probe openw /etc/rodir/file /proc/sys/kernel/hostname",
        "/bin/probe read /etc/secret",
        "/bin/probe stat /etc/maskdir/file",
    ])
    bundle.set_args("sh", "-c", script)
    status, out, err = runtime.run_container(bundle)
    assert status == 0, err
    codes = dict(line.split("=") for line in out.splitlines() if "=" in line and not line.startswith("["))
    assert codes and all(v != "0" for v in codes.values()), codes
    lines = [line for line in out.splitlines() if line.startswith("[")]
    writes, secret, maskdir = (json.loads(line) for line in lines)
    assert [w["errno"] for w in writes] == [errno.EROFS, errno.EROFS]
    assert secret[0]["size"] == 0
    assert not maskdir[0]["exists"]


# ---------------------------------------------------------------------------- `spec` defaults


def test_default_spec_capabilities(runtime: Runtime, bundle: Bundle) -> None:
    """`<runtime> spec` writes runc's default capabilities, and a container from that config runs
    with exactly them (and no_new_privs, its masked and read-only paths in force)."""
    bundle.config = None
    bundle.config_path.unlink(missing_ok=True)
    runtime.run("spec", "--bundle", bundle.path)
    config = json.loads(bundle.config_path.read_text())
    caps = config["process"]["capabilities"]
    for name in ("bounding", "effective", "permitted"):
        assert sorted(caps[name]) == sorted(DEFAULT_CAPS), (name, caps[name])
    assert not caps.get("inheritable")
    assert set(caps) <= {"bounding", "effective", "permitted", "ambient"}
    assert config["process"]["noNewPrivileges"] is True
    assert "/proc/keys" in config["linux"]["maskedPaths"]
    assert "/proc/sys" in config["linux"]["readonlyPaths"]

    config["process"]["terminal"] = False
    config["process"]["args"] = ["sh", "-c", "/bin/probe caps; /bin/probe stat /proc/keys; "
                                             "/bin/probe openw /proc/sys/kernel/hostname"]
    config["linux"]["cgroupsPath"] = "/ocirun-test/{id}"
    bundle.config = config
    status, out, err = runtime.run_container(bundle)
    assert status == 0, f"{err}\n{runtime.log_tail()}"
    report, [keys], [write] = (json.loads(line) for line in out.splitlines() if line.strip())
    for name in ("bounding", "effective", "permitted"):
        assert int(report[name], 16) == mask(*DEFAULT_CAPS), (name, report[name])
    assert int(report["inheritable"], 16) == int(report["ambient"], 16) == 0
    assert report["no_new_privs"] == "1"
    assert (keys.get("type"), keys.get("major"), keys.get("minor")) == ("char", 1, 3)
    assert write["errno"] == errno.EROFS


def test_exec_keeps_the_containers_security_settings(runtime: Runtime, bundle: Bundle) -> None:
    """A process started with `exec` gets the container's capabilities, no_new_privs and rlimits."""
    caps = ["CAP_KILL", "CAP_CHOWN"]
    bundle.process["capabilities"] = {k: list(caps) for k in ("bounding", "effective", "permitted")}
    # (NOFILE with soft = hard: runc 1.1.5's Go runtime raises the soft NOFILE limit of an exec'd
    # process to the hard one, now and then)
    bundle.process["rlimits"] = [{"type": "RLIMIT_NOFILE", "soft": 654, "hard": 654},
                                 {"type": "RLIMIT_MSGQUEUE", "soft": 4096, "hard": 8192}]
    bundle.set_args(*probe_args("sleep", "300"))
    cid = runtime.create(bundle)
    runtime.start(cid)
    caps = json.loads(runtime.run("exec", cid, "/bin/probe", "caps").stdout)
    limits = json.loads(runtime.run("exec", cid, "/bin/probe", "rlimits").stdout)
    runtime.kill(cid, "KILL")
    runtime.wait_status(cid, "stopped")
    runtime.delete(cid)
    for name in ("bounding", "effective", "permitted"):
        assert int(caps[name], 16) == mask("CAP_KILL", "CAP_CHOWN"), (name, caps[name])
    assert caps["no_new_privs"] == "1"
    assert limits["RLIMIT_NOFILE"] == {"soft": 654, "hard": 654}
    assert limits["RLIMIT_MSGQUEUE"] == {"soft": 4096, "hard": 8192}
