"""The errors ocirun raises.  Only ``ocirun.cli.main`` turns them into output and exit codes.

    OciRunError                          every error of ours; ``exit_code`` 1 unless said otherwise
     +-- InvalidArgument(ValueError)     bad command line, bad container id, bad signal ...
     +-- InvalidSpec(ValueError)         config.json is unusable: ``path`` (JSON path) and ``reason``
     +-- ContainerNotFound(LookupError)  no container with that id
     +-- ContainerExists(FileExistsError)
     +-- InvalidState                    the container's status forbids the operation (ocirun.state.TRANSITIONS)
     +-- SyscallError(OSError)           an operation on a path failed: ``op``, ``path``, ``errno``
     |    +-- ContainerInitError         a step of the container's init failed (carries the step)
     +-- CgroupError
     +-- HookError
     +-- CreateError                     ``primary`` plus the errors met while rolling back
     +-- ShimError                       the compiled shim is missing or of another ABI version

Messages follow runc's wording where runc has one, and crun's form for system calls:
"mount `proc` to `/proc`: Operation not permitted".
"""

from __future__ import annotations

from . import _os as os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence


class OciRunError(Exception):
    """Base class of all ocirun errors."""

    exit_code = 1


class InvalidArgument(OciRunError, ValueError):
    """A command-line argument, container id or option value is not acceptable."""


class InvalidSpec(OciRunError, ValueError):
    """config.json is not a valid runtime-spec configuration.

    ``path`` is a JSON path such as ``$.process.args`` (empty for the file as a whole).
    Reads "config.json: $.process.args: [] is too short".
    """

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"config.json: {path}: {reason}" if path else f"config.json: {reason}")


class ContainerNotFound(OciRunError, LookupError):
    """No container with this id exists under the state root."""

    def __init__(self, container_id: str = "") -> None:
        self.container_id = container_id
        super().__init__("container does not exist")


class ContainerExists(OciRunError, FileExistsError):
    """A container with this id already exists."""

    def __init__(self, container_id: str) -> None:
        self.container_id = container_id
        super().__init__("container with given ID already exists")


class InvalidState(OciRunError):
    """The container is not in a status that allows the operation: raised only through the one
    table of ocirun.state (``TRANSITIONS``, ``check``, ``refuse``), in runc's words."""


class SyscallError(OciRunError, OSError):
    """A system call on a path failed.

    Formats like crun: "<op> `<path>`: <strerror>", or "<op>: <strerror>" without a path.
    """

    def __init__(self, op: str, err: int, path: str | None = None, path2: str | None = None) -> None:
        self.op = op
        self.path = path
        self.path2 = path2
        OSError.__init__(self, err, os.strerror(err))

    def __str__(self) -> str:
        where = self.op
        if self.path is not None:
            where += f" `{self.path}`"
        if self.path2 is not None:
            where += f" to `{self.path2}`"
        return f"{where}: {self.strerror}"

    @classmethod
    def from_oserror(cls, op: str, exc: OSError, path: str | None = None) -> SyscallError:
        return cls(op, exc.errno or 0, path if path is not None else exc.filename)


class ContainerInitError(SyscallError):
    """A step of the container's init process failed; ``step`` is the plan's description of it."""

    def __init__(self, step: str, err: int, detail: str = "") -> None:
        self.step = step
        self.detail = detail
        super().__init__(step, err)

    def __str__(self) -> str:
        msg = f"{self.step}: {self.strerror}" if self.errno else self.step
        return f"{msg} ({self.detail})" if self.detail else msg


class CgroupError(OciRunError):
    """A cgroup could not be created, configured or removed."""


class HookError(OciRunError):
    """A lifecycle hook failed."""


class CreateError(OciRunError):
    """Create failed; rolling back met further errors, reported after the first one."""

    def __init__(self, primary: BaseException, cleanup: Sequence[BaseException]) -> None:
        self.primary = primary
        self.cleanup = list(cleanup)
        msg = str(primary)
        if cleanup:
            msg += ". error during cleanup: " + "; ".join(str(e) for e in cleanup)
        super().__init__(msg)


class ShimError(OciRunError):
    """The compiled part of ocirun is missing or does not match this Python code."""
