"""State records, the derived status, and the state root (ocirun.state, ocirun.store).

The status is worked out on every read (STYLE.md 7.9): these tests use this process's own pid
and real children (a zombie, one with a strange name) in temporary container directories.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ocirun import _os, store
from ocirun import state as st
from ocirun.errors import (
    ContainerExists,
    ContainerNotFound,
    InvalidArgument,
    InvalidState,
    OciRunError,
    SyscallError,
)
from ocirun.state import State, proc_start_time


def make_state(cid: str = "c1", pid: int = 0, pid_start: int = 0, **kw: Any) -> State:
    return State(
        cid, pid, pid_start, "/bundles/c1", "/bundles/c1/rootfs", "2026-11-30T09:00:00.000000000Z", **kw
    )


@pytest.fixture
def cdir(tmp_path: Path) -> Path:
    d = tmp_path / "c1"
    d.mkdir()
    return d


# ---------------------------------------------------------------------------- State records


def test_json_round_trip() -> None:
    s = make_state(
        pid=123,
        pid_start=456,
        owner="root",
        annotations={"a": "b", "ü": "✓"},
        cgroup_paths={"": "/sys/fs/cgroup/x"},
        namespaces={"pid": "/proc/123/ns/pid"},
        config={"hooks": {"poststop": [{"path": "/bin/true"}]}},
    )
    obj = s.to_json()
    assert json.loads(json.dumps(obj)) == obj
    back = State.from_json(json.loads(json.dumps(obj)))
    assert back.to_json() == obj
    for name in State.__slots__:
        assert getattr(back, name) == getattr(s, name)


def test_from_json_fills_defaults_for_missing_optional_keys() -> None:
    obj = make_state(pid=1, pid_start=2).to_json()
    for key in ("owner", "annotations", "cgroup_paths", "namespaces", "config"):
        del obj[key]
    back = State.from_json(obj)
    assert (back.owner, back.annotations, back.cgroup_paths, back.namespaces, back.config) == (
        "",
        {},
        {},
        {},
        {},
    )


def test_from_json_ignores_unknown_keys() -> None:
    obj = make_state().to_json()
    obj["future"] = 1
    assert State.from_json(obj).to_json() == make_state().to_json()


def test_save_and_load(cdir: Path) -> None:
    path = str(cdir / "state.json")
    s = make_state(pid=7, pid_start=8, annotations={"k": "v"})
    st.save(s, path)
    assert st.load(path).to_json() == s.to_json()
    assert json.loads(Path(path).read_text()) == s.to_json()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_save_is_a_rename_of_a_complete_temporary_file(cdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = str(cdir / "state.json")
    old = make_state(pid=1, pid_start=1)
    new = make_state(pid=2, pid_start=2, annotations={"x": "y" * 10000})
    st.save(old, path)
    renames: list[tuple[str, str]] = []
    real_rename = _os.rename

    def rename(src: str, dst: str) -> None:
        # at the moment of the rename, readers still see the old state, and the new one is whole
        assert json.loads(Path(dst).read_text()) == old.to_json()
        assert json.loads(Path(src).read_text()) == new.to_json()
        renames.append((src, dst))
        real_rename(src, dst)

    monkeypatch.setattr(_os, "rename", rename)
    st.save(new, path)
    assert len(renames) == 1
    src, dst = renames[0]
    assert dst == path
    assert os.path.dirname(src) == os.path.dirname(path), "the temporary file must be in the same directory"
    assert st.load(path).to_json() == new.to_json()
    assert os.listdir(cdir) == ["state.json"], "no temporary file left"


def test_save_writes_whole_then_renames(cdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A reader sees the old state.json or the new one, never a part: rename of a complete file."""
    calls: list[tuple[str, int]] = []
    real_rename = _os.rename

    def rename(src: str, dst: str) -> None:
        with open(src, "rb") as f:
            calls.append(("rename", len(f.read())))
        real_rename(src, dst)

    monkeypatch.setattr(_os, "rename", rename)
    st.save(make_state(), str(cdir / "state.json"))
    assert calls == [("rename", len((cdir / "state.json").read_bytes()))]


def test_failed_save_keeps_the_old_state_and_leaves_nothing_behind(cdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = str(cdir / "state.json")
    st.save(make_state(pid=1, pid_start=1), path)

    def write(fd: int, data: bytes) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(_os, "write", write)
    with pytest.raises(OSError):
        st.save(make_state(pid=2, pid_start=2), path)
    monkeypatch.undo()
    assert st.load(path).pid == 1
    assert os.listdir(cdir) == ["state.json"]




# ---------------------------------------------------------------------------- status


def test_proc_start_time_of_this_process() -> None:
    start = proc_start_time(os.getpid())
    assert isinstance(start, int) and start > 0
    with open(f"/proc/{os.getpid()}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    assert start == int(fields[19])
    assert proc_start_time(os.getpid()) == start


def test_proc_start_time_of_no_process() -> None:
    assert proc_start_time(0) is None
    assert proc_start_time(2**22 + 12345) is None  # above pid_max's ceiling


def wait_until(predicate: Any, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            if predicate():
                return True
        time.sleep(0.01)
    return False


@pytest.fixture
def in_init_stage(monkeypatch: pytest.MonkeyPatch) -> None:
    """This process passes for a container init waiting in ocirun's init stage."""
    monkeypatch.setattr(st, "in_init_stage", lambda pid: True)


def test_created_with_fifo(cdir: Path, in_init_stage: None) -> None:
    os.mkfifo(cdir / "exec.fifo", 0o600)
    s = make_state(pid=os.getpid(), pid_start=proc_start_time(os.getpid()) or -1)
    assert s.alive()
    assert s.status(str(cdir)) == st.CREATED


def test_running_with_a_fifo_left_by_a_killed_start(cdir: Path) -> None:
    """start killed between writing the fifo and removing it: the init has exec'd its program,
    so the fifo left behind does not make it "created"."""
    os.mkfifo(cdir / "exec.fifo", 0o600)
    s = make_state(pid=os.getpid(), pid_start=proc_start_time(os.getpid()) or -1)
    assert s.status(str(cdir)) == st.RUNNING


def test_in_init_stage_tells_the_init_stage_by_its_exe() -> None:
    """The init stage runs from a memfd named ocirun-init (csrc/shim.c); anything else is the
    user's program."""
    data = Path("/bin/sleep").read_bytes()
    fd = os.memfd_create("ocirun-init", 0)
    os.write(fd, data)
    child = subprocess.Popen([f"/proc/self/fd/{fd}", "10"], pass_fds=[fd])
    os.close(fd)
    try:
        assert wait_until(lambda: os.readlink(f"/proc/{child.pid}/exe").startswith("/memfd:"))
        assert st.in_init_stage(child.pid)
        assert not st.in_init_stage(os.getpid())
        assert st.in_init_stage(2**22 + 1)  # cannot tell: the fifo decides
    finally:
        child.kill()
        child.wait()


def test_running_without_fifo(cdir: Path) -> None:
    s = make_state(pid=os.getpid(), pid_start=proc_start_time(os.getpid()) or -1)
    assert s.status(str(cdir)) == st.RUNNING


def test_stopped_when_the_start_time_differs(cdir: Path) -> None:
    """The pid was reused by another process: not our container's init."""
    os.mkfifo(cdir / "exec.fifo", 0o600)
    real = proc_start_time(os.getpid())
    assert real is not None
    s = make_state(pid=os.getpid(), pid_start=real + 1)
    assert not s.alive()
    assert s.status(str(cdir)) == st.STOPPED


def test_stopped_when_pid_is_zero(cdir: Path) -> None:
    os.mkfifo(cdir / "exec.fifo", 0o600)
    assert make_state(pid=0, pid_start=0).status(str(cdir)) == st.STOPPED
    assert make_state(pid=-1, pid_start=0).status(str(cdir)) == st.STOPPED


@pytest.mark.parametrize(
    ("frozen", "fifo", "status"),
    [
        (True, True, st.PAUSED),
        (True, False, st.PAUSED),
        (False, True, st.CREATED),
        (False, False, st.RUNNING),
    ],
)
def test_paused_when_the_cgroup_is_frozen(
    cdir: Path, tmp_path: Path, frozen: bool, fifo: bool, status: str, in_init_stage: None
) -> None:
    cgroup = tmp_path / "cgroup"
    cgroup.mkdir()
    (cgroup / "cgroup.freeze").write_text("1\n" if frozen else "0\n")
    if fifo:
        os.mkfifo(cdir / "exec.fifo", 0o600)
    paths = {"": str(cgroup)}
    s = make_state(pid=os.getpid(), pid_start=proc_start_time(os.getpid()) or -1, cgroup_paths=paths)
    assert s.status(str(cdir)) == status
    # a dead init is stopped whatever its cgroup says
    assert make_state(pid=0, cgroup_paths=paths).status(str(cdir)) == st.STOPPED


@pytest.mark.parametrize(
    ("files", "frozen"),
    [
        ({"freezer.state": "THAWED\n"}, False),
        ({"freezer.state": "FREEZING\n"}, True),
        ({"freezer.state": "FROZEN\n", "freezer.self_freezing": "1\n"}, True),
        ({"freezer.state": "FROZEN\n", "freezer.self_freezing": "0\n"}, False),  # an ancestor froze it
        ({"freezer.state": "FROZEN\n"}, True),  # no self_freezing: an old kernel
        ({}, False),  # no freezer files: not frozen
    ],
)
def test_frozen_reads_the_v1_freezer(tmp_path: Path, files: dict[str, str], frozen: bool) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    assert st.frozen({"freezer": str(tmp_path), "memory": "/nonexistent"}) is frozen


def test_status_does_not_import_the_cgroups_package(cdir: Path, tmp_path: Path) -> None:
    code = (
        "import os, sys; from ocirun.state import State, proc_start_time; "
        "s = State('x', os.getpid(), proc_start_time(os.getpid()), '/b', '/b/rootfs', 'now', "
        f"cgroup_paths={{'freezer': {str(tmp_path)!r}}}); "
        f"print(s.status({str(cdir)!r}), 'ocirun.cgroups' in sys.modules)"
    )
    (tmp_path / "freezer.state").write_text("THAWED\n")
    repo = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=repo).stdout
    assert out.split() == ["running", "False"]


def _wait_for_state(pid: int, letter: str) -> None:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        with open(f"/proc/{pid}/stat") as f:
            if f.read().rsplit(")", 1)[1].split()[0] == letter:
                return
        time.sleep(0.002)
    raise AssertionError(f"process {pid} did not reach state {letter}")


@pytest.fixture
def child() -> Iterator[tuple[int, int]]:
    """A forked child blocked on a pipe: (pid, write end of the pipe); reaped afterwards."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            os.close(w)
            os.read(r, 1)
        finally:
            os._exit(0)
    os.close(r)
    try:
        yield pid, w
    finally:
        with contextlib.suppress(OSError):
            os.close(w)
        with contextlib.suppress(ChildProcessError):  # the test reaped it
            os.waitpid(pid, 0)


def test_stopped_when_the_init_is_a_zombie(cdir: Path, child: tuple[int, int]) -> None:
    pid, w = child
    start = proc_start_time(pid)
    assert start is not None
    s = make_state(pid=pid, pid_start=start)
    assert s.status(str(cdir)) == st.RUNNING
    os.close(w)  # the child exits; nobody reaps it yet
    _wait_for_state(pid, "Z")
    assert proc_start_time(pid) is None
    assert s.status(str(cdir)) == st.STOPPED


def test_start_time_survives_a_strange_process_name(cdir: Path) -> None:
    """comm may hold spaces and parentheses: "x) Z 1 (" must not be read as state Z."""
    r, w = os.pipe()
    r2, w2 = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            os.close(w)
            os.close(r2)
            with open("/proc/self/comm", "w") as f:
                f.write("x) Z 1 (y")
            os.write(w2, b"1")
            os.read(r, 1)
        finally:
            os._exit(0)
    os.close(r)
    os.close(w2)
    try:
        os.read(r2, 1)
        with open(f"/proc/{pid}/comm") as f:
            assert f.read().strip() == "x) Z 1 (y"
        start = proc_start_time(pid)
        assert start is not None
        assert make_state(pid=pid, pid_start=start).status(str(cdir)) == st.RUNNING
    finally:
        os.close(w)
        os.close(r2)
        os.waitpid(pid, 0)


def test_stopped_when_the_process_is_gone(cdir: Path, child: tuple[int, int]) -> None:
    pid, w = child
    start = proc_start_time(pid)
    os.close(w)
    os.waitpid(pid, 0)
    s = make_state(pid=pid, pid_start=start or 0)
    assert s.status(str(cdir)) == st.STOPPED



def test_signal_when_the_pid_is_now_a_thread(thread_id: int) -> None:
    """The init's pid recycled as another process's thread (pidfd_open: EINVAL or ENOENT, not
    ESRCH): "container not running", not an internal error."""
    s = make_state(pid=thread_id, pid_start=1)
    with pytest.raises(InvalidState, match="container not running"):
        s.signal(9)


def test_delete_force_kill_when_the_pid_is_now_a_thread(thread_id: int) -> None:
    """delete --force of a container in the host pid namespace whose init is gone and its pid now
    a thread's: kill_all returns (it failed with an internal OSError EINVAL in the v2 guest)."""
    from ocirun.lifecycle.teardown import kill_all

    kill_all(make_state(pid=thread_id, pid_start=1, namespaces={"pid": ""}))


# ---------------------------------------------------------------------------- public state

PUBLIC_KEYS = ["ociVersion", "id", "pid", "status", "bundle", "rootfs", "created", "owner"]


def test_public_keys_and_values() -> None:
    s = make_state(pid=42, pid_start=1, owner="alice")
    out = s.public(st.RUNNING)
    assert list(out) == PUBLIC_KEYS
    assert out["ociVersion"] == st.OCI_VERSION
    assert (out["id"], out["pid"], out["status"]) == ("c1", 42, "running")
    assert (out["bundle"], out["rootfs"], out["owner"]) == ("/bundles/c1", "/bundles/c1/rootfs", "alice")
    assert out["created"] == "2026-11-30T09:00:00.000000000Z"


def test_public_pid_is_zero_when_stopped() -> None:
    assert make_state(pid=42, pid_start=1).public(st.STOPPED)["pid"] == 0
    assert make_state(pid=42, pid_start=1).public(st.CREATED)["pid"] == 42


def test_public_annotations_only_when_not_empty() -> None:
    assert "annotations" not in make_state().public(st.STOPPED)
    assert "annotations" not in make_state(annotations={}).public(st.STOPPED)
    out = make_state(annotations={"org.example": "1"}).public(st.STOPPED)
    assert out["annotations"] == {"org.example": "1"}
    assert list(out) == [*PUBLIC_KEYS, "annotations"]


def test_public_state_is_json() -> None:
    out = make_state(annotations={"a": "b"}).public(st.CREATED)
    assert json.loads(json.dumps(out)) == out


# ---------------------------------------------------------------------------- Store: ids


@pytest.mark.parametrize(
    "cid",
    [
        "a",
        "A",
        "0",
        "abc-DEF_123",
        "a.b",
        "a+b",
        "x..y",
        "_",
        "-",
        "+",
        "a" * 255,
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    ],
)
def test_valid_ids(cid: str) -> None:
    store.validate_id(cid)


@pytest.mark.parametrize(
    "cid",
    [
        ".",
        "..",
        ".hidden",
        "a/b",
        "/a",
        "a/",
        "../x",
        "a b",
        "a\tb",
        "a\nb",
        "a\0b",
        "é",
        "a:b",
        "a@b",
        "a*",
        "a\\b",
        "$x",
        "a~",
    ],
)
def test_invalid_ids(cid: str) -> None:
    with pytest.raises(InvalidArgument) as info:
        store.validate_id(cid)
    assert isinstance(info.value, ValueError)
    assert "invalid container ID format" in str(info.value)


def test_empty_id() -> None:
    with pytest.raises(InvalidArgument) as info:
        store.validate_id("")
    assert str(info.value) == "container id cannot be empty"


@pytest.mark.parametrize("method", ["new_dir", "load", "lock"])
def test_store_validates_ids(tmp_path: Path, method: str) -> None:
    with pytest.raises(InvalidArgument):
        getattr(store.Store(str(tmp_path)), method)("../escape")
    assert not (tmp_path.parent / "escape").exists()


# ---------------------------------------------------------------------------- Store: directories


def test_new_dir_creates_root_and_dir(tmp_path: Path) -> None:
    root = tmp_path / "deep" / "root"
    s = store.Store(str(root))
    path = s.new_dir("c1")
    assert path == str(root / "c1") == s.dir("c1")
    assert os.path.isdir(path)
    assert s.state_path("c1") == f"{root}/c1/state.json"
    assert s.fifo_path("c1") == f"{root}/c1/exec.fifo"


def test_new_dir_twice_is_container_exists(tmp_path: Path) -> None:
    s = store.Store(str(tmp_path))
    s.new_dir("c1")
    with pytest.raises(ContainerExists) as info:
        s.new_dir("c1")
    err: ContainerExists = info.value
    assert isinstance(err, FileExistsError) and isinstance(err, OciRunError)
    assert err.container_id == "c1"
    assert str(err) == "container with given ID already exists"


def test_new_dir_over_a_file_is_container_exists(tmp_path: Path) -> None:
    (tmp_path / "c1").write_text("")
    with pytest.raises(ContainerExists):
        store.Store(str(tmp_path)).new_dir("c1")


def test_new_dir_under_a_file_root_is_a_syscall_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(SyscallError) as info:
        store.Store(str(tmp_path / "file" / "root")).new_dir("c1")
    assert info.value.errno in (errno.ENOTDIR, errno.EEXIST)


def test_load_of_a_missing_container(tmp_path: Path) -> None:
    s = store.Store(str(tmp_path))
    with pytest.raises(ContainerNotFound) as info:
        s.load("nosuch")
    assert str(info.value) == "container does not exist"
    assert isinstance(info.value, LookupError)
    # a directory without state.json (create not finished) is not a container either
    s.new_dir("half")
    with pytest.raises(ContainerNotFound):
        s.load("half")
    # nor is anything under a root that does not exist
    with pytest.raises(ContainerNotFound):
        store.Store(str(tmp_path / "missing")).load("c1")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (b"", "empty file"),
        (b"\n", "empty file"),
        (b'{"id": "c1", "pid"', "not valid JSON (Expecting ':' delimiter: line 1 column 19 (char 18))"),
        (b"[1, 2]", "not a JSON object"),
        (b'{"id": "c1"}', "no 'pid'"),
        (b"\xff\xfe", "not UTF-8"),
        (b"[" * 100_000, "not a state record (nested too deeply)"),
    ],
)
def test_load_of_a_corrupt_state_file(tmp_path: Path, text: bytes, reason: str) -> None:
    s = store.Store(str(tmp_path))
    s.new_dir("c1")
    Path(s.state_path("c1")).write_bytes(text)
    with pytest.raises(store.StateUnreadable) as info:
        s.load("c1")
    assert str(info.value) == f"read state `{s.state_path('c1')}`: {reason}"


@pytest.mark.parametrize(
    ("key", "value", "reason"),
    [("pid", "12", "'pid' is not an int"), ("pid", True, "'pid' is not an int"),
     ("bundle", 1, "'bundle' is not a str"), ("cgroup_paths", [], "'cgroup_paths' is not a dict")],
)
def test_load_of_a_state_with_a_wrong_type(tmp_path: Path, key: str, value: Any, reason: str) -> None:
    s = store.Store(str(tmp_path))
    s.new_dir("c1")
    obj = make_state("c1").to_json()
    obj[key] = value
    Path(s.state_path("c1")).write_text(json.dumps(obj))
    with pytest.raises(store.StateUnreadable, match=reason):
        s.load("c1")


def test_cleanup_record_round_trip_and_damage(tmp_path: Path) -> None:
    s = store.Store(str(tmp_path))
    s.new_dir("c1")
    assert s.load_cleanup("c1") is None
    rec = store.Cleanup({"": "/sys/fs/cgroup/x"}, "/b/rootfs", False, "/b", "2026-01-01T00:00:00Z")
    s.save_cleanup("c1", rec)
    back = s.load_cleanup("c1")
    assert back is not None and back.to_json() == rec.to_json()
    for bad in (b"", b"{", b"[]", b'{"cgroup_paths": {"": "relative"}}', b'{"cgroup_paths": {}, "rootfs": 1}'):
        Path(tmp_path / "c1" / store.CLEANUP_FILE).write_bytes(bad)
        assert s.load_cleanup("c1") is None
    s.remove("c1")
    assert not (tmp_path / "c1").exists()


def test_new_locked_holds_the_lock_from_the_start(tmp_path: Path) -> None:
    s = store.Store(str(tmp_path))
    lock = s.new_locked("c1")
    try:
        assert s.locked("c1")
        with lock:
            assert s.locked("c1")
    finally:
        lock.__exit__()
    assert not s.locked("c1")


def test_delete_never_removes_the_directory_of_a_create_about_to_lock_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A delete that finds the new directory between create's mkdir and its flock (no state.json,
    lock free: it looks like a create that died) must not remove it."""
    import threading

    from ocirun.context import Context
    from ocirun.lifecycle import delete

    s = store.Store(str(tmp_path))
    in_window, go_on = threading.Event(), threading.Event()

    def pause(step: str) -> None:
        if step == "create:mkdir":
            in_window.set()
            assert go_on.wait(10)

    monkeypatch.setattr(store, "crash_point", pause)
    locks: list[store.Lock] = []
    creator = threading.Thread(target=lambda: locks.append(s.new_locked("c1")))
    creator.start()
    assert in_window.wait(10)
    deleter = threading.Thread(target=delete.delete, args=(Context(root=str(tmp_path)), "c1", True))
    deleter.start()
    time.sleep(0.2)  # the delete is waiting for the root's lock
    assert os.path.isdir(tmp_path / "c1")
    go_on.set()
    creator.join(10)
    (lock,) = locks
    assert os.fstat(lock.fd).st_ino == os.stat(lock.path).st_ino  # locked what is there
    s.save(make_state("c1"))  # the create went on; the delete waits for its lock meanwhile
    lock.__exit__()
    deleter.join(10)
    assert not deleter.is_alive() and not (tmp_path / "c1").exists()


def test_crash_point_kills_only_at_its_step(monkeypatch: pytest.MonkeyPatch) -> None:
    """OCIRUN_TEST_CRASH_AT (read once at import) names the one step where ocirun SIGKILLs itself."""
    kills: list[tuple[int, int]] = []
    monkeypatch.setattr(store.os, "kill", lambda pid, sig: kills.append((pid, sig)))
    monkeypatch.setattr(store, "_CRASH_AT", None)
    store.crash_point("create:ready")
    monkeypatch.setattr(store, "_CRASH_AT", b"create:ready")
    store.crash_point("create:saved")
    assert kills == []
    store.crash_point("create:ready")
    assert kills == [(os.getpid(), 9)]
