#!/usr/bin/env python3
"""Side-by-side benchmarks of ocirun, runc and crun (issue 4); see bench/README.md.

    python3 bench/bench.py [--quick] [--runs N] [--json OUT] [--only NAME,...]
                           [--runtimes ocirun,runc,crun]

Needs root.  Everything it makes (bundles, state roots, containers, cgroups under /ocirun-bench)
is removed at the end, also after an error or Ctrl-C.
"""

from __future__ import annotations

import argparse
import ctypes
import datetime
import errno
import json
import os
import platform
import re
import shutil
import signal
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)

from _proc import RemoteSpawner, Spawner  # noqa: E402

CGROUP_PARENT = "ocirun-bench"  # every container's cgroupsPath is /ocirun-bench/<tag>-<runtime>-<n>
GROUPS = ("run", "lifecycle", "cycle", "seq", "par")
ALIASES = {"state": "lifecycle", "exec": "lifecycle", "kill": "lifecycle", "delete": "lifecycle",
           "start": "lifecycle", "create": "lifecycle", "rss": "lifecycle", "sequential": "seq",
           "parallel": "par"}
KNOWN_RUNTIMES = ("ocirun", "runc", "crun", "crun-cg", "ocirun-base")
FLOOR = "floor"


# -- small helpers ------------------------------------------------------------------------------


def rotated(seq: list, i: int) -> list:
    """The i-th rotation of seq: ABC, BCA, CAB, ... so that no runtime always goes first."""
    if not seq:
        return []
    k = i % len(seq)
    return seq[k:] + seq[:k]


def proc_stat(pid: int) -> tuple[str, int] | None:
    """(state letter, start time in clock ticks) of a pid, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read().decode("utf-8", "replace")
    except OSError:
        return None
    rest = data[data.rfind(")") + 2 :].split()
    return rest[0], int(rest[19])


def alive(pid: int, starttime: int | None = None) -> bool:
    st = proc_stat(pid)
    if st is None or st[0] in ("Z", "X"):
        return False
    return starttime is None or st[1] == starttime


def vm_rss(pid: int) -> tuple[int | None, str]:
    """(VmRSS in KiB, process name) of a pid."""
    rss, name = None, "?"
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("Name:"):
                    name = line.split(None, 1)[1].strip()
                elif line.startswith("VmRSS:"):
                    rss = int(line.split()[1])
    except OSError:
        pass
    return rss, name


def reap() -> None:
    """Reaps exited orphans (container inits re-parented to us: we are a child subreaper)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def become_subreaper() -> bool:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(36, 1, 0, 0, 0) == 0  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        return False


def cgroup_mounts() -> list[tuple[str, str]]:
    """(mount point, fstype) of every cgroup/cgroup2 hierarchy in this mount namespace."""
    out, seen = [], set()
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, _, right = line.partition(" - ")
            fstype = right.split(" ", 1)[0]
            if fstype in ("cgroup", "cgroup2"):
                mp = left.split(" ")[4].replace("\\040", " ")
                if mp not in seen:
                    seen.add(mp)
                    out.append((mp, fstype))
    return out


def mounts_under(path: str) -> list[str]:
    path = path.rstrip("/") + "/"
    found = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            mp = line.split(" ")[4]
            if (mp + "/").startswith(path):
                found.append(mp)
    return found


def crun_needs_private_ns() -> str | None:
    """The cgroup2 mount to hide from crun, when crun 1.8.1 would refuse the layout, else None.

    crun refuses a hybrid layout (tmpfs at /sys/fs/cgroup with cgroup2 at unified/) whose cgroup2
    has any controller enabled ("cgroups in hybrid mode not supported ..."), whatever
    --cgroup-manager says.
    """
    unified = "/sys/fs/cgroup/unified"
    kinds = dict(cgroup_mounts())
    if kinds.get("/sys/fs/cgroup") == "cgroup2" or kinds.get(unified) != "cgroup2":
        return None
    try:
        with open(unified + "/cgroup.controllers") as f:
            return unified if f.read().strip() else None
    except OSError:
        return None


def first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return ""


# -- the bundle ---------------------------------------------------------------------------------

BUSYBOX_APPLETS = ("sh", "true", "false", "sleep", "echo", "cat", "ls")


def make_rootfs(path: str, busybox: str) -> None:
    os.makedirs(path + "/bin")
    shutil.copy2(busybox, path + "/bin/busybox")
    for a in BUSYBOX_APPLETS:
        os.symlink("busybox", f"{path}/bin/{a}")
    # mount points made ahead, so that concurrent containers never race to create them
    for d in ("proc", "dev", "sys", "tmp", "etc", "root"):
        os.makedirs(f"{path}/{d}", exist_ok=True)


def make_config(rootfs: str, args: list[str], cgroups_path: str | None, resources: bool) -> dict:
    """`runc spec`'s defaults, with terminal false, no ambient capabilities and no resources."""
    caps = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
    linux: dict = {
        "namespaces": [{"type": t} for t in ("pid", "network", "ipc", "uts", "mount")],
        "maskedPaths": [
            "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
            "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi",
        ],
        "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"],
    }
    if cgroups_path:
        linux["cgroupsPath"] = cgroups_path
    if resources:
        linux["resources"] = {"devices": [{"allow": False, "access": "rwm"}]}
    return {
        "ociVersion": "1.0.2",
        "process": {
            "terminal": False,
            "user": {"uid": 0, "gid": 0},
            "args": args,
            "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
            "cwd": "/",
            "capabilities": {"bounding": caps, "effective": caps, "permitted": caps},
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
            "noNewPrivileges": True,
        },
        "root": {"path": rootfs, "readonly": True},
        "hostname": "bench",
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
             "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
            {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
             "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
            {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
             "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
            {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
             "options": ["nosuid", "noexec", "nodev"]},
            {"destination": "/sys", "type": "sysfs", "source": "sysfs",
             "options": ["nosuid", "noexec", "nodev", "ro"]},
            {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
             "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]},
        ],
        "linux": linux,
    }


# -- runtimes -----------------------------------------------------------------------------------


class Runtime:
    def __init__(self, name: str, binary: str, extra: list[str], root: str, spawner) -> None:
        self.name = name
        self.binary = binary
        self.prefix = [binary, *extra, "--root", root]
        self.root = root
        self.spawner = spawner
        self.exec_ok = False
        self.version = "?"
        self.live: dict[str, tuple[int, int] | None] = {}  # containers to delete at the end

    def cmd(self, *args: str) -> list[str]:
        return self.prefix + list(args)


class Floor:
    name = FLOOR

    def __init__(self, python: str, spawner: Spawner) -> None:
        self.argv = [python, "-I", "-S", "-c", "pass"]
        self.spawner = spawner


# -- the benchmark ------------------------------------------------------------------------------


class Bench:
    def __init__(self, opts: argparse.Namespace) -> None:
        self.opts = opts
        self.tag = str(os.getpid())
        self.tmp = tempfile.mkdtemp(prefix="ocirun-bench-")
        self.rootfs = os.path.join(self.tmp, "rootfs")
        self.bundles = os.path.join(self.tmp, "bundles")
        os.makedirs(self.bundles)
        self.local = Spawner()
        self.helpers: list[RemoteSpawner] = []
        self.runtimes: list[Runtime] = []
        self.floor: Floor | None = None
        self.counter = 0
        self.cgroup_paths: list[str] = []  # every cgroupsPath handed to a runtime
        self.samples: dict[str, dict[str, list]] = {}
        self.errors: dict[str, dict[str, list[str]]] = {}
        self.notes: list[str] = []
        self.rss_names: dict[str, str] = {}
        self.recording = True
        self.rss_pass = False  # warm-up iterations: peak RSS measured through the _maxrss tool
        self.rss_tool: str | None = None
        self.rss_out = os.path.join(self.tmp, "maxrss.out")
        self.load_results: dict[str, dict] = {}

    # -- recording ------------------------------------------------------------------------------

    def add(self, metric: str, who: str, value) -> None:
        if self.recording:
            self.samples.setdefault(metric, {}).setdefault(who, []).append(value)

    def fail(self, metric: str, who: str, msg: str) -> None:
        if self.recording:
            self.errors.setdefault(metric, {}).setdefault(who, []).append(msg)

    def timed(self, who, argv: list[str], peak: str | None = None) -> dict:
        """Runs one command timed; in the warm-up (rss_pass) through _maxrss for its peak RSS."""
        if not (self.rss_pass and peak and self.rss_tool):
            return who.spawner.timed(argv)
        try:
            os.unlink(self.rss_out)
        except FileNotFoundError:
            pass
        res = who.spawner.timed([self.rss_tool, self.rss_out, *argv])
        try:
            with open(self.rss_out) as f:
                kib = int(f.read().strip())
        except (OSError, ValueError):
            kib = None
        if res.get("rc") == 0 and kib:
            self.samples.setdefault(peak, {}).setdefault(who.name, []).append(kib)
        return res

    def record(self, metric: str, who: str, res: dict) -> bool:
        """A timed command's result: its time in ms under metric (or its error)."""
        if res.get("rc") != 0:
            self.fail(metric, who, res.get("err") or f"exit {res.get('rc')}")
            return False
        self.add(metric, who, res["t"] * 1000.0)
        return True

    # -- set-up ---------------------------------------------------------------------------------

    def build_rss_tool(self) -> None:
        src = os.path.join(HERE, "_maxrss.c")
        exe = os.path.join(self.tmp, "_maxrss")
        cc = shutil.which("gcc") or shutil.which("cc")
        err = "no C compiler (gcc)"
        if cc:
            for extra in (["-static"], []):
                res = self.local.capture([cc, "-O2", *extra, "-o", exe, src])
                if res["rc"] == 0:
                    self.rss_tool = exe
                    return
                err = res["err"] or "compile failed"
        self.notes.append(f"peak RSS not measured: cannot build bench/_maxrss.c: {err}")

    def setup(self) -> None:
        o = self.opts
        make_rootfs(self.rootfs, o.busybox)
        self.build_rss_tool()
        self.floor = Floor(o.python, self.local)
        hide = None
        for name in o.runtimes:
            root = os.path.join(self.tmp, f"root-{name}")
            os.makedirs(root)
            if name == "ocirun":
                binary, extra, sp = o.ocirun, [], self.local
            elif name == "ocirun-base":
                binary, extra, sp = o.ocirun_base, [], self.local
            elif name == "runc":
                binary, extra, sp = o.runc, [], self.local
            else:  # crun, crun-cg
                binary = o.crun
                extra = ["--cgroup-manager=disabled"] if name == "crun" else ["--cgroup-manager=cgroupfs"]
                hide = crun_needs_private_ns()
                sp = self.local
                if hide:
                    if not self.helpers:
                        self.helpers.append(RemoteSpawner(hide))
                    sp = self.helpers[0]
            if not binary or not os.access(binary, os.X_OK):
                self.notes.append(f"{name}: not found, skipped")
                continue
            rt = Runtime(name, binary, extra, root, sp)
            v = self.local.capture([binary, "--version"])
            rt.version = " ".join(v["out"].split("\n")[0:1]).strip() or "?"
            if name.startswith("ocirun"):
                rt.version = " ".join(v["out"].split())
            rt.exec_ok = self.local.capture([*rt.prefix, "exec", "--help"])["rc"] == 0
            self.runtimes.append(rt)
        for rt in self.runtimes:
            if rt.name == "crun":
                self.notes.append("crun: --cgroup-manager=disabled: it does no cgroup work at all")
            elif rt.name == "crun-cg":
                self.notes.append("crun-cg: crun --cgroup-manager=cgroupfs: cgroup v1 hierarchies only")
        if hide and any(rt.name.startswith("crun") for rt in self.runtimes):
            self.notes.append(f"crun runs from a private mount namespace where {hide} is not mounted: "
                              "crun 1.8.1 refuses this hybrid layout (its cgroup2 has controllers) "
                              "even with cgroups disabled")
        if any(rt.name == "ocirun" for rt in self.runtimes):
            self.notes.append("ocirun: its command is a small static launcher that execs python: "
                              "its peak RSS is python's")

    def new_container(self, rt: Runtime, args: list[str]) -> tuple[str, str]:
        """A fresh (id, bundle) with a unique cgroupsPath."""
        self.counter += 1
        cid = f"b{self.tag}-{rt.name}-{self.counter}"
        bundle = os.path.join(self.bundles, cid)
        os.mkdir(bundle)
        # absolute, so never below our own cgroup (in a hierarchy that is not ours to fill)
        cgpath = f"/{CGROUP_PARENT}/{self.tag}-{rt.name}-{self.counter}"
        self.cgroup_paths.append(cgpath)
        with open(os.path.join(bundle, "config.json"), "w") as f:
            json.dump(make_config(self.rootfs, args, cgpath, self.opts.resources), f)
        return cid, bundle

    def container_pid(self, rt: Runtime, cid: str) -> tuple[int, int] | None:
        """(pid, start time) from `state` (not timed)."""
        res = rt.spawner.capture(rt.cmd("state", cid))
        if res["rc"] != 0:
            return None
        try:
            pid = int(json.loads(res["out"])["pid"])
        except (ValueError, KeyError, TypeError):
            return None
        st = proc_stat(pid) if pid > 0 else None
        return (pid, st[1]) if st else None

    def wait_dead(self, pids: list[int], timeout: float = 5.0) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            reap()
            if not any(alive(p) for p in pids):
                return
            time.sleep(0.002)

    # -- one iteration: run, lifecycle, cycle ---------------------------------------------------

    def floor_sample(self) -> None:
        res = self.timed(self.floor, self.floor.argv, "peak.floor")
        self.record(FLOOR, FLOOR, res)

    def step(self, i: int, with_floor: bool, fn) -> None:
        who = self.runtimes + ([self.floor] if with_floor else [])
        for p in rotated(who, i):
            if p is self.floor:
                self.floor_sample()
            else:
                fn(p)

    def do_run(self, i: int) -> None:
        def one(rt: Runtime) -> None:
            cid, bundle = self.new_container(rt, ["true"])
            rt.live[cid] = None
            res = self.timed(rt, rt.cmd("run", "--bundle", bundle, cid), "peak.run")
            if self.record("run", rt.name, res):
                rt.live.pop(cid, None)

        self.step(i, True, one)
        reap()

    def do_lifecycle(self, i: int) -> None:
        made: dict[str, tuple[str, tuple[int, int] | None]] = {}

        def create(rt: Runtime) -> None:
            cid, bundle = self.new_container(rt, ["sleep", "1000"])
            rt.live[cid] = None
            res = self.timed(rt, rt.cmd("create", "--bundle", bundle, cid), "peak.create")
            if not self.record("create", rt.name, res):
                return
            pp = self.container_pid(rt, cid)
            rt.live[cid] = pp
            made[rt.name] = (cid, pp)
            if pp:
                rss, name = vm_rss(pp[0])
                if rss is not None:
                    self.add("rss.created", rt.name, rss)
                    self.rss_names[rt.name] = name
            else:
                self.fail("rss.created", rt.name, "no pid from state")

        def simple(metric: str, build, peak: str | None = None):
            def one(rt: Runtime) -> None:
                if rt.name not in made:
                    self.fail(metric, rt.name, "skipped: create failed")
                    return
                res = self.timed(rt, rt.cmd(*build(made[rt.name][0])), peak)
                self.record(metric, rt.name, res)
            return one

        def exec_(rt: Runtime) -> None:
            if rt.exec_ok:
                simple("exec", lambda cid: ["exec", cid, "true"], peak="peak.exec")(rt)

        self.step(i, True, create)
        self.step(i, True, simple("start", lambda cid: ["start", cid], peak="peak.start"))
        self.step(i, True, simple("state", lambda cid: ["state", cid], peak="peak.state"))
        self.step(i, False, exec_)
        self.step(i, True, simple("kill", lambda cid: ["kill", cid, "KILL"], peak="peak.kill"))
        self.wait_dead([pp[0] for _, pp in made.values() if pp])

        def delete(rt: Runtime) -> None:
            if rt.name not in made:
                self.fail("delete", rt.name, "skipped: create failed")
                return
            cid = made[rt.name][0]
            res = self.timed(rt, rt.cmd("delete", cid), "peak.delete")
            if self.record("delete", rt.name, res):
                rt.live.pop(cid, None)

        self.step(i, True, delete)
        reap()

    def do_cycle(self, i: int) -> None:
        made: dict[str, str] = {}
        parts: dict[str, list[float]] = {}

        def create(rt: Runtime) -> None:
            cid, bundle = self.new_container(rt, ["sleep", "1000"])
            rt.live[cid] = None
            res = rt.spawner.timed(rt.cmd("create", "--bundle", bundle, cid))
            if self.record("cycle.create", rt.name, res):
                made[rt.name] = cid
                parts[rt.name] = [res["t"]]

        def start(rt: Runtime) -> None:
            if rt.name in made:
                res = rt.spawner.timed(rt.cmd("start", made[rt.name]))
                if self.record("cycle.start", rt.name, res):
                    parts[rt.name].append(res["t"])

        def delete(rt: Runtime) -> None:
            if rt.name in made:
                cid = made[rt.name]
                res = self.timed(rt, rt.cmd("delete", "--force", cid), "peak.delete-f")
                if self.record("cycle.delete-f", rt.name, res):
                    rt.live.pop(cid, None)
                    parts[rt.name].append(res["t"])
                    if len(parts[rt.name]) == 3:
                        self.add("cycle", rt.name, sum(parts[rt.name]) * 1000.0)

        self.step(i, False, create)
        self.step(i, False, start)
        self.step(i, False, delete)
        reap()

    # -- 100 sequential, 50 parallel ------------------------------------------------------------

    def do_seq(self, r: int) -> None:
        for rt in rotated(self.runtimes, r):
            ids, argvs = [], []
            for _ in range(self.opts.seq):
                cid, bundle = self.new_container(rt, ["true"])
                ids.append(cid)
                rt.live[cid] = None
                argvs.append(rt.cmd("run", "--bundle", bundle, cid))
            res = rt.spawner.sequential(argvs)
            items = res.get("items") or []
            if len(items) != len(ids):
                self.fail("seq", rt.name, res.get("err") or "helper failed")
                continue
            self.add("seq", rt.name, res["t"])
            bad = 0
            for cid, it in zip(ids, items):
                if it.get("rc") != 0:
                    bad += 1
                    self.fail("seq.failures", rt.name, it.get("err", "?"))
                else:
                    rt.live.pop(cid, None)
            self.add("seq.failures", rt.name, bad)
            reap()

    def do_par(self, r: int) -> None:
        for rt in rotated(self.runtimes, r):
            ids = []
            for _ in range(self.opts.par):
                cid, bundle = self.new_container(rt, ["sleep", "1000"])
                ids.append((cid, bundle))
                rt.live[cid] = None
            failed: dict[str, str] = {}
            total = 0.0
            res = rt.spawner.parallel([rt.cmd("create", "--bundle", b, cid) for cid, b in ids])
            total += res["t"] if "t" in res else 0.0
            self.add("par.create", rt.name, res.get("t", 0.0))
            for (cid, _), it in zip(ids, res.get("items") or []):
                if it.get("rc") != 0:
                    failed[cid] = "create: " + it.get("err", "?")
            ok = [cid for cid, _ in ids if cid not in failed]
            for phase, args in (("start", ()), ("delete", ("--force",))):
                if not ok:
                    break
                res = rt.spawner.parallel([rt.cmd(phase, *args, cid) for cid in ok])
                self.add(f"par.{phase}", rt.name, res.get("t", 0.0))
                total += res.get("t", 0.0)
                for cid, it in zip(ok, res.get("items") or []):
                    if it.get("rc") != 0:
                        failed.setdefault(cid, f"{phase}: " + it.get("err", "?"))
                    elif phase == "delete":
                        rt.live.pop(cid, None)
            if ok:
                self.add("par", rt.name, total)
            else:
                self.fail("par", rt.name, "every create failed")
            self.add("par.failures", rt.name, len(failed))
            for msg in failed.values():
                self.fail("par.failures", rt.name, msg)
            reap()

    # -- load (--load): many containers, no failure, no leak, flat RSS and fds -------------------

    def load_snapshot(self, rt: Runtime) -> dict:
        """What a leak would show: state dirs in the runtime's root, cgroups of this run under
        /ocirun-bench, processes in them, mounts under our directory; and system-wide figures
        (other work on the machine moves those too: informational)."""
        cgroups = procs = 0
        for mp, _ in cgroup_mounts():
            parent = f"{mp}/{CGROUP_PARENT}"
            if not os.path.isdir(parent):
                continue
            for d in os.listdir(parent):
                if d.startswith(f"{self.tag}-{rt.name}-"):
                    cgroups += 1
                    try:
                        with open(f"{parent}/{d}/cgroup.procs") as f:
                            procs += len(f.read().split())
                    except OSError:
                        pass
        with open("/proc/sys/fs/file-nr") as f:
            files = int(f.read().split()[0])
        meminfo = {}
        with open("/proc/meminfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                meminfo[key] = int(value.split()[0])
        return {
            "state_dirs": len([d for d in os.listdir(rt.root) if not d.startswith(".")]),
            "cgroups": cgroups,
            "container_processes": procs,
            "mounts_under_tmp": len(mounts_under(self.tmp)),
            "system_open_files": files,
            "system_processes": sum(1 for d in os.listdir("/proc") if d.isdigit()),
            "mem_available_kib": meminfo.get("MemAvailable", 0),
        }

    def load_peak_rss(self, rt: Runtime, argv: list[str]) -> tuple[dict, int | None]:
        """One command through _maxrss: its result and its peak RSS in KiB."""
        if not self.rss_tool:
            return self.local.timed(argv), None
        try:
            os.unlink(self.rss_out)
        except FileNotFoundError:
            pass
        res = self.local.timed([self.rss_tool, self.rss_out, *argv])
        try:
            with open(self.rss_out) as f:
                return res, int(f.read().strip())
        except (OSError, ValueError):
            return res, None

    def load_own_view(self, rt: Runtime) -> dict | None:
        """ocirun's own process while it runs a container in the foreground: its open fds and
        VmRSS, sampled halfway through a `run` of `sleep 0.4`."""
        cid, bundle = self.new_container(rt, ["sleep", "0.4"])
        rt.live[cid] = None
        dn = os.open(os.devnull, os.O_RDWR)
        try:
            pid = os.posix_spawn(rt.cmd("run", "--bundle", bundle, cid)[0], rt.cmd("run", "--bundle", bundle, cid),
                                 os.environ, file_actions=[(os.POSIX_SPAWN_DUP2, dn, 0),
                                                           (os.POSIX_SPAWN_DUP2, dn, 1),
                                                           (os.POSIX_SPAWN_DUP2, dn, 2)])
        finally:
            os.close(dn)
        time.sleep(0.25)
        view = None
        try:
            fds = len(os.listdir(f"/proc/{pid}/fd"))
            rss, _name = vm_rss(pid)
            view = {"fds": fds, "rss_kib": rss}
        except OSError:
            pass
        _, status = os.waitpid(pid, 0)
        if os.waitstatus_to_exitcode(status) == 0:
            rt.live.pop(cid, None)
        else:
            self.fail("load.seq.failures", rt.name, f"run (sampled): exit {os.waitstatus_to_exitcode(status)}")
        return view

    def do_load(self) -> None:
        o = self.opts
        for rt in self.runtimes:
            before = self.load_snapshot(rt)
            report: dict = {"before": before}
            if o.verbose:
                print(f"  {rt.name}: {o.load_par} parallel create/start/delete", file=sys.stderr)
            saved = o.par
            o.par = o.load_par
            try:
                self.do_par(0)
            finally:
                o.par = saved
            self.cleanup_containers(quiet=True)
            report["after_parallel"] = self.load_snapshot(rt)
            rss: list[int] = []
            views: list[dict] = []
            failures = 0
            t0 = time.monotonic()
            for i in range(o.load_seq):
                if i % o.load_every == 0:
                    view = self.load_own_view(rt)
                    if view:
                        views.append({"run": i, **view})
                cid, bundle = self.new_container(rt, ["true"])
                rt.live[cid] = None
                res, kib = self.load_peak_rss(rt, rt.cmd("run", "--bundle", bundle, cid))
                if res.get("rc") != 0:
                    failures += 1
                    self.fail("load.seq.failures", rt.name, res.get("err") or f"exit {res.get('rc')}")
                else:
                    rt.live.pop(cid, None)
                if kib:
                    rss.append(kib)
                if i % 50 == 49:
                    reap()
                if o.verbose and i % 100 == 99:
                    print(f"  {rt.name}: {i + 1}/{o.load_seq} sequential runs, "
                          f"{time.monotonic() - t0:.0f}s", file=sys.stderr)
            self.cleanup_containers(quiet=True)
            report["seq_seconds"] = time.monotonic() - t0
            report["after"] = self.load_snapshot(rt)
            report["par_failures"] = self.samples.get("par.failures", {}).get(rt.name, [0])[-1]
            report["seq_failures"] = failures
            report["peak_rss_kib"] = rss
            report["own_views"] = views
            self.load_results[rt.name] = report

    # -- driver ---------------------------------------------------------------------------------

    def run(self) -> None:
        o = self.opts
        groups = o.only
        loop = [g for g in ("run", "lifecycle", "cycle") if g in groups]
        total = o.warmup + o.runs
        t_start = time.monotonic()
        if loop:
            for i in range(total):
                self.recording = i >= o.warmup
                self.rss_pass = not self.recording
                for g in loop:
                    getattr(self, "do_" + g)(i)
                self.cleanup_containers(quiet=True)
                if o.verbose:
                    print(f"  iteration {i + 1}/{total}  {time.monotonic() - t_start:.1f}s", file=sys.stderr)
        else:  # warm up with a few `run`s anyway
            self.recording = False
            for i in range(o.warmup):
                self.do_run(i)
            self.cleanup_containers(quiet=True)
        self.recording, self.rss_pass = True, False
        if not loop:  # the floor is still wanted for the ratios
            for _ in range(max(o.runs, 5)):
                self.floor_sample()
        for g, fn in (("seq", self.do_seq), ("par", self.do_par)):
            if g in groups:
                for r in range(o.rounds):
                    fn(r)
                    self.cleanup_containers(quiet=True)
                    if o.verbose:
                        took = time.monotonic() - t_start
                        print(f"  {g} round {r + 1}/{o.rounds}  {took:.1f}s", file=sys.stderr)

    # -- clean-up -------------------------------------------------------------------------------

    def cleanup_containers(self, quiet: bool = False) -> list[str]:
        problems = []
        for rt in self.runtimes:
            for cid in list(rt.live):
                pp = rt.live[cid]
                if pp is None:
                    pp = self.container_pid(rt, cid)
                res = rt.spawner.capture(rt.cmd("delete", "--force", cid))
                exists = os.path.exists(os.path.join(rt.root, cid))
                if res["rc"] == 0 or not exists:
                    rt.live.pop(cid, None)
                    continue
                # the runtime could not delete it: kill its init ourselves (it is one we started)
                if pp and alive(pp[0], pp[1]):
                    try:
                        os.kill(pp[0], signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                    self.wait_dead([pp[0]], 2.0)
                res = rt.spawner.capture(rt.cmd("delete", "--force", cid))
                if res["rc"] == 0:
                    rt.live.pop(cid, None)
                else:
                    problems.append(f"{rt.name}: could not delete {cid}: {res['err']}")
        reap()
        if problems and not quiet:
            for p in problems:
                print("cleanup: " + p, file=sys.stderr)
        return problems

    def cleanup(self) -> list[str]:
        problems = self.cleanup_containers()
        for rt in self.runtimes:  # anything a runtime still lists in our roots
            try:
                left = [d for d in os.listdir(rt.root) if d.startswith(f"b{self.tag}-")]
            except OSError:
                left = []
            for cid in left:
                rt.spawner.capture(rt.cmd("delete", "--force", cid))
        reap()
        for h in self.helpers:
            h.close()
        self.helpers = []
        self.local.close()
        reap()
        problems += self.cleanup_cgroups()
        busy = mounts_under(self.tmp)
        if busy:
            problems.append(f"left {self.tmp}: still mounted there: {', '.join(busy[:3])}")
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)
        return problems

    def cleanup_cgroups(self) -> list[str]:
        problems = []
        for mp, _ in cgroup_mounts():
            for sub in self.cgroup_paths:
                # only what we named: /ocirun-bench/<tag>-..., never anything else
                if not sub.startswith(f"/{CGROUP_PARENT}/{self.tag}-") or ".." in sub or "process_api" in sub:
                    continue
                path = mp + sub
                if not os.path.isdir(path):
                    continue
                for attempt in range(50):
                    try:
                        os.rmdir(path)
                        break
                    except FileNotFoundError:
                        break
                    except OSError as e:
                        if e.errno != errno.EBUSY or attempt == 49:
                            problems.append(f"rmdir {path}: {e.strerror}")
                            break
                        time.sleep(0.02)
            parent = f"{mp}/{CGROUP_PARENT}"
            if os.path.isdir(parent):
                try:
                    os.rmdir(parent)  # only when empty: another run's cgroups keep it
                except OSError:
                    left = [d for d in os.listdir(parent) if os.path.isdir(os.path.join(parent, d))]
                    if left:
                        problems.append(f"{parent} still has {len(left)} cgroups not made by this run")
        return problems


# -- statistics and output ----------------------------------------------------------------------


def stats(values: list) -> dict:
    vals = [v for v in values if v == v]  # drop NaN
    if not vals:
        return {"n": 0}
    out = {"n": len(vals), "median": statistics.median(vals), "min": min(vals), "max": max(vals),
           "mean": statistics.fmean(vals)}
    if len(vals) >= 2:
        q = statistics.quantiles(vals, n=4, method="inclusive")
        out["p25"], out["p75"] = q[0], q[2]
        out["stdev"] = statistics.stdev(vals)
    return out


# (metric, label, unit, target kind)
ROWS = [
    ("run", "run `true`", "ms", "speed"),
    ("cycle", "create+start+delete -f", "ms", "speed"),
    ("cycle.create", "  create", "ms", None),
    ("cycle.start", "  start", "ms", "floor"),
    ("cycle.delete-f", "  delete -f (running)", "ms", None),
    ("create", "create (sleep)", "ms", None),
    ("start", "start", "ms", "floor"),
    ("state", "state (running)", "ms", "floor"),
    ("exec", "exec `true`", "ms", None),
    ("kill", "kill KILL", "ms", "floor"),
    ("delete", "delete (stopped)", "ms", "floor"),
    ("seq", "{seq} x run, sequential", "s", "faster"),
    ("seq.failures", "  failures", "n", "zero"),
    ("par", "{par} parallel: total", "s", "faster"),
    ("par.create", "  create all", "s", None),
    ("par.start", "  start all", "s", None),
    ("par.delete", "  delete -f all", "s", None),
    ("par.failures", "  failures", "n", "zero"),
    ("rss.created", "created ctr RSS", "KiB", "rss"),
    ("peak.run", "peak RSS run", "KiB", None),
    ("peak.create", "peak RSS create", "KiB", None),
    ("peak.start", "peak RSS start", "KiB", None),
    ("peak.state", "peak RSS state", "KiB", None),
    ("peak.exec", "peak RSS exec", "KiB", None),
    ("peak.kill", "peak RSS kill", "KiB", None),
    ("peak.delete", "peak RSS delete", "KiB", None),
    ("peak.delete-f", "peak RSS delete -f", "KiB", None),
]
TARGETS = {
    "speed": "<=0.6x runc, <=2x crun",
    "floor": "<=1.3x floor",
    "faster": "< runc",
    "zero": "none",
    "rss": "<=2048 KiB",
}


def fmt(v, unit: str) -> str:
    if v is None:
        return "-"
    if unit == "n":
        return f"{v:g}" if v == int(v) else f"{v:.1f}"
    if unit == "KiB":
        return f"{v:,.0f}"
    if unit == "s":
        return f"{v:.2f}"
    return f"{v:.1f}" if v >= 10 else f"{v:.2f}"


def ratio(a, b) -> float | None:
    if a is None or b is None or b == 0:
        return None
    return a / b


def summarize(b: Bench) -> dict:
    names = [rt.name for rt in b.runtimes]
    summary = {m: {who: stats(v) for who, v in per.items()} for m, per in b.samples.items()}
    floor = summary.get(FLOOR, {}).get(FLOOR, {}).get("median")

    def med(metric: str, who: str):
        return summary.get(metric, {}).get(who, {}).get("median")

    ratios: dict = {}
    targets: dict = {}
    for metric, _, unit, kind in ROWS:
        o = med(metric, "ocirun")
        r = {}
        for other in names:
            if other != "ocirun":
                r[f"ocirun/{other}"] = ratio(o, med(metric, other))
        if unit == "ms":
            for who in names:
                r[f"{who}/floor"] = ratio(med(metric, who), floor)
        ratios[metric] = r
        if kind and "ocirun" in names:
            ok = None
            if kind == "speed":
                vs = [r.get("ocirun/runc"), r.get("ocirun/crun")]
                lim = [0.6, 2.0]
                known = [(v, l) for v, l in zip(vs, lim) if v is not None]
                ok = all(v <= l for v, l in known) if known and o is not None else None
            elif kind == "floor":
                v = r.get("ocirun/floor")
                ok = None if v is None else v <= 1.3
            elif kind == "faster":
                v = r.get("ocirun/runc")
                ok = None if v is None else v < 1.0
            elif kind == "zero":
                vals = b.samples.get(metric, {}).get("ocirun")
                ok = None if not vals else max(vals) == 0
            elif kind == "rss":
                ok = None if o is None else o <= 2048
            targets[metric] = {"target": TARGETS[kind], "met": ok}
    return {"summary": summary, "ratios": ratios, "targets": targets, "floor_ms": floor}


def table(b: Bench, res: dict) -> str:
    names = [rt.name for rt in b.runtimes]
    others = [n for n in names if n != "ocirun"] if "ocirun" in names else []
    summary, ratios, targets = res["summary"], res["ratios"], res["targets"]
    head = ["metric", "unit", *names, *[f"o/{n}" for n in others]]
    if "ocirun" in names:
        head += ["o/floor", "target"]
    rows = [head]
    for metric, label, unit, _kind in ROWS:
        if metric not in summary and metric not in b.errors:
            if not (metric == "exec" and "lifecycle" in b.opts.only):
                continue
        label = label.format(seq=b.opts.seq, par=b.opts.par)
        row = [label, unit]
        for n in names:
            rt = next(r for r in b.runtimes if r.name == n)
            st = summary.get(metric, {}).get(n, {})
            if metric in ("exec", "peak.exec") and not rt.exec_ok:
                row.append("n/a")
            elif st.get("n"):
                cell = fmt(st["median"], unit)
                if metric.endswith("failures"):
                    cell = fmt(sum(b.samples[metric][n]), unit)
                nerr = len(b.errors.get(metric, {}).get(n, []))
                if metric in ("seq", "par"):  # failed containers are in these totals
                    nerr += len(b.errors.get(metric + ".failures", {}).get(n, []))
                row.append(cell + ("*" if nerr and not metric.endswith("failures") else ""))
            elif b.errors.get(metric, {}).get(n):
                row.append("ERR")
            else:
                row.append("-")
        for n in others:
            v = ratios.get(metric, {}).get(f"ocirun/{n}")
            row.append("-" if v is None or metric.endswith("failures") else f"{v:.2f}")
        if "ocirun" in names:
            v = ratios.get(metric, {}).get("ocirun/floor")
            row.append("-" if v is None else f"{v:.2f}")
            t = targets.get(metric)
            row.append("" if not t else f"{t['target']}: " + {True: "ok", False: "MISS", None: "?"}[t["met"]])
        rows.append(row)
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    lines = []
    for k, r in enumerate(rows):
        cells = [r[0].ljust(widths[0]), r[1].ljust(widths[1])]
        cells += [c.rjust(w) for c, w in zip(r[2:-1], widths[2:-1])]
        cells.append(r[-1] if "ocirun" in names else r[-1].rjust(widths[-1]))
        lines.append("  ".join(cells).rstrip())
        if k == 0:
            lines.append("-" * len(lines[0]))
    return "\n".join(lines)


def plot(b: Bench, res: dict, path: str) -> str | None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except Exception:  # noqa: BLE001 - optional
        return None
    names = [rt.name for rt in b.runtimes]
    metrics = [(m, lbl.strip()) for m, lbl, unit, _ in ROWS if unit == "ms" and m in res["summary"]]
    if not metrics:
        return None
    fig, ax = plt.subplots(figsize=(10, 0.5 * len(metrics) * len(names) ** 0.5 + 2))
    h = 0.8 / len(names)
    for k, n in enumerate(names):
        ys = [i + k * h for i in range(len(metrics))]
        xs = [res["summary"][m].get(n, {}).get("median") or 0 for m, _ in metrics]
        ax.barh(ys, xs, height=h, label=n)
    if res.get("floor_ms"):
        ax.axvline(res["floor_ms"], color="k", linestyle="--", linewidth=1, label="python floor")
    ax.set_yticks([i + 0.4 - h / 2 for i in range(len(metrics))])
    ax.set_yticklabels([lbl for _, lbl in metrics])
    ax.invert_yaxis()
    ax.set_xlabel("median ms")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


_LOGFMT = re.compile(r'time="[^"]*"\s+level=\w+\s+msg="((?:[^"\\]|\\.)*)"')


def _short(msg: str) -> str:
    """An error without its log timestamp (runc-style `time=... level=error msg="..."`)."""
    return _LOGFMT.sub(lambda m: m.group(1).replace('\\"', '"'), msg)


def errors_text(b: Bench) -> list[str]:
    out = []
    for metric, per in b.errors.items():
        for who, msgs in per.items():
            if metric.endswith("failures"):
                n = sum(b.samples.get(metric, {}).get(who, [0]))
            else:
                n = len(msgs)
            counts: dict[str, int] = {}
            for m in msgs:
                m = _short(m)
                counts[m] = counts.get(m, 0) + 1
            top = sorted(counts.items(), key=lambda kv: -kv[1])[:2]
            out.append(f"{who} {metric}: {n} failed; " + "; ".join(f"{c}x {m}" for m, c in top))
    return out


# -- main ---------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="ocirun vs runc vs crun, side by side (bench/README.md)")
    p.add_argument("--quick", action="store_true", help="few samples: under a minute")
    p.add_argument("--runs", type=int,
                   help="measured iterations of run/lifecycle/cycle (default 30, quick 5)")
    p.add_argument("--warmup", type=int,
                   help="iterations run first, their times thrown away (default 3, quick 1); "
                   "the peak RSS of each command is measured in them")
    p.add_argument("--rounds", type=int,
                   help="rounds of the sequential and parallel tests (default 3, quick 1)")
    p.add_argument("--seq", type=int, default=100, help="containers run one after another (default 100)")
    p.add_argument("--par", type=int, default=50, help="containers created at once (default 50)")
    p.add_argument("--json", default=os.path.join(HERE, "results", "latest.json"), metavar="OUT",
                   help="where to write all samples and medians (default bench/results/latest.json)")
    p.add_argument("--only", help=f"comma-separated subset of: {', '.join(GROUPS)}")
    p.add_argument("--runtimes", default="ocirun,runc,crun",
                   help=f"comma-separated, of {', '.join(KNOWN_RUNTIMES)} "
                   "(crun-cg: crun with cgroup v1 work)")
    p.add_argument("--ocirun", default=os.path.join(REPO, ".venv", "bin", "ocirun"))
    p.add_argument("--ocirun-base", default="",
                   help="another ocirun build (e.g. an older commit's worktree) for --runtimes ocirun-base: "
                   "a before/after comparison in one interleaved run")
    p.add_argument("--python", default=os.path.join(REPO, ".venv", "bin", "python"),
                   help="the interpreter of the floor `python -I -S -c pass`")
    p.add_argument("--runc", default=shutil.which("runc"))
    p.add_argument("--crun", default=shutil.which("crun"))
    p.add_argument("--busybox", default=shutil.which("busybox") or "/bin/busybox")
    p.add_argument("--load", action="store_true",
                   help="the load test instead: --load-par parallel create/start/delete, then --load-seq "
                   "sequential runs; failures, leaks, peak RSS and fds (default runtime: ocirun)")
    p.add_argument("--load-par", type=int, default=100, help="containers at once in --load (default 100)")
    p.add_argument("--load-seq", type=int, default=1000, help="sequential runs in --load (default 1000)")
    p.add_argument("--load-every", type=int, default=100,
                   help="in --load, sample ocirun's own fds and RSS during every Nth run (default 100)")
    p.add_argument("--resources", action="store_true",
                   help="put runc spec's linux.resources (devices deny all) into the config")
    p.add_argument("--no-plot", action="store_true")
    p.add_argument("-v", "--verbose", action="store_true", help="progress on stderr")
    o = p.parse_args(argv)
    o.runs = o.runs if o.runs is not None else (5 if o.quick else 30)
    o.warmup = o.warmup if o.warmup is not None else (1 if o.quick else 3)
    o.rounds = o.rounds if o.rounds is not None else (1 if o.quick else 3)
    if o.only:
        only = set()
        for n in o.only.split(","):
            n = ALIASES.get(n.strip(), n.strip())
            if n not in GROUPS:
                p.error(f"--only: unknown {n!r} (known: {', '.join(GROUPS)})")
            only.add(n)
        o.only = only
    else:
        o.only = set(GROUPS)
    if o.load and "--runtimes" not in " ".join(argv if argv is not None else sys.argv):
        o.runtimes = "ocirun"
    o.runtimes = [n.strip() for n in o.runtimes.split(",") if n.strip()]
    for n in o.runtimes:
        if n not in KNOWN_RUNTIMES:
            p.error(f"--runtimes: unknown {n!r} (known: {', '.join(KNOWN_RUNTIMES)})")
    if o.runs < 1:
        p.error("--runs must be at least 1")
    return o


def _spread(values: list[int]) -> str:
    if not values:
        return "n/a"
    return f"min {min(values):,} median {statistics.median(values):,.0f} max {max(values):,}"


def load_report(b: Bench, o: argparse.Namespace, problems: list[str], elapsed: float,
                started: datetime.datetime) -> int:
    """Prints and saves the load test's findings; exit 1 when a container failed or leaked."""
    bad = bool(problems)
    lines = [f"load: {o.load_par} parallel create/start/delete -f, then {o.load_seq} sequential `run true` "
             f"({elapsed:.0f} s in all)"]
    for name, r in b.load_results.items():
        rss = r["peak_rss_kib"]
        k = max(1, min(100, len(rss) // 4))
        first, last = rss[:k], rss[-k:]
        leaks = {key: r["after"][key] for key in ("state_dirs", "cgroups", "container_processes", "mounts_under_tmp")}
        failures = r["par_failures"] + r["seq_failures"]
        bad |= failures > 0 or any(leaks.values())
        lines += [
            f"{name}:",
            f"  failures: parallel {r['par_failures']}, sequential {r['seq_failures']}",
            "  parallel phases (s): " + ", ".join(
                f"{phase} {b.samples.get(f'par.{phase}', {}).get(name, [float('nan')])[-1]:.2f}"
                for phase in ("create", "start", "delete")),
            f"  left behind after all: {leaks}",
            f"  sequential runs: {r['seq_seconds']:.1f} s ({r['seq_seconds'] * 1000 / max(1, o.load_seq):.1f} ms each)",
            f"  peak RSS per `run` (KiB): {_spread(rss)}",
            f"    first {k}: median {statistics.median(first) if first else 0:,.0f}; last {k}: median "
            f"{statistics.median(last) if last else 0:,.0f}",
            "  its own process during a run (every "
            f"{o.load_every}th): fds {[v['fds'] for v in r['own_views']]}, "
            f"VmRSS KiB {[v['rss_kib'] for v in r['own_views']]}",
            "  system-wide (other work moves these too): open files "
            f"{r['before']['system_open_files']} -> {r['after']['system_open_files']}, processes "
            f"{r['before']['system_processes']} -> {r['after']['system_processes']}, MemAvailable KiB "
            f"{r['before']['mem_available_kib']:,} -> {r['after']['mem_available_kib']:,}",
        ]
    errs = errors_text(b)
    if errs:
        lines.append("errors:")
        lines += ["  " + e for e in errs]
    lines += ["cleanup: " + p for p in problems]
    print("\n".join(lines))
    out = {"meta": {"started": started.isoformat(), "seconds": elapsed, "kernel": platform.release(),
                    "cpus": os.cpu_count(), "args": {k: (sorted(v) if isinstance(v, set) else v)
                                                      for k, v in vars(o).items()}},
           "load": b.load_results, "errors": b.errors, "cleanup_problems": problems, "report": lines}
    path = o.json if o.json != os.path.join(HERE, "results", "latest.json") else os.path.join(HERE, "results",
                                                                                             "load.json")
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        json.dump(out, f, indent=1, default=str)
    print(f"json: {path}")
    return 1 if bad else 0


class _Terminated(Exception):
    pass


def _on_term(signum, frame):
    raise _Terminated()


def main(argv: list[str] | None = None) -> int:
    o = parse_args(argv)
    if os.geteuid() != 0:
        print("bench.py: needs root (it creates containers and cgroups)", file=sys.stderr)
        return 2
    for path, what in ((o.python, "--python"), (o.busybox, "--busybox")):
        if not path or not os.access(path, os.X_OK):
            print(f"bench.py: {what} {path}: not executable", file=sys.stderr)
            return 2
    signal.signal(signal.SIGTERM, _on_term)
    subreaper = become_subreaper()
    started = datetime.datetime.now(datetime.timezone.utc)
    load0 = os.getloadavg()
    b = Bench(o)
    problems: list[str] = []
    t0 = time.monotonic()
    interrupted = False
    try:
        b.setup()
        if not b.runtimes:
            print("bench.py: no runtime to measure", file=sys.stderr)
            return 2
        b.do_load() if o.load else b.run()
    except (KeyboardInterrupt, _Terminated):
        interrupted = True
        print("interrupted: cleaning up", file=sys.stderr)
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        problems = b.cleanup()
        signal.signal(signal.SIGINT, signal.default_int_handler)
    elapsed = time.monotonic() - t0
    load1 = os.getloadavg()
    if interrupted:
        for p in problems:
            print("cleanup: " + p, file=sys.stderr)
        return 130

    if o.load:
        return load_report(b, o, problems, elapsed, started)
    res = summarize(b)
    notes = list(b.notes)
    floor = res["floor_ms"]
    nfloor = res["summary"].get(FLOOR, {}).get(FLOOR, {}).get("n", 0)
    if floor is not None:
        notes.insert(0, f"interpreter floor `{o.python} -I -S -c pass`: {floor:.2f} ms "
                        f"(median of {nfloor}, measured interleaved with the commands)")
    fpeak = res["summary"].get("peak.floor", {}).get(FLOOR, {}).get("median")
    if fpeak:
        notes.insert(1, f"peak RSS of the floor: {fpeak:,.0f} KiB")
    for name, pname in b.rss_names.items():
        notes.append(f"{name}: the created container's waiting process is `{pname}`")
    if not subreaper:
        notes.append("could not become a child subreaper: exited container inits are left as zombies")
    notes.append(f"medians of {o.runs} iterations after {o.warmup} warm-up (runtimes interleaved, order "
                 f"rotated each time); sequential/parallel: {o.rounds} round(s); "
                 f"load average {load0[0]:.2f} -> {load1[0]:.2f}; {elapsed:.0f} s in all")
    notes.append("`*`: some samples of that cell failed (see errors)"
                 + ("; o/X: ocirun's median / X's median" if "ocirun" in o.runtimes else ""))

    text = table(b, res)
    print(text)
    print()
    for n in notes:
        print("- " + n)
    errs = errors_text(b)
    if errs:
        print("errors:")
        for e in errs:
            print("  " + e)
    for p in problems:
        print("cleanup: " + p)

    out = {
        "meta": {
            "started": started.isoformat(),
            "seconds": elapsed,
            "host": platform.node(),
            "kernel": platform.release(),
            "cpus": os.cpu_count(),
            "loadavg_before": load0,
            "loadavg_after": load1,
            "args": {k: (sorted(v) if isinstance(v, set) else v) for k, v in vars(o).items()},
            "runtimes": {rt.name: {"argv": rt.prefix[:-2] + ["--root", "<tmp>"], "version": rt.version,
                                   "exec": rt.exec_ok} for rt in b.runtimes},
            "floor_argv": b.floor.argv if b.floor else None,
            "config_example": make_config("<rootfs>", ["sleep", "1000"],
                                          f"/{CGROUP_PARENT}/<tag>-<runtime>-<n>",
                                          o.resources),
            "notes": notes,
            "units": {m: unit for m, _, unit, _ in ROWS} | {FLOOR: "ms"},
        },
        "samples": b.samples,
        "errors": b.errors,
        "summary": res["summary"],
        "ratios": res["ratios"],
        "targets": res["targets"],
        "table": text,
        "cleanup_problems": problems,
    }
    os.makedirs(os.path.dirname(os.path.abspath(o.json)), exist_ok=True)
    with open(o.json + ".tmp", "w") as f:
        json.dump(out, f, indent=1, default=str)
    os.replace(o.json + ".tmp", o.json)
    print(f"json: {o.json}")
    if not o.no_plot:
        png = plot(b, res, os.path.splitext(o.json)[0] + ".png")
        print(f"plot: {png}" if png else "plot: skipped (matplotlib is not importable)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
