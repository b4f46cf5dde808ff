"""ocirun's command line: runc's commands, flags and exit codes.

The argument parser is a small one of our own (argparse costs milliseconds to import, more than
``ocirun state`` may take in all), following the Go flag conventions runc's users type: ``-f`` and
``--force``, ``--root=/x`` and ``--root /x``, boolean flags without values.  Each command lives in
ocirun.lifecycle.<module> and is imported only when it runs (pip's lazy commands).

This is the only place that prints errors and picks exit codes: any OciRunError becomes one line
(on stderr, and as a "level":"error" record in the --log file) and exit status 1.
"""

from __future__ import annotations

import sys

from . import __version__
from . import _os as os
from .errors import InvalidArgument, OciRunError
from .spec import SPEC_VERSION

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from .context import Context
    from .log import Logger


class Flag:
    __slots__ = ("default", "dest", "help", "kind", "names")

    def __init__(self, names: str, kind: type, help: str, default: Any = None, dest: str | None = None) -> None:
        self.names = tuple(names.split(","))
        self.kind = kind
        self.help = help
        self.default = default if default is not None else (False if kind is bool else [] if kind is list else None)
        self.dest = dest or self.names[0].replace("-", "_")


class Command:
    __slots__ = ("_flags", "interspersed", "module", "nargs", "summary", "usage")

    def __init__(
        self,
        module: str,
        summary: str,
        usage: str,
        nargs: tuple[int, int | None],
        flags: tuple[Flag, ...] | Callable[[], tuple[Flag, ...]] = (),
        interspersed: bool = True,
    ) -> None:
        self.module = module
        self.summary = summary
        self.usage = usage
        self.nargs = nargs
        self._flags = flags
        self.interspersed = interspersed

    @property
    def flags(self) -> tuple[Flag, ...]:
        """The command's flags; a long list is made only when that command runs (``state``, the
        hot path, does not pay for checkpoint's or update's)."""
        if callable(self._flags):
            self._flags = self._flags()
        return self._flags


_BUNDLE = Flag("bundle,b", str, "path to the root of the bundle directory", default=".")
_CONSOLE = Flag("console-socket", str, "path to an AF_UNIX socket which will receive the pty master fd")
_PIDFILE = Flag("pid-file", str, "file to write the container init's pid to")
_NOPIVOT = Flag("no-pivot", bool, "do not use pivot_root to jail the process inside the rootfs")
_KEYRING = Flag("no-new-keyring", bool, "do not create a new session keyring for the container")
_PIDFD = Flag("pidfd-socket", str, "path to an AF_UNIX socket which will receive a file descriptor referencing "
               "the process")
_PRESERVE = Flag("preserve-fds", int, "number of additional fds (after 3) to pass on", default=0)


def _criu_flags() -> dict[str, Flag]:
    """The flags checkpoint and restore share (runc's)."""
    return {
        "image": Flag("image-path", str, "path for saving criu image files (default: ./checkpoint)"),
        "work": Flag("work-path", str, "path for saving work files and logs (default: the image path)"),
        "tcp": Flag("tcp-established", bool, "allow open tcp connections"),
        "ext_unix": Flag("ext-unix-sk", bool, "allow external unix sockets"),
        "shell_job": Flag("shell-job", bool, "allow shell jobs"),
        "lazy": Flag("lazy-pages", bool, "use userfaultfd to lazily restore memory pages"),
        "locks": Flag("file-locks", bool, "handle file locks, for safety"),
        "cg_mode": Flag("manage-cgroups-mode", str, "cgroups mode: 'soft' (default), 'full', 'strict' and 'ignore'"),
        "empty_ns": Flag("empty-ns", list, "create a namespace, but don't restore its properties (network only)"),
        "dedup": Flag("auto-dedup", bool, "enable auto deduplication of memory images"),
    }


def _checkpoint_flags() -> tuple[Flag, ...]:
    c = _criu_flags()
    return (
        c["image"], c["work"],
        Flag("parent-path", str, "path for previous criu image files in pre-dump"),
        Flag("leave-running", bool, "leave the process running after checkpointing"),
        c["tcp"], c["ext_unix"], c["shell_job"], c["lazy"],
        Flag("status-fd", int, "criu writes \\0 to this FD once lazy-pages is ready", default=-1),
        Flag("page-server", str, "ADDRESS:PORT of the page server"),
        c["locks"],
        Flag("pre-dump", bool, "dump container's memory information only, leave the container running after this"),
        c["cg_mode"], c["empty_ns"], c["dedup"],
    )


def _restore_flags() -> tuple[Flag, ...]:
    c = _criu_flags()
    return (
        _CONSOLE, c["image"], c["work"], c["tcp"], c["ext_unix"], c["shell_job"], c["locks"], c["cg_mode"], _BUNDLE,
        Flag("detach,d", bool, "detach from the container's process"),
        _PIDFILE,
        Flag("no-subreaper", bool, "disable the use of the subreaper used to reap reparented processes"),
        _NOPIVOT, c["empty_ns"], c["dedup"], c["lazy"],
        Flag("lsm-profile", str, "Specify an LSM profile to be used during restore in the form of TYPE:NAME"),
        Flag("lsm-mount-context", str, "Specify an LSM mount context to be used during restore"),
    )


COMMANDS: dict[str, Command] = {
    "create": Command(
        "create", "create a container", "<container-id>", (1, 1),
        (_BUNDLE, _CONSOLE, _PIDFD, _PIDFILE, _NOPIVOT, _KEYRING, _PRESERVE),
    ),
    "start": Command("start", "start a created container", "<container-id>", (1, 1)),
    "state": Command("state", "output the state of a container", "<container-id>", (1, 1)),
    "kill": Command(
        "kill", "send a signal to the container's init process", "<container-id> [signal]", (1, 2),
        (Flag("all,a", bool, "send the signal to all processes in the container"),),
    ),
    "delete": Command(
        "delete", "delete a container and the resources it holds", "<container-id>", (1, 1),
        (Flag("force,f", bool, "forcibly delete the container if it is still running (uses SIGKILL)"),),
    ),
    "run": Command(
        "run", "create and start a container", "<container-id>", (1, 1),
        (
            _BUNDLE, _CONSOLE, _PIDFD,
            Flag("detach,d", bool, "detach from the container's process"),
            Flag("keep", bool, "do not delete the container after it exits"),
            _PIDFILE,
            Flag("no-subreaper", bool, "disable the use of the subreaper used to reap reparented processes"),
            _NOPIVOT, _KEYRING, _PRESERVE,
        ),
    ),
    "list": Command(
        "list", "list containers started by ocirun with the given root", "", (0, 0),
        (
            Flag("format,f", str, "select one of: table or json", default="table"),
            Flag("quiet,q", bool, "display only container IDs"),
        ),
    ),
    "spec": Command(
        "spec_", "create a new specification file", "", (0, 0),
        (
            _BUNDLE, Flag("rootless", bool, "generate a configuration for a rootless container"),
            Flag("seccomp-default", bool, "add ocirun's default seccomp profile (not in runc's spec)"),
        ),
    ),
    "features": Command("features", "show the enabled features", "", (0, 0)),
    "exec": Command(
        "exec_", "execute new process inside the container", "<container-id> <command> [command options]",
        (1, None),
        lambda: (
            _CONSOLE, _PIDFD,
            Flag("cwd", str, "current working directory in the container"),
            Flag("env,e", list, "set environment variables"),
            Flag("tty,t", bool, "allocate a pseudo-TTY"),
            Flag("user,u", str, "UID (format: <uid>[:<gid>])"),
            Flag("additional-gids,g", list, "additional gids"),
            Flag("process,p", str, "path to the process.json"),
            Flag("detach,d", bool, "detach from the container's process"),
            _PIDFILE,
            Flag("process-label", str, "set the asm process label for the process commonly used with selinux"),
            Flag("apparmor", str, "set the apparmor profile for the process"),
            Flag("no-new-privs", bool, "set the no new privileges value for the process"),
            Flag("cap,c", list, "add a capability to the bounding, effective, permitted and ambient sets"),
            _PRESERVE,
            Flag("cgroup", list, "run the process in an (existing) sub-cgroup(s)"),
            Flag("ignore-paused", bool, "allow exec in a paused container"),
        ),
        interspersed=False,
    ),
    "pause": Command("pause", "suspend all processes inside the container", "<container-id>", (1, 1)),
    "resume": Command("resume", "resume all processes that have been previously paused", "<container-id>", (1, 1)),
    "ps": Command(
        "ps_", "ps displays the processes running inside a container", "<container-id> [ps options]", (1, None),
        (Flag("format,f", str, "select one of: table or json", default="table"),),
        interspersed=False,
    ),
    "events": Command(
        "events", "display container events such as OOM notifications, cpu, memory, and IO usage statistics",
        "<container-id>", (1, 1),
        (
            Flag("interval", str, "set the stats collection interval", default="5s"),
            Flag("stats", bool, "display the container's stats then exit"),
        ),
    ),
    "update": Command(
        "update", "update container resource constraints", "<container-id>", (1, 1),
        lambda: (
            Flag("resources,r", str, "path to the file containing the resources to update or '-' to read from stdin"),
            Flag("blkio-weight", int, "specifies per cgroup weight, range is from 10 to 1000"),
            Flag("cpu-period", str, "CPU CFS period to be used for hardcapping (in usecs). 0 to use system default"),
            Flag("cpu-quota", str, "CPU CFS hardcap limit (in usecs). Allowed cpu time in a given period"),
            Flag("cpu-burst", str, "CPU CFS hardcap burst limit (in usecs). Allowed accumulated cpu time "
                 "additionally for burst a given period"),
            Flag("cpu-share", str, "CPU shares (relative weight vs. other containers)"),
            Flag("cpu-rt-period", str, "CPU realtime period to be used for hardcapping (in usecs). "
                 "0 to use system default"),
            Flag("cpu-rt-runtime", str, "CPU realtime hardcap limit (in usecs). Allowed cpu time in a given period"),
            Flag("cpuset-cpus", str, "CPU(s) to use"),
            Flag("cpuset-mems", str, "Memory node(s) to use"),
            Flag("kernel-memory", str, "(obsoleted; do not use)"),
            Flag("kernel-memory-tcp", str, "(obsoleted; do not use)"),
            Flag("memory", str, "Memory limit (in bytes)"),
            Flag("cpu-idle", str, "set cgroup SCHED_IDLE or not, 0: default behavior, 1: SCHED_IDLE"),
            Flag("memory-reservation", str, "Memory reservation or soft_limit (in bytes)"),
            Flag("memory-swap", str, "Total memory usage (memory + swap); set '-1' to enable unlimited swap"),
            Flag("pids-limit", int, "Maximum number of pids allowed in the container"),
            Flag("l3-cache-schema", str, "The string of Intel RDT/CAT L3 cache schema"),
            Flag("mem-bw-schema", str, "The string of Intel RDT/MBA memory bandwidth schema"),
        ),
    ),
    "checkpoint": Command("checkpoint", "checkpoint a running container", "<container-id>", (1, 1),
                          _checkpoint_flags),
    "restore": Command("restore", "restore a container from a previous checkpoint", "<container-id>", (1, 1),
                       _restore_flags),
}
ALIASES = {"ps_": "ps"}

GLOBAL_FLAGS = (
    Flag("debug", bool, "enable debug logging"),
    Flag("log", str, "set the log file to write ocirun logs to (default is stderr)"),
    Flag("log-format", str, "set the log format ('text' (default), or 'json')", default="text"),
    Flag("root", str, "root directory for storage of container state (default: \"/run/ocirun\", "
         "or $XDG_RUNTIME_DIR/ocirun for a non-root caller)"),
    Flag("criu", str, "path to the criu binary used for checkpoint and restore", default="criu"),
    Flag("systemd-cgroup", bool, "use systemd for cgroups (needs a running systemd)"),
    Flag("rootless", str, "ignore cgroup permission errors ('true', 'false', or 'auto')", default="auto"),
    Flag("help,h", bool, "show help"),
    Flag("version,v", bool, "print the version"),
)

_TRUE = {"1", "t", "T", "true", "TRUE", "True"}
_FALSE = {"0", "f", "F", "false", "FALSE", "False"}


def parse_flags(
    argv: list[str], flags: tuple[Flag, ...], interspersed: bool
) -> tuple[dict[str, Any], list[str]]:
    """Go-style flags: -x, --x, -x=v, --x v; booleans take no value (or =true/=false).

    With ``interspersed`` false, parsing stops at the first positional argument (runc exec: the
    container's command and its own flags follow the id).
    """
    by_name = {n: f for f in flags for n in f.names}
    opts: dict[str, Any] = {f.dest: f.default for f in flags}
    args: list[str] = []
    i = 0
    while i < len(argv):
        a = argv[i]
        i += 1
        if a == "--":
            args.extend(argv[i:])
            break
        if len(a) < 2 or a[0] != "-":
            args.append(a)
            if not interspersed:
                args.extend(argv[i:])
                break
            continue
        name, eq, value = a.lstrip("-").partition("=")
        flag = by_name.get(name)
        if flag is None:
            raise InvalidArgument(f"flag provided but not defined: -{name}")
        if flag.kind is bool:
            if not eq:
                opts[flag.dest] = True
            elif value in _TRUE or value in _FALSE:
                opts[flag.dest] = value in _TRUE
            else:
                raise InvalidArgument(f'invalid boolean value "{value}" for -{name}: parse error')
            continue
        if not eq:
            if i >= len(argv):
                raise InvalidArgument(f"flag needs an argument: -{name}")
            value = argv[i]
            i += 1
        if flag.kind is list:  # repeatable: -e A=1 -e B=2
            opts[flag.dest] = [*opts[flag.dest], value]
        elif flag.kind is int:
            try:
                opts[flag.dest] = int(value, 0)
            except ValueError:
                raise InvalidArgument(f'invalid value "{value}" for flag -{name}: parse error') from None
        else:
            opts[flag.dest] = value
    return opts, args


def _flag_help(flags: tuple[Flag, ...]) -> str:
    lines = []
    for f in flags:
        names = ", ".join(("--" if len(n) > 1 else "-") + n for n in f.names)
        if f.kind is not bool:
            names += " value"
        default = f' (default: "{f.default}")' if f.kind is not bool and f.default not in (None, "") else ""
        lines.append(f"   {names:<28} {f.help}{default}")
    return "\n".join(lines)


def build_commit() -> str:
    """The commit ocirun was built from (written by setup.py's build_ext), as runc's ``commit:``."""
    from . import _os as os

    path = os.path.join(os.path.dirname(__file__), "libexec", "commit")
    try:
        with open(path, "rb") as f:
            return f.read().decode().strip() or "unknown"
    except OSError:
        return "unknown"


def version_text() -> str:
    """``--version``: runc's lines (``runc --version``), python's instead of go's."""
    try:
        from .seccomp import libseccomp_version

        libseccomp = libseccomp_version()
    except Exception:  # no shim: still a version line
        libseccomp = "unknown"
    python = ".".join(str(n) for n in sys.version_info[:3])
    return (
        f"ocirun version {__version__}\ncommit: {build_commit()}\nspec: {SPEC_VERSION}\n"
        f"python: {python}\nlibseccomp: {libseccomp}\n"
    )


def usage() -> str:
    cmds = "\n".join(f"     {name:<10} {c.summary}" for name, c in COMMANDS.items())
    return (
        "NAME:\n   ocirun - an Open Container Initiative runtime (runc-compatible), in Python\n\n"
        "USAGE:\n   ocirun [global options] command [command options] [arguments...]\n\n"
        f"VERSION:\n   {__version__}\n   spec: {SPEC_VERSION}\n\n"
        f"COMMANDS:\n{cmds}\n     help       show a list of commands or help for one command\n\n"
        f"GLOBAL OPTIONS:\n{_flag_help(GLOBAL_FLAGS)}\n"
    )


def command_usage(name: str, cmd: Command) -> str:
    out = f"NAME:\n   ocirun {name} - {cmd.summary}\n\nUSAGE:\n   ocirun {name} [command options] {cmd.usage}\n"
    if cmd.flags:
        out += f"\nOPTIONS:\n{_flag_help(cmd.flags)}\n"
    return out


def _getenv(name: str) -> str:
    return bytes(os.environ.get(name.encode(), b"")).decode(errors="surrogateescape")


def _write(text: str, fd: int = 1) -> None:
    os.write(fd, text.encode())


def run_command(ctx: Context, name: str, argv: list[str]) -> int:
    cmd = COMMANDS[name]
    opts, args = parse_flags(argv, (*cmd.flags, Flag("help,h", bool, "show help")), cmd.interspersed)
    if opts.pop("help"):
        _write(command_usage(name, cmd))
        return 0
    low, high = cmd.nargs
    if len(args) < low or (high is not None and len(args) > high):
        if low == high:
            raise InvalidArgument(f'ocirun: "{name}" requires exactly {low} argument(s)')
        if len(args) < low:
            raise InvalidArgument(f'ocirun: "{name}" requires a minimum of {low} argument(s)')
        raise InvalidArgument(f'ocirun: "{name}" requires a maximum of {high} argument(s)')
    module = __import__(f"ocirun.lifecycle.{cmd.module}", fromlist=["command"])
    return int(module.command(ctx, opts, args) or 0)


def main(argv: list[str] | None = None) -> int:
    if argv is None:
        argv = sys.argv[1:]
    from .context import Context
    from .log import Logger

    log = Logger()
    try:
        gopts, rest = parse_flags(argv, GLOBAL_FLAGS, interspersed=False)
        if gopts["log_format"] not in ("text", "json"):
            raise InvalidArgument(f"unknown log-format {gopts['log_format']!r}")
        if gopts["version"]:
            _write(version_text())
            return 0
        log = Logger(gopts["log"], gopts["log_format"], gopts["debug"])
        if gopts["log"]:
            try:
                log.open()
            except OSError as e:
                log = Logger()
                raise OciRunError(f"open log file `{gopts['log']}`: {e.strerror}") from None
        if not rest or gopts["help"] or rest[0] == "help":
            if len(rest) > 1 and rest[0] == "help" and rest[1] in COMMANDS:
                _write(command_usage(rest[1], COMMANDS[rest[1]]))
            else:
                _write(usage())
            return 0
        name = rest[0]
        if name not in COMMANDS:
            raise InvalidArgument(f"ocirun: no such command: {name}")
        from .context import default_root

        root = os.path.abspath(gopts["root"] or default_root(os.geteuid(), _getenv("XDG_RUNTIME_DIR"),
                                                           _getenv("USER") if b"USER" in os.environ else None))
        ctx = Context(root=root, log=log, systemd_cgroup=gopts["systemd_cgroup"], rootless=gopts["rootless"],
                      criu=gopts["criu"])
        return run_command(ctx, name, rest[1:])
    except OciRunError as e:
        return _fail(log, str(e), e.exit_code)
    except KeyboardInterrupt:
        return _fail(log, "interrupted", 130)
    except Exception as e:  # a bug: still one line, the traceback only with --debug
        if log.level <= 10:
            import traceback

            log.debug(traceback.format_exc())
        return _fail(log, f"internal error: {type(e).__name__}: {e}", 1)
    finally:
        log.close()


def launch(argv: list[str]) -> None:
    """Runs main and leaves the process at once, skipping the interpreter's finalization (about
    1 ms, a seventh of ``ocirun state``).  All of ocirun's output is written unbuffered."""
    code = main(argv)
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:
            stream.flush()
    os._exit(code)


_LINE_BREAKS = {i: f"\\x{i:02x}" for i in (*range(0x20), 0x7F)}  # (tab stays)
_LINE_BREAKS.update({0x0A: "\\n", 0x0D: "\\r", 0x09: "\t", 0x85: "\\x85", 0x2028: "\\u2028", 0x2029: "\\u2029"})


def _fail(log: Logger, msg: str, code: int) -> int:
    # One line, whatever the message quotes (a JSON key with a "\r" in config.json, say).
    msg = msg.translate(_LINE_BREAKS)
    log.error(msg)
    if not log.to_stderr:
        _write(msg + "\n", 2)
    return code
