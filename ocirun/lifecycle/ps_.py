"""ps: the processes of a container, as pids (``--format json``) or as ps(1)'s table, filtered to
the container's processes (``ps -ef`` unless other ps arguments follow the id), like runc's."""

from __future__ import annotations

from .. import _os as os
from .._json import dumps
from ..errors import InvalidArgument, OciRunError
from ..store import Store

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ..context import Context


def pids(ctx: Context, container_id: str) -> list[int]:
    """The pids in the container's cgroups (those below it included)."""
    from ..cgroups import Manager

    st = Store(ctx.root).load(container_id)
    return Manager.from_json(st.cgroup_paths).pids() if st.cgroup_paths else []


def table(container_pids: list[int], ps_args: list[str]) -> str:
    """ps(1)'s output with its header and the lines of ``container_pids`` only."""
    import subprocess

    try:
        proc = subprocess.run(["ps", *(ps_args or ["-ef"])], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    except OSError as e:
        raise OciRunError(f'exec: "ps": {e.strerror}') from None
    output = proc.stdout.decode(errors="replace")
    if proc.returncode != 0:
        raise OciRunError(f"exit status {proc.returncode}: {output}")
    lines = output.split("\n")
    titles = lines[0].split()
    if "PID" not in titles:
        raise OciRunError("couldn't find PID field in ps output")
    index = titles.index("PID")
    wanted = set(container_pids)
    out = [lines[0]]
    for line in lines[1:]:
        fields = line.split()
        if not fields:
            continue
        try:
            pid = int(fields[index])
        except (ValueError, IndexError):
            raise OciRunError(f"unable to parse pid: {line!r}") from None
        if pid in wanted:
            out.append(line)
    return "\n".join(out) + "\n"


def command(ctx: Context, opts: dict[str, Any], args: list[str]) -> int:
    found = pids(ctx, args[0])
    fmt = opts["format"]
    if fmt == "json":
        os.write(1, ((dumps(found) if found else "null") + "\n").encode())
    elif fmt == "table":
        os.write(1, table(found, args[1:]).encode())
    else:
        raise InvalidArgument("invalid format option")
    return 0
