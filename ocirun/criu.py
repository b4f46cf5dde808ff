"""Talking to CRIU the way runc does: protobuf requests over ``criu swrk`` (criu's RPC service on a
socket it is given), with the notifications it sends while it works answered in between.

The messages are criu's own (``rpc.proto``), compiled: ``pycriu.rpc_pb2`` of Debian's ``criu``
package, which also brings python3-protobuf.  The venv does not see the system's packages, so when
``pycriu`` is not importable from it, the directory Debian installs it into is added at the end of
``sys.path``, on this path only (checkpoint and restore; nothing else imports this module).

A session: ``Swrk.start`` runs ``criu swrk <fd>`` with the extra fds a request names (inherit_fd,
the images and work directories), ``Swrk.call`` sends one request and answers each ``NOTIFY``
through a callback until criu's final response, which is checked: a failure raises CriuError with
the last error line of criu's log and where the log is.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from typing import TYPE_CHECKING, Any

from .errors import OciRunError, SyscallError

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

DIST_PACKAGES = "/usr/lib/python3/dist-packages"  # where Debian's criu package puts pycriu

# criu_cg_mode in rpc.proto, by runc's --manage-cgroups-mode names
CG_MODES = {"ignore": 0, "cg_none": 1, "props": 2, "soft": 3, "full": 4, "strict": 5}
CLONE_NEWNET = 0x40000000


DESCRIPTORS = "descriptors.json"  # runc's name: restore and podman read it
EXTERNAL_NS = {"network": ("net", "extRootNetNS"), "pid": ("pid", "extRootPidNS")}


def is_bind(m: dict[str, Any]) -> bool:
    return m.get("type") == "bind" or any(o in ("bind", "rbind") for o in m.get("options") or ())


def open_dir(path: str, flag: str, create: bool) -> int:
    """The directory ``path`` (made 0700 when ``create``), opened for criu (its fd is passed on)."""
    try:
        if create:
            os.makedirs(path, 0o700, exist_ok=True)
        return os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    except OSError as e:
        raise SyscallError.from_oserror(flag, e, path) from None


def common_opts(m: Any, opts: dict[str, Any]) -> dict[str, Any]:
    """The criu options checkpoint and restore take alike (runc's flags)."""
    out: dict[str, Any] = {
        "log_level": 4,
        "manage_cgroups": True,
        "notify_scripts": True,
        "orphan_pts_master": True,
        "shell_job": bool(opts.get("shell_job")),
        "tcp_established": bool(opts.get("tcp_established")),
        "ext_unix_sk": bool(opts.get("ext_unix_sk")),
        "file_locks": bool(opts.get("file_locks")),
        "auto_dedup": bool(opts.get("auto_dedup")),
        "lazy_pages": bool(opts.get("lazy_pages")),
        "empty_ns": empty_ns_flags(opts.get("empty_ns") or []),
    }
    mode = cg_mode(opts.get("manage_cgroups_mode"))
    if mode is not None:
        out["manage_cgroups_mode"] = mode
    return out


class CriuError(OciRunError):
    pass


def rpc() -> Any:
    """The compiled rpc.proto (pycriu.rpc_pb2); CriuError naming the package when it is missing.

    The module is loaded alone: ``import pycriu`` runs the package's __init__, which also loads its
    image messages (some 80 .proto modules) that the RPC never uses: 3.5 s against 1.4 s in the
    emulated guest, for each checkpoint and restore (60 ms against 20 ms natively)."""
    module = sys.modules.get("pycriu.rpc_pb2")
    if module is not None:
        return module
    import importlib.util

    path = next((os.path.join(d, "pycriu", "rpc_pb2.py") for d in (*sys.path, DIST_PACKAGES)
                 if os.path.isfile(os.path.join(d or ".", "pycriu", "rpc_pb2.py"))), None)
    if path is None:
        raise CriuError("checkpoint/restore needs criu's python messages (pycriu.rpc_pb2 and protobuf): "
                        "install Debian's criu package")
    if DIST_PACKAGES not in sys.path:
        sys.path.append(DIST_PACKAGES)  # protobuf (python3-protobuf), if the venv has none
    spec = importlib.util.spec_from_file_location("pycriu.rpc_pb2", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except ImportError as e:
        raise CriuError(f"checkpoint/restore: criu's python messages need protobuf: {e}") from None
    sys.modules["pycriu.rpc_pb2"] = module
    return module


def find(path: str | None) -> str:
    """The criu binary: ``--criu PATH`` (or ``criu`` in $PATH); a clear error naming it when absent."""
    name = path or "criu"
    if "/" in name:
        if os.access(name, os.X_OK) and not os.path.isdir(name):
            return name
        raise CriuError(f"checkpoint/restore needs criu: `{name}` (--criu) is not an executable file")
    for d in (os.environ.get("PATH") or "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin").split(":"):
        full = os.path.join(d or ".", name)
        if os.access(full, os.X_OK) and not os.path.isdir(full):
            return full
    raise CriuError(f"checkpoint/restore needs criu: `{name}` not found in $PATH (install criu, or give --criu PATH)")


def first_error(log_path: str) -> str:
    """The first ``Error (...)`` line of a criu log (the cause; the last ones say "FAILED"), without
    criu's source position; "" if none."""
    try:
        with open(log_path, "rb") as f:
            lines = f.read().decode(errors="replace").splitlines()
    except OSError:
        return ""
    for line in lines:
        at = line.find("Error (")
        if at >= 0:
            text = line[at:]
            close = text.find("):")
            return text[close + 2:].strip() if close >= 0 else text
    return ""


class Swrk:
    """One ``criu swrk`` process and our end of its socket."""

    def __init__(self, proc: subprocess.Popen[bytes], sock: socket.socket) -> None:
        self.proc = proc
        self.sock = sock

    @classmethod
    def start(cls, criu: str, pass_fds: Sequence[int] = (), stdio: Sequence[int] | None = None,
              before: Callable[[int], None] | None = None) -> Swrk:
        """``criu swrk``; ``before(pid)`` runs before any request (restore puts criu into the
        container's cgroups there, so that what it restores is born in them)."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            stdin, stdout, stderr = stdio if stdio is not None else (subprocess.DEVNULL,) * 3
            proc = subprocess.Popen(
                [criu, "swrk", str(theirs.fileno())], pass_fds=(theirs.fileno(), *pass_fds),
                stdin=stdin, stdout=stdout, stderr=stderr,
            )
        except OSError as e:
            ours.close()
            raise CriuError(f"run `{criu}`: {e.strerror}") from None
        finally:
            theirs.close()
        swrk = cls(proc, ours)
        if before is not None:
            try:
                before(proc.pid)
            except BaseException:
                swrk.kill()
                raise
        return swrk

    def _send(self, req: Any) -> None:
        self.sock.send(req.SerializeToString())

    def _recv(self, fds: list[int] | None = None) -> Any:
        import array

        anc = socket.CMSG_SPACE(4 * 4)
        data, ancdata, _flags, _addr = self.sock.recvmsg(1 << 20, anc)
        for level, kind, payload in ancdata:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                got = array.array("i")
                got.frombytes(payload[: len(payload) - len(payload) % got.itemsize])
                if fds is not None:
                    fds.extend(got)
                else:
                    for fd in got:
                        os.close(fd)
        if not data:
            raise CriuError("criu exited before it answered" + self._exit_note())
        resp = rpc().criu_resp()
        resp.ParseFromString(data)
        return resp

    def _exit_note(self) -> str:
        try:
            code = self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            return ""
        return f" (exit status {code})"

    def call(self, req: Any, what: str, log_path: str,
             on_notify: Callable[[str, int, list[int]], None] | None = None) -> Any:
        """Sends ``req``; answers criu's notifications (``on_notify(script, pid, fds)``; an
        exception there fails the request); returns criu's final response, or raises CriuError."""
        m = rpc()
        self._send(req)
        while True:
            fds: list[int] = []
            resp = self._recv(fds)
            if resp.type != m.NOTIFY:
                for fd in fds:
                    os.close(fd)
                break
            ok = True
            try:
                if on_notify is not None:
                    on_notify(resp.notify.script, resp.notify.pid, fds)
            except BaseException:
                ok = False
                raise
            finally:
                for fd in fds:
                    try:
                        os.close(fd)
                    except OSError:
                        pass
                reply = m.criu_req(type=m.NOTIFY, notify_success=ok)
                try:
                    self._send(reply)
                except OSError:
                    pass
        if not resp.success:
            reason = first_error(log_path) or resp.cr_errmsg or (
                os.strerror(resp.cr_errno) if resp.cr_errno else "failed")
            raise CriuError(f"{what}: criu failed: {reason} (log: {log_path})")
        return resp

    def check_features(self, **wanted: bool) -> dict[str, bool]:
        """criu's FEATURE_CHECK: which of ``wanted`` (mem_track, lazy_pages) it supports."""
        m = rpc()
        req = m.criu_req(type=m.FEATURE_CHECK, features=m.criu_features(**wanted))
        self._send(req)
        resp = self._recv()
        return {name: bool(getattr(resp.features, name, False)) for name in wanted}

    def kill(self) -> None:
        self.sock.close()
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()

    def close(self) -> int:
        """Ends the session; criu's exit status."""
        self.sock.close()
        try:
            return self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()


def check_lazy_pages(criu_path: str) -> None:
    swrk = Swrk.start(criu_path)
    try:
        if not swrk.check_features(lazy_pages=True)["lazy_pages"]:
            raise CriuError("--lazy-pages: this criu (or kernel) does not support lazy pages (userfaultfd)")
    finally:
        swrk.close()


def ns_inode(path: str) -> int:
    return os.stat(path).st_ino


def empty_ns_flags(names: Sequence[str]) -> int:
    """--empty-ns: runc takes "network" only (the namespace is made, its contents not restored)."""
    flags = 0
    for name in names:
        if name not in ("network", "net"):
            raise CriuError(f"--empty-ns: namespace {name!r} is not supported (only network)")
        flags |= CLONE_NEWNET
    return flags


def cg_mode(name: str | None) -> int | None:
    """--manage-cgroups-mode: ignore, soft, full, strict (runc's values; criu's cg_none, props too)."""
    if not name:
        return None
    try:
        return CG_MODES[name]
    except KeyError:
        raise CriuError(f"--manage-cgroups-mode: invalid mode {name!r} (ignore, soft, full or strict)") from None
