"""Attacks on the runtime from a hostile image or container process, reproduced and shown blocked.

Each test plays the attacker from inside the container with the probe (tests/probe/probe.c:
``exe-attack``, ``hunt``, ``cwdinfo``, ``read``, ``openw`` ...) and then checks the host.  runc
1.1.5 (Debian's 1.1.5+ds1-1+deb12u1, which has the CVE-2024-21626 fix) predates the fixes of some
of these classes: those variants are strict xfails naming the CVE.

- CVE-2019-5736: overwriting the runtime's executable through /proc/PID/exe.
- CVE-2024-21626: a leaked fd, or a working directory reached through one.
- CVE-2021-30465 class: mount destinations that are symlinks leading out of the rootfs, also
  flipped by a racing process while create runs.
- CVE-2019-19921: proc and sysfs mounted through a symlink.
- CVE-2025-31133 class: masking with a /dev/null the container controls.
- CVE-2025-52565 class: a /dev/console the image controls.
- The runtime's processes in the container's namespaces are not dumpable until the user's program
  runs, and procfs writes go to a real procfs (CVE-2025-52881 class).
"""

from __future__ import annotations

import contextlib
import errno
import glob
import hashlib
import json
import os
import socket
import subprocess
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from .support import (
    DEFAULT_RUNC,
    SLOWDOWN,
    Bundle,
    Result,
    Runtime,
    device_snapshot,
    expect_error,
    parse_json,
    probe_args,
    wait_for,
)

# ---------------------------------------------------------------------------- helpers


def json_lines(text: str) -> list[Any]:
    return [json.loads(line) for line in text.splitlines() if line.strip().startswith(("{", "["))]


def run_with_fds(runtime: Runtime, args: Sequence[str], fds: dict[int, Path], tag: str) -> Result:
    """``<runtime> ARGS`` with host paths open at the given fd numbers (for --preserve-fds)."""
    out, err = runtime.workdir / f"{tag}.out", runtime.workdir / f"{tag}.err"
    opened = {n: os.open(p, os.O_RDONLY | os.O_CLOEXEC) for n, p in fds.items()}

    def place() -> None:
        for n, fd in opened.items():
            os.dup2(fd, n)

    try:
        with open(out, "wb") as o, open(err, "wb") as e:
            proc = subprocess.run(runtime.command(*args), stdin=subprocess.DEVNULL, stdout=o, stderr=e,
                                  pass_fds=tuple(fds), preexec_fn=place, timeout=30 * SLOWDOWN)
    finally:
        for fd in opened.values():
            os.close(fd)
    return Result(list(args), proc.returncode, out.read_text(errors="replace"),
                  err.read_text(errors="replace"))


def stop_and_delete(runtime: Runtime, cid: str) -> None:
    runtime.kill(cid, "KILL", check=False)
    with contextlib.suppress(AssertionError):
        runtime.wait_status(cid, "stopped")
    runtime.delete(cid, force=True)


@pytest.fixture
def host_marker(workdir: Path) -> Path:
    """A host directory holding a secret file that no container may ever read."""
    d = workdir / "host-dir"
    d.mkdir()
    (d / "host-secret").write_text("HOST-SECRET-7c1f\n")
    return d


# ---------------------------------------------------------------------------- host binaries


def host_binaries(runtime: Runtime) -> list[Path]:
    """The executables a runtime process in the container could lead back to: the runtime's own
    binary, and for ocirun the venv's real python and the installed init stage; runc always."""
    paths = {Path(os.path.realpath(runtime.binary)), Path(os.path.realpath(DEFAULT_RUNC))}
    venv_bin = Path(runtime.binary).parent
    if (venv_bin / "python").exists():
        paths.add(Path(os.path.realpath(venv_bin / "python")))
    for init in glob.glob(str(venv_bin.parent / "lib" / "python3*" / "site-packages" / "ocirun" / "libexec" /
                              "ocirun-init")):
        paths.add(Path(os.path.realpath(init)))
    return sorted(p for p in paths if p.is_file())


def _digest(path: Path) -> tuple[int, str]:
    data = path.read_bytes()
    return len(data), hashlib.sha256(data).hexdigest()


class HostBinaries:
    def __init__(self, runtime: Runtime) -> None:
        self.paths = host_binaries(runtime)
        self.before = {p: _digest(p) for p in self.paths}

    def changed(self) -> list[str]:
        """The binaries that changed; each is put back (our attacker only appends a marker)."""
        changed = []
        for path, (size, digest) in self.before.items():
            if _digest(path) == (size, digest):
                continue
            changed.append(str(path))
            with open(path, "r+b") as f:
                if hashlib.sha256(f.read(size)).hexdigest() == digest:
                    f.truncate(size)
        return changed


@pytest.fixture
def binaries(runtime: Runtime) -> Iterator[HostBinaries]:
    hb = HostBinaries(runtime)
    assert any(p.name == "runc" for p in hb.paths)
    yield hb
    changed = hb.changed()
    assert not changed, f"host executables were modified from inside a container (restored): {changed}"


# ---------------------------------------------------------------------------- CVE-2019-5736

EVIL_SCRIPT = "#!/proc/self/exe\n"


@pytest.fixture
def evil_entrypoint(bundle: Bundle) -> str:
    """An image whose entrypoint makes the kernel run /proc/self/exe of whoever execs it."""
    path = bundle.path / "rootfs" / "evil"
    path.write_text(EVIL_SCRIPT)
    path.chmod(0o755)
    return "/evil"


def test_cve_2019_5736_proc_self_exe_entrypoint(runtime: Runtime, bundle: Bundle, evil_entrypoint: str,
                                                binaries: HostBinaries) -> None:
    """The runtime execs the image's `#!/proc/self/exe` entrypoint: that re-runs the runtime's own
    executable inside the container, which must lead to no host file and must do nothing."""
    bundle.set_args(evil_entrypoint)
    status, _, _ = runtime.run_container(bundle)
    assert status != 0
    assert runtime.leaks() == []


def hunt(runtime: Runtime, bundle: Bundle, secret: Path, exec_args: Sequence[str],
         seconds: float) -> dict[str, Any]:
    """The container's pid 1 watches /proc for runtime processes (probe hunt) while the host runs
    `exec` into it again and again; returns the hunter's report.  The hunt is ``seconds`` long
    (times SLOWDOWN: an exec takes seconds in the emulated guest)."""
    seconds *= SLOWDOWN
    bundle.set_args(*probe_args("hunt", str(seconds), str(secret)))
    cid = runtime.create(bundle)
    runtime.start(cid)
    runtime.wait_output(cid, "ready")
    execs = 0
    deadline = time.monotonic() + seconds + 10
    while runtime.run("state", cid, check=False).stdout.count('"running"') and time.monotonic() < deadline:
        runtime.run("exec", cid, *exec_args, check=False, timeout=10 * SLOWDOWN)
        execs += 1
    runtime.wait_status(cid, "stopped", timeout=15 * SLOWDOWN)
    report: dict[str, Any] = parse_json(runtime.output(cid)[0])
    runtime.delete(cid)
    report["execs"] = execs
    return report


def assert_nothing_reached(report: dict[str, Any], binaries: HostBinaries) -> None:
    host_paths = {str(p) for p in binaries.paths}
    leaked = [g for g in report["grabbed"] if g["secret"]]
    assert not leaked, f"a host file was read through /proc/PID/root of a runtime process: {leaked[:3]}"
    host_exes = [g for g in report["grabbed"] if g["exe"] in host_paths]
    assert not host_exes, f"host executables of runtime processes were reachable from inside: {host_exes[:3]}"
    written = [g for g in report["grabbed"] if g["wrote"]]
    assert not written, f"executables of runtime processes were written to: {written[:3]}"
    assert report["execs"] > 3, f"only {report['execs']} execs while the hunter ran"


def test_cve_2019_5736_exec_of_proc_self_exe(runtime: Runtime, bundle: Bundle, evil_entrypoint: str,
                                             host_marker: Path, binaries: HostBinaries) -> None:
    """`exec` of the `#!/proc/self/exe` script into a running container whose pid 1 waits to grab
    the executable (and root, fds) of every runtime process that shows up in its pid namespace."""
    report = hunt(runtime, bundle, host_marker / "host-secret", [evil_entrypoint], 3)
    assert report["pids"] >= 3, report
    assert_nothing_reached(report, binaries)


def test_runtime_processes_joining_a_container_expose_nothing_to_cap_sys_ptrace(
        runtime: Runtime, bundle: Bundle, host_marker: Path, binaries: HostBinaries) -> None:
    """Even a container process with CAP_SYS_PTRACE (which lifts the non-dumpable protection)
    must not reach anything of the host through the runtime's processes joining the container:
    they enter its pid namespace only once they are in all its other namespaces and run no host
    executable."""
    caps = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SYS_PTRACE"]
    bundle.process["capabilities"] = {k: list(caps) for k in ("bounding", "effective", "permitted")}
    report = hunt(runtime, bundle, host_marker / "host-secret", ["/bin/true"], 4)
    assert_nothing_reached(report, binaries)


def test_cve_2019_5736_created_init_executable_cannot_be_written(runtime: Runtime, bundle: Bundle,
                                                                binaries: HostBinaries) -> None:
    """A process exec'd (with CAP_SYS_PTRACE) into a created container holds /proc/1/exe of the
    waiting init; once `start` has replaced it with the user's program, it reopens what it holds
    for writing and appends to it.  That must fail, and no host executable may change."""
    bundle.set_args(*probe_args("sleep", "8"))
    cid = runtime.create(bundle)
    out, err = runtime.workdir / "attack.out", runtime.workdir / "attack.err"
    runtime.run("exec", "-d", "--cap", "CAP_SYS_PTRACE", cid, "/bin/probe", "exe-attack", "1", "3",
                io=(out, err))
    wait_for(lambda: out.read_text().count("\n") >= 1, "the attacker to hold /proc/1/exe", 10)
    held = json_lines(out.read_text())[0]
    assert held["held"], held
    assert not held["direct_wronly_ok"], held
    runtime.start(cid)
    wait_for(lambda: out.read_text().count("\n") >= 2, "the attacker's report", 15)
    outcome = json_lines(out.read_text())[1]
    stop_and_delete(runtime, cid)
    assert not outcome["wrote"], f"the init's executable ({held['exe']}) was written from inside: {outcome}"


def test_cve_2019_5736_runtime_exe_not_openable_for_writing(runtime: Runtime, bundle: Bundle) -> None:
    """From a second process in a created container: the waiting init's executable cannot be
    opened for writing, nor can the probe's own (it is running)."""
    bundle.set_args(*probe_args("sleep", "300"))
    cid = runtime.create(bundle)
    [init] = json.loads(runtime.run("exec", cid, "/bin/probe", "openw", "/proc/1/exe").stdout)
    own = json.loads(runtime.run("exec", cid, "/bin/probe", "exe").stdout)
    stop_and_delete(runtime, cid)
    assert not init["ok"], init
    assert own["exe"] == "/bin/probe"
    assert not own["wronly"]["ok"] and not own["rdwr"]["ok"], own


# ---------------------------------------------------------------------------- CVE-2024-21626


def test_cve_2024_21626_only_stdio_fds_after_run(runtime: Runtime, bundle: Bundle) -> None:
    fds = runtime.run_probe(bundle, "fds")
    assert sorted(fds) == ["0", "1", "2"], fds


def test_cve_2024_21626_only_stdio_fds_after_create_start(runtime: Runtime, bundle: Bundle) -> None:
    bundle.set_args(*probe_args("fds"))
    cid = runtime.create(bundle)
    runtime.start(cid)
    runtime.wait_status(cid, "stopped")
    fds = parse_json(runtime.output(cid)[0])
    runtime.delete(cid)
    assert sorted(fds) == ["0", "1", "2"], fds


def test_cve_2024_21626_only_stdio_fds_in_exec(runtime: Runtime, bundle: Bundle) -> None:
    bundle.set_args(*probe_args("sleep", "300"))
    cid = runtime.create(bundle)
    created = json.loads(runtime.run("exec", cid, "/bin/probe", "fds").stdout)
    runtime.start(cid)
    running = json.loads(runtime.run("exec", cid, "/bin/probe", "fds").stdout)
    stop_and_delete(runtime, cid)
    assert sorted(created) == ["0", "1", "2"], created
    assert sorted(running) == ["0", "1", "2"], running


def test_cve_2024_21626_preserved_fds_and_nothing_else(runtime: Runtime, bundle: Bundle,
                                                       host_marker: Path) -> None:
    """--preserve-fds 2: fds 3 and 4 are exactly what the caller passed, in run and in exec."""
    passed = {3: host_marker, 4: host_marker / "host-secret"}
    bundle.set_args(*probe_args("fds"))
    cid = runtime.new_id()
    bundle.write_config(cid)
    res = run_with_fds(runtime, ["run", "--bundle", str(bundle.path), "--preserve-fds", "2", cid], passed,
                       "run")
    assert res.returncode == 0, res.stderr
    fds = parse_json(res.stdout)
    assert sorted(fds) == ["0", "1", "2", "3", "4"], fds
    assert (fds["3"], fds["4"]) == (str(host_marker), str(host_marker / "host-secret"))

    bundle.set_args(*probe_args("sleep", "300"))
    cid = runtime.create(bundle)
    runtime.start(cid)
    res = run_with_fds(runtime, ["exec", "--preserve-fds", "2", cid, "/bin/probe", "fds"], passed, "exec")
    stop_and_delete(runtime, cid)
    assert res.returncode == 0, res.stderr
    fds = parse_json(res.stdout)
    assert sorted(fds) == ["0", "1", "2", "3", "4"], fds


@pytest.mark.parametrize("n", range(3, 11))
def test_cve_2024_21626_cwd_through_proc_self_fd_refused_at_create(runtime: Runtime, bundle: Bundle,
                                                                   n: int) -> None:
    bundle.process["cwd"] = f"/proc/self/fd/{n}"
    bundle.set_args(*probe_args("cwdinfo"))
    res = runtime.try_create(bundle)
    expect_error(runtime, res)
    assert runtime.leaks() == []


@pytest.mark.parametrize("n", range(3, 11))
def test_cve_2024_21626_exec_cwd_through_proc_self_fd(runtime: Runtime, bundle: Bundle, n: int) -> None:
    """exec --cwd /proc/self/fd/N: refused, or (where fd N is the container's own root) a working
    directory inside the container; never a host directory."""
    bundle.set_args(*probe_args("sleep", "300"))
    cid = runtime.create(bundle)
    runtime.start(cid)
    res = runtime.run("exec", "--cwd", f"/proc/self/fd/{n}", cid, "/bin/probe", "cwdinfo", check=False)
    stop_and_delete(runtime, cid)
    if res.returncode == 0:
        report = parse_json(res.stdout)
        assert report["inside_root"] and report["cwd"].startswith("/"), report
    else:
        assert not res.stdout.strip(), res.stdout


def test_cve_2024_21626_cwd_through_a_preserved_host_directory(runtime: Runtime, bundle: Bundle,
                                                               host_marker: Path) -> None:
    """The caller hands a host directory in as fd 3 (--preserve-fds 1) and the process's cwd is
    /proc/self/fd/3: the runtime must refuse to start a process whose working directory lies
    outside the container, at create and at exec."""
    script = ["sh", "-c", "/bin/probe cwdinfo; cat host-secret"]
    bundle.process["cwd"] = "/proc/self/fd/3"
    bundle.set_args(*script)
    cid = runtime.new_id()
    bundle.write_config(cid)
    res = run_with_fds(runtime, ["run", "--bundle", str(bundle.path), "--preserve-fds", "1", cid],
                       {3: host_marker}, "run")
    assert res.returncode != 0 and "HOST-SECRET" not in res.stdout, res.stdout
    assert runtime.leaks() == []

    bundle.process["cwd"] = "/"
    bundle.set_args(*probe_args("sleep", "300"))
    cid = runtime.create(bundle)
    runtime.start(cid)
    res = run_with_fds(runtime, ["exec", "--preserve-fds", "1", "--cwd", "/proc/self/fd/3", cid, *script],
                       {3: host_marker}, "exec")
    stop_and_delete(runtime, cid)
    assert res.returncode != 0, f"exec ran with a host working directory: {res.stdout}"
    assert "HOST-SECRET" not in res.stdout, res.stdout


# ---------------------------------------------------------------------------- mount destination symlinks


def host_mounts_mentioning(path: Path) -> list[str]:
    with open("/proc/self/mountinfo") as f:
        return [line for line in f if str(path) in line.encode().decode("unicode_escape")]


def snapshot(d: Path) -> dict[str, str]:
    return {str(p.relative_to(d)): (p.read_text() if p.is_file() else "<dir>") for p in sorted(d.rglob("*"))}


@pytest.mark.parametrize("kind", ["tmpfs", "bind"])
@pytest.mark.parametrize("form", ["absolute", "relative", "absolute-parent", "root-link"])
def test_mount_destination_symlink_out_of_the_rootfs(runtime: Runtime, bundle: Bundle, workdir: Path,
                                                     host_marker: Path, kind: str, form: str) -> None:
    """/mnt/x in the image is a symlink to a host directory (absolute, or ../../ enough to climb
    out, or /mnt/x -> / with the host path below it).  The mount must land inside the rootfs (the
    container sees it at its destination) or create must fail cleanly; the host directory and the
    host's mount table stay as they were."""
    root = bundle.path / "rootfs"
    (root / "mnt").mkdir(exist_ok=True)
    dest = "/mnt/x"
    if form == "absolute":
        os.symlink(str(host_marker), root / "mnt" / "x")
    elif form == "relative":
        os.symlink("../" * 12 + str(host_marker).lstrip("/"), root / "mnt" / "x")
    elif form == "absolute-parent":
        os.symlink(str(host_marker), root / "mnt" / "x")
        dest = "/mnt/x/sub"
    else:
        os.symlink("/", root / "mnt" / "x")
        dest = "/mnt/x" + str(host_marker)
    src = workdir / "mount-source"
    src.mkdir()
    (src / "from-source").write_text("source\n")
    if kind == "tmpfs":
        bundle.mount(dest, "tmpfs", "tmpfs", ["size=1m"])
    else:
        bundle.mount(dest, "bind", str(src), ["bind"])
    before = snapshot(host_marker)
    bundle.set_args("sh", "-c", f"echo written > {dest}/written-from-inside; ls {dest}; "
                                f"/bin/probe stat {dest}/. /")
    status, out, err = runtime.run_container(bundle)
    assert snapshot(host_marker) == before, "the host directory changed"
    assert host_mounts_mentioning(host_marker) == []
    if status != 0:
        assert status == 1 and len(err.strip().splitlines()) == 1, err
        assert runtime.leaks() == []
        return
    there, rootdir = json_lines(out)[-1]
    assert there["exists"], there
    if kind == "bind":
        assert there["ino"] == src.stat().st_ino, f"the container does not see its bind mount at {dest}"
        assert "from-source" in out.split(), out
    else:
        assert there["dev"] != rootdir["dev"], f"the container does not see its tmpfs at {dest}"
    assert "written-from-inside" in out.split(), out


@pytest.mark.parametrize("which", [
    pytest.param("/dev", marks=pytest.mark.xfail_runtime(
        "runc", reason="runc 1.1.5 follows the image's /dev symlink out of the rootfs and creates its "
                       "/dev symlinks (fd, stdin, stdout, stderr, ptmx) in the host directory "
                       "(CVE-2021-30465 class; later runc resolves every path inside the rootfs)")),
    "/proc",
])
@pytest.mark.parametrize("form", ["absolute", "relative"])
def test_symlinked_dev_or_proc_in_the_image(runtime: Runtime, bundle: Bundle, host_marker: Path,
                                            which: str, form: str) -> None:
    root = bundle.path / "rootfs"
    link = root / which.lstrip("/")
    link.rmdir()
    os.symlink(str(host_marker) if form == "absolute" else "../" * 12 + str(host_marker).lstrip("/"), link)
    bundle.linux["maskedPaths"] = ["/proc/keys"]
    bundle.linux["readonlyPaths"] = ["/proc/sys"]
    before = snapshot(host_marker)
    bundle.set_args(*probe_args("stat", f"{which}/null", f"{which}/self"))
    status, out, err = runtime.run_container(bundle)
    assert snapshot(host_marker) == before, "the runtime wrote into the host directory"
    assert host_mounts_mentioning(host_marker) == []
    if status != 0:
        assert status == 1 and len(err.strip().splitlines()) == 1, err
        assert runtime.leaks() == []
        return
    null, self_link = parse_json(out)
    if which == "/dev":
        assert (null.get("type"), null.get("major"), null.get("minor")) == ("char", 1, 3), \
            f"the container's /dev is not where its devices were made: {null}"
    else:
        assert self_link.get("type") == "symlink", f"the container's /proc is not its procfs: {self_link}"


# ---------------------------------------------------------------------------- racing symlinks (CVE-2021-30465)

# A flipper on the host, working only inside the throwaway bundle: it swaps (renameat2
# RENAME_EXCHANGE, atomic) the rootfs's directory /mnt/race with a symlink leading out of the rootfs,
# as fast as it can, while the runtime creates containers with mounts below /mnt/race.
FLIPPER = """
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
a, b, stop = (p.encode() for p in sys.argv[1:4])
n = 0
while not os.path.exists(stop):
    libc.renameat2(-100, a, -100, b, 2)  # AT_FDCWD, RENAME_EXCHANGE
    n += 1
if n % 2:
    libc.renameat2(-100, a, -100, b, 2)  # leave the directory at /mnt/race
print(n)
"""


@contextlib.contextmanager
def flipping(race: Path, link_target: str, workdir: Path) -> Iterator[subprocess.Popen[str]]:
    """/mnt/race in the rootfs flips between a directory and a symlink to ``link_target``."""
    race.mkdir(parents=True)
    other = race.with_name("race-link")
    other.symlink_to(link_target)
    stop = workdir / "stop-flipping"
    proc = subprocess.Popen(["python3", "-c", FLIPPER, str(race), str(other), str(stop)],
                            stdout=subprocess.PIPE, text=True)
    try:
        yield proc
    finally:
        stop.touch()
        out, _ = proc.communicate(timeout=10 * SLOWDOWN)
        assert int(out) > 100, f"the flipper only flipped {out.strip()} times"


RACE_ATTEMPTS, RACE_MOUNTS = 40, 32


RUNC_CVE_2024_45310 = ("CVE-2024-45310: runc 1.1.5 makes a missing mount destination with MkdirAll after "
                       "resolving it, so a symlink swapped in meanwhile gets it a directory on the host (fixed "
                       "in 1.1.14); a race it loses in some runs only, so an xfail when it does")


@pytest.mark.timeout(240)
@pytest.mark.parametrize("kind", ["tmpfs", "bind"])
def test_cve_2021_30465_mount_destination_symlink_race(runtime: Runtime, bundle: Bundle, workdir: Path,
                                                       host_marker: Path, kind: str) -> None:
    """While /mnt/race flips between a directory and a symlink to a host directory, 40 containers
    with 32 mounts below /mnt/race each are created and deleted: no mount lands outside the rootfs,
    no directory is made there, the host's mount table never shows one; each create succeeds or
    fails cleanly."""
    root = bundle.rootfs
    src = workdir / "mount-source"
    src.mkdir()
    bundle.set_args("true")
    mounts = list(bundle.config["mounts"])
    before = snapshot(host_marker)
    outcomes = {"created": 0, "refused": 0}
    with flipping(root / "mnt" / "race", str(host_marker), workdir):
        for attempt in range(RACE_ATTEMPTS):
            bundle.config["mounts"] = list(mounts)
            for i in range(RACE_MOUNTS):  # new names: each destination is to be made
                dest = f"/mnt/race/a{attempt}-{i}"
                if kind == "tmpfs":
                    bundle.mount(dest, "tmpfs", "tmpfs", ["size=64k"])
                else:
                    bundle.mount(dest, "bind", str(src), ["bind"])
            res = runtime.try_create(bundle)
            escaped = host_mounts_mentioning(host_marker)
            if res.returncode == 0:
                outcomes["created"] += 1
                runtime.delete(runtime.ids[-1], force=True)
            else:
                outcomes["refused"] += 1
                assert res.returncode == 1 and len(res.error_lines) == 1, res.stderr
            assert escaped == [], f"a mount landed on the host directory: {escaped}"
            if runtime.name == "runc" and snapshot(host_marker) != before:
                pytest.xfail(RUNC_CVE_2024_45310)
            assert snapshot(host_marker) == before, f"the host directory changed ({outcomes})"
    assert runtime.leaks() == []
    assert sorted(os.listdir(src)) == [], "the bind source changed"


# ---------------------------------------------------------------------------- proc, sysfs on symlinks (CVE-2019-19921)


@pytest.mark.parametrize("fs", ["proc", "sysfs"])
@pytest.mark.parametrize("to", ["image-dir", "host-dir"])
def test_cve_2019_19921_proc_or_sysfs_onto_a_symlink(runtime: Runtime, bundle: Bundle, host_marker: Path,
                                                     fs: str, to: str) -> None:
    """The image's /proc (or /sys) is a symlink, to a directory of its own or to a host one:
    create refuses it, naming the ordinary directory it needs; nothing is mounted anywhere."""
    root = bundle.rootfs
    where = "/proc" if fs == "proc" else "/sys"
    (root / where.lstrip("/")).rmdir()
    fake = root / "etc" / "fake"
    fake.mkdir()
    (root / where.lstrip("/")).symlink_to("/etc/fake" if to == "image-dir" else str(host_marker))
    before = snapshot(host_marker)
    bundle.set_args("true")
    res = runtime.try_create(bundle)
    expect_error(runtime, res, both="ordinary directory")
    assert snapshot(host_marker) == before
    assert host_mounts_mentioning(host_marker) == []
    assert os.listdir(fake) == []
    assert runtime.leaks() == []


# ---------------------------------------------------------------------------- /dev/null (CVE-2025-31133)

SWAP_HOOK = """#!/bin/sh
# createRuntime hook: replace the container's /dev/null just before the masks are applied, as a
# racing container process could
pid=$(sed -n 's/.*"pid": *\\([0-9]*\\).*/\\1/p')
dev="/proc/$pid/root{rootfs}/dev"
rm -f "$dev/null"
{action}
"""


@pytest.fixture
def mask_target(bundle: Bundle) -> Path:
    root = bundle.path / "rootfs"
    (root / "etc" / "secret").write_text("secret\n")
    (root / "etc" / "target").write_text("TARGET-CONTENT\n")
    bundle.linux["maskedPaths"] = ["/etc/secret", "/proc/keys"]
    return root


def check_masks(runtime: Runtime, bundle: Bundle, root: Path, may_refuse: bool = False) -> None:
    """The masked paths read empty and are the host's /dev/null.  ``may_refuse``: or create fails
    cleanly, with one line naming /dev/null."""
    devices = device_snapshot()
    host = os.stat("/dev/null")
    bundle.set_args("sh", "-c", "/bin/probe read /etc/secret /proc/keys; "
                                "/bin/probe stat /etc/secret /proc/keys")
    status, out, err = runtime.run_container(bundle)
    if may_refuse and status != 0:
        assert status == 1 and len(err.strip().splitlines()) == 1 and "/dev/null" in err, err
        assert (root / "etc" / "target").read_text() == "TARGET-CONTENT\n"
        assert runtime.leaks() == []
        return
    assert status == 0, err
    reads, stats = json_lines(out)
    assert [(r["ok"], r["data"]) for r in reads] == [(True, ""), (True, "")], reads
    for st in stats:
        assert (st.get("type"), st.get("major"), st.get("minor")) == ("char", 1, 3), st
        assert (st["dev"], st["ino"]) == (host.st_dev, host.st_ino), "not the host's /dev/null"
    assert (root / "etc" / "target").read_text() == "TARGET-CONTENT\n"
    assert device_snapshot() == devices, "the host's device nodes changed"


CVE_2025_31133 = ("CVE-2025-31133: runc 1.1.5 bind-mounts the container's /dev/null (whatever it is at that "
                  "moment) over masked paths (fixed in 1.2.8, 1.3.3, 1.4.0-rc.3)")


@pytest.mark.xfail_runtime("runc", reason=CVE_2025_31133)
@pytest.mark.parametrize("action", ['ln -s /etc/target "$dev/null"', 'echo FAKE > "$dev/null"',
                                    'ln -s ../etc/target "$dev/null"'],
                         ids=["symlink", "regular-file", "relative-symlink"])
def test_cve_2025_31133_dev_null_swapped_before_masking(runtime: Runtime, bundle: Bundle, workdir: Path,
                                                        mask_target: Path, action: str) -> None:
    hook = workdir / "swap-dev-null.sh"
    hook.write_text(SWAP_HOOK.format(rootfs=bundle.path / "rootfs", action=action))
    hook.chmod(0o755)
    bundle.config["hooks"] = {"createRuntime": [{"path": str(hook)}]}
    check_masks(runtime, bundle, mask_target)


@pytest.mark.xfail_runtime("runc", reason=CVE_2025_31133)
@pytest.mark.parametrize("kind", ["symlink", "regular-file"])
def test_cve_2025_31133_image_ships_its_own_dev_null(runtime: Runtime, bundle: Bundle, mask_target: Path,
                                                     kind: str) -> None:
    """No tmpfs on /dev: the image's /dev/null is a symlink to one of its files, or a file.  The
    runtime may refuse it (a file at a device's path that is not that device: ocirun never
    unlinks in /dev), or mask with the real /dev/null; never with the image's."""
    bundle.config["mounts"] = [m for m in bundle.config["mounts"] if m["destination"] != "/dev"]
    null = mask_target / "dev" / "null"
    if kind == "symlink":
        null.symlink_to("/etc/target")
    else:
        null.write_text("FAKE\n")
    check_masks(runtime, bundle, mask_target, may_refuse=True)
    assert null.is_symlink() if kind == "symlink" else null.read_text() == "FAKE\n"


def test_host_dev_null_keeps_owner_and_mode(runtime: Runtime, bundle: Bundle, mask_target: Path) -> None:
    """Masking, device creation and a container writing to /dev/null leave the host's node alone
    (the leak check verifies it after every test; this one says it explicitly)."""
    before = os.stat("/dev/null")
    bundle.process["user"] = {"uid": 1000, "gid": 1000}
    bundle.set_args("sh", "-c", "echo x > /dev/null; chmod 600 /dev/null; chown 1000 /dev/null; "
                                "/bin/probe stat /dev/null /etc/secret")
    status, out, err = runtime.run_container(bundle)
    assert status == 0, err
    for st in parse_json(out):
        assert (st.get("type"), st.get("major"), st.get("minor")) == ("char", 1, 3), st
    after = os.stat("/dev/null")
    assert (after.st_uid, after.st_gid, after.st_mode, after.st_rdev) == \
        (before.st_uid, before.st_gid, before.st_mode, before.st_rdev)


# ---------------------------------------------------------------------------- /dev/console (CVE-2025-52565)


class ConsoleSocket:
    """A --console-socket listener: receives the pty master and collects what the container writes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(str(path))
        self.sock.listen(1)
        self.sock.settimeout(20)
        self.master: int | None = None
        self.data = b""
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        try:
            conn, _ = self.sock.accept()
        except OSError:
            return
        with conn:
            try:
                _, fds, _, _ = socket.recv_fds(conn, 1024, 1)
            except OSError:
                return
        if not fds:
            return  # the runtime gave up before it had a console to send
        self.master = fds[0]
        while True:
            try:
                chunk = os.read(self.master, 4096)
            except OSError:
                break
            if not chunk:
                break
            self.data += chunk

    def text(self) -> str:
        return self.data.decode(errors="replace").replace("\r", "")

    def close(self) -> None:
        self.sock.close()
        if self.master is not None:
            with contextlib.suppress(OSError):
                os.close(self.master)
        self.thread.join(timeout=5 * SLOWDOWN)


def console_run(runtime: Runtime, bundle: Bundle, workdir: Path, script: str) -> tuple[Result, str]:
    """create with terminal true and a console socket, start, wait: (create's Result, console text)."""
    bundle.process["terminal"] = True
    bundle.set_args("sh", "-c", script + "; sleep 0.2")
    cs = ConsoleSocket(workdir / "console.sock")
    try:
        res = runtime.try_create(bundle, extra=["--console-socket", str(workdir / "console.sock")])
        if res.returncode != 0:
            return res, ""
        cid = runtime.ids[-1]
        runtime.start(cid)
        runtime.wait_status(cid, "stopped")
        runtime.delete(cid)
        cs.thread.join(timeout=5 * SLOWDOWN)
        return res, cs.text()
    finally:
        cs.close()


@pytest.fixture
def console_image(bundle: Bundle) -> Path:
    """No tmpfs on /dev: the image's own /dev is the container's."""
    root = bundle.path / "rootfs"
    (root / "etc" / "target").write_text("TARGET-CONTENT\n")
    bundle.config["mounts"] = [m for m in bundle.config["mounts"] if m["destination"] != "/dev"]
    return root


def test_console_is_a_pty(runtime: Runtime, bundle: Bundle, workdir: Path) -> None:
    res, text = console_run(runtime, bundle, workdir, "/bin/probe stat /dev/console; /bin/probe tty")
    assert res.returncode == 0, res.stderr
    [console], tty = json_lines(text)
    assert console.get("type") == "char" and 136 <= console.get("major", 0) <= 143, console
    assert tty == {"stdin": True, "stdout": True, "stderr": True}


@pytest.mark.xfail_runtime("runc", reason="CVE-2025-52565 class: runc 1.1.5 truncates the image's "
                                          "/dev/console (os.Create) before it mounts the pty on it")
def test_image_console_file_is_covered_by_the_pty(runtime: Runtime, bundle: Bundle, workdir: Path,
                                                  console_image: Path) -> None:
    (console_image / "dev" / "console").write_text("FAKE-CONSOLE\n")
    res, text = console_run(runtime, bundle, workdir, "/bin/probe stat /dev/console")
    assert res.returncode == 0, res.stderr
    [[console]] = json_lines(text)
    assert console.get("type") == "char" and 136 <= console.get("major", 0) <= 143, console
    assert (console_image / "dev" / "console").read_text() == "FAKE-CONSOLE\n"


@pytest.mark.parametrize("form", ["absolute", "relative"])
def test_image_console_symlink_to_a_host_file(runtime: Runtime, bundle: Bundle, workdir: Path,
                                              console_image: Path, host_marker: Path, form: str) -> None:
    """The image's /dev/console leads to a host file: the host file is untouched (no truncation,
    no pty mounted on it, no chown), whether the runtime fails or runs."""
    secret = host_marker / "host-secret"
    st = secret.stat()
    target = str(secret) if form == "absolute" else "../" * 12 + str(secret).lstrip("/")
    (console_image / "dev" / "console").symlink_to(target)
    console_run(runtime, bundle, workdir, "/bin/probe stat /dev/console")
    assert secret.read_text() == "HOST-SECRET-7c1f\n"
    after = secret.stat()
    assert (after.st_uid, after.st_gid, after.st_mode) == (st.st_uid, st.st_gid, st.st_mode)
    assert host_mounts_mentioning(host_marker) == []
    assert runtime.leaks() == []


@pytest.mark.xfail_runtime("runc", reason="CVE-2025-52565 class: runc 1.1.5 follows the image's "
                                          "/dev/console symlink, truncates its target (os.Create) and mounts "
                                          "the pty there (runc 1.2.8, 1.3.3, 1.4.0-rc.3 open it O_NOFOLLOW)")
def test_image_console_symlink_is_not_followed(runtime: Runtime, bundle: Bundle, workdir: Path,
                                               console_image: Path) -> None:
    """The image's /dev/console is a symlink to one of its files: /dev/console in the container
    is the pty itself (or create fails cleanly), and the file it pointed to is neither truncated
    nor covered."""
    (console_image / "dev" / "console").symlink_to("/etc/target")
    res, text = console_run(runtime, bundle, workdir, "/bin/probe stat /dev/console /etc/target")
    assert (console_image / "etc" / "target").read_text() == "TARGET-CONTENT\n"
    if res.returncode != 0:
        assert runtime.leaks() == []
        return
    [[console, target]] = json_lines(text)
    assert console.get("type") == "char" and 136 <= console.get("major", 0) <= 143, console
    assert target["type"] == "file", f"something was mounted over /etc/target: {target}"


# ---------------------------------------------------------------------------- dumpable, procfs


@pytest.mark.xfail_runtime("runc", reason="runc 1.1.5's `runc init` waiting in a created container is "
                                          "dumpable: a container process reads its environ and reaches its "
                                          "root, cwd and fds through /proc/1")
def test_created_init_is_not_dumpable(runtime: Runtime, bundle: Bundle) -> None:
    """Until the user's program runs, pid 1 of a created container is the runtime's: a second
    process in the container (default capabilities) can read none of its /proc files."""
    bundle.set_args(*probe_args("sleep", "300"))
    cid = runtime.create(bundle)
    reads = json.loads(runtime.run("exec", cid, "/bin/probe", "read", "/proc/1/environ", "/proc/1/mem",
                                   "/proc/1/root/etc/passwd", "/proc/1/cwd/etc/passwd").stdout)
    stats = json.loads(runtime.run("exec", cid, "/bin/probe", "stat", "/proc/1/fd/0", "/proc/1/root/.",
                                   "/proc/1/cwd/.").stdout)
    fds = json.loads(runtime.run("exec", cid, "/bin/probe", "read", "/proc/1/fd/0", "/proc/1/fd/1",
                                 "/proc/1/fd/2").stdout)
    runtime.start(cid)
    after = json.loads(runtime.run("exec", cid, "/bin/probe", "read", "/proc/1/environ").stdout)
    stop_and_delete(runtime, cid)
    for r in reads + fds:
        assert not r["opened"] and r["open_errno"] in (errno.EACCES, errno.EPERM), r
    for st in stats[1:]:
        assert not st["exists"] and st["errno"] in (errno.EACCES, errno.EPERM), st
    assert after[0]["opened"], "after start pid 1 is the user's program, dumpable again"


def test_oom_score_adj_never_written_into_the_image(runtime: Runtime, bundle: Bundle) -> None:
    """No proc mount; the image ships /proc/self/oom_score_adj as a file: oomScoreAdj fails or is
    applied to the real process, never written into the image's file."""
    root = bundle.path / "rootfs"
    bundle.config["mounts"] = [m for m in bundle.config["mounts"] if m["destination"] != "/proc"]
    (root / "proc" / "self").mkdir(parents=True)
    fake = root / "proc" / "self" / "oom_score_adj"
    fake.write_text("FAKE\n")
    bundle.process["oomScoreAdj"] = 123
    bundle.set_args(*probe_args("sleep", "300"))
    res = runtime.try_create(bundle)
    if res.returncode == 0:
        cid = runtime.ids[-1]
        pid = runtime.state(cid)["pid"]
        real = Path(f"/proc/{pid}/oom_score_adj").read_text().strip()
        stop_and_delete(runtime, cid)
        assert real == "123"
    else:
        assert res.returncode == 1 and runtime.leaks() == []
    assert fake.read_text() == "FAKE\n"


@pytest.mark.xfail_runtime("runc", reason="CVE-2025-52881 class: runc 1.1.5 writes sysctls by path, into "
                                          "whatever the image has at /proc/sys/...")
def test_sysctl_never_written_into_the_image(runtime: Runtime, bundle: Bundle) -> None:
    root = bundle.path / "rootfs"
    bundle.config["mounts"] = [m for m in bundle.config["mounts"] if m["destination"] != "/proc"]
    fake = root / "proc" / "sys" / "net" / "ipv4" / "ip_forward"
    fake.parent.mkdir(parents=True)
    fake.write_text("FAKE\n")
    bundle.linux["sysctl"] = {"net.ipv4.ip_forward": "1"}
    bundle.set_args(*probe_args("sleep", "300"))
    res = runtime.try_create(bundle)
    if res.returncode == 0:
        stop_and_delete(runtime, runtime.ids[-1])
    else:
        assert res.returncode == 1 and runtime.leaks() == []
    assert fake.read_text() == "FAKE\n"


# ---------------------------------------------------------------------------- --no-pivot and procfs

# What `runc spec` writes: the container's own /proc is masked, so the kernel refuses a new procfs
# mount in a user namespace made inside the container (mount_too_revealing) unless a fully visible
# procfs is reachable in the container's mount namespace.
RUNC_SPEC_MASKED_PATHS = ["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
                          "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware",
                          "/proc/scsi"]
RUNC_SPEC_READONLY_PATHS = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]


def unprivileged_userns_disabled() -> str | None:
    """Why a process without CAP_SYS_ADMIN cannot make a user namespace on this host, or None."""
    for path, bad in (("/proc/sys/kernel/unprivileged_userns_clone", "0"), ("/proc/sys/user/max_user_namespaces", "0")):
        with contextlib.suppress(OSError):
            if Path(path).read_text().strip() == bad:
                return f"unprivileged user namespaces are disabled ({path} is {bad})"
    return None


@pytest.mark.parametrize(("no_pivot", "userns"), [(False, False), (True, False), (True, True)],
                         ids=["pivot_root", "no-pivot", "no-pivot-userns"])
def test_no_pivot_leaves_no_host_procfs_to_remount(runtime: Runtime, bundle: Bundle, no_pivot: bool,
                                                   userns: bool) -> None:
    """Without pivot_root the host's / stays in the container's mount namespace, and with it the
    host's fully visible /proc and /sys: a container process that makes a user, mount and pid
    namespace (no seccomp profile in the way) could then mount a fresh, unmasked procfs.  The
    runtime unmounts every full procfs and sysfs outside the rootfs before it moves the rootfs to /
    (runc msMoveRoot), or covers it where a user namespace of the container's locks it, so the
    kernel refuses the mount as it does after pivot_root."""
    reason = unprivileged_userns_disabled()
    if reason:
        pytest.skip(reason)
    if userns:
        bundle.linux["namespaces"].append({"type": "user"})
        bundle.linux["uidMappings"] = [{"containerID": 0, "hostID": 200000, "size": 65536}]
        bundle.linux["gidMappings"] = [{"containerID": 0, "hostID": 200000, "size": 65536}]
        assert bundle.config is not None  # a cgroup mount needs more than the mapped root may have here
        bundle.config["mounts"] = [m for m in bundle.config["mounts"] if m["type"] != "cgroup"]
        os.chmod(runtime.workdir, 0o711)  # the mapped root must reach the rootfs
    (bundle.rootfs / "bin" / "unshare").symlink_to("busybox")
    (bundle.rootfs / "mnt" / "proc").mkdir(parents=True)
    bundle.linux["maskedPaths"] = list(RUNC_SPEC_MASKED_PATHS)
    bundle.linux["readonlyPaths"] = list(RUNC_SPEC_READONLY_PATHS)
    for kind in ("bounding", "effective", "permitted"):  # to map root in a user namespace (Docker's set has it)
        bundle.process["capabilities"][kind].append("CAP_SETFCAP")
    bundle.set_args("sh", "-c", "unshare -mrpf sh -c 'echo in-userns; mount -t proc proc /mnt/proc && echo MOUNTED"
                    " && ls /mnt/proc/kcore'; echo done")
    status, out, err = runtime.run_container(bundle, extra=["--no-pivot"] if no_pivot else [])
    assert status == 0, f"{err}\nlog:\n{runtime.log_tail()}"
    assert "in-userns" in out, f"the container could not make a user namespace: {err}"
    assert "MOUNTED" not in out, "a fresh procfs was mounted inside the container"
    assert "permission denied" in err.lower(), err
