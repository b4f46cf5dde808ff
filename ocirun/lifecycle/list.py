"""list: the containers under the state root, as runc's table, JSON, or ids only."""

from __future__ import annotations

from .. import _os as os
from .._json import dumps
from ..errors import OciRunError
from ..store import Store

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from ..context import Context

COLUMNS = ("ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER")


UNKNOWN = "unknown"


def list_containers(ctx: Context, warn: Callable[[str], None] | None = None) -> list[dict[str, Any]]:
    """The public state of every container, with the owner filled in as runc's list does.

    One whose state cannot be read is listed too, with pid 0 and status "creating" while a create
    holds its lock (it has no state.json yet), else "unknown" (``delete --force`` removes it),
    and ``warn`` is told why, as runc warns ("load container <id>: ...")."""
    store = Store(ctx.root)
    out = []
    for cid in store.ids():
        try:
            st = store.load(cid)
        except OciRunError as e:
            public = _unreadable(store, cid)
            if public["status"] == UNKNOWN and warn is not None:
                warn(f"load container {cid}: {e}")
        else:
            public = st.public(st.status(store.dir(cid)))
        public["owner"] = public["owner"] or _owner(store.dir(cid))
        out.append(public)
    return out


def _unreadable(store: Store, cid: str) -> dict[str, Any]:
    """The row of a container without a readable state.json, from its cleanup.json if it has one."""
    from ..state import CREATING, OCI_VERSION

    cleanup = store.load_cleanup(cid)
    return {
        "ociVersion": OCI_VERSION,
        "id": cid,
        "pid": 0,
        "status": CREATING if store.locked(cid) else UNKNOWN,
        "bundle": cleanup.bundle if cleanup is not None else "",
        "rootfs": cleanup.rootfs if cleanup is not None else "",
        "created": cleanup.created if cleanup is not None else "",
        "owner": "",
    }


def _owner(path: str) -> str:
    """The name of the user owning the container's state directory (runc's list does this)."""
    import pwd

    try:
        uid = os.stat(path).st_uid
        return pwd.getpwuid(uid).pw_name
    except (OSError, KeyError):
        return ""


def _warn(msg: str) -> None:
    """As runc's list warns: on stderr, whatever --log says."""
    os.write(2, msg.encode() + b"\n")


def table(rows: list[list[str]]) -> str:
    """Go's tabwriter as runc sets it up: columns of at least 12, 3 spaces of padding."""
    widths = [max(12, *(len(r[i]) + 3 for r in rows)) for i in range(len(rows[0]))]
    return "".join(
        "".join(c.ljust(w) if i < len(r) - 1 else c for i, (c, w) in enumerate(zip(r, widths, strict=True))) + "\n"
        for r in rows
    )


def command(ctx: Context, opts: dict[str, Any], args: list[str]) -> int:
    states = list_containers(ctx, warn=_warn)
    if opts["quiet"]:
        text = "".join(s["id"] + "\n" for s in states)
    elif opts["format"] == "json":
        text = dumps(states) + "\n"
    elif opts["format"] == "table":
        rows = [list(COLUMNS)] + [
            [s["id"], str(s["pid"]), s["status"], s["bundle"], s["created"], s["owner"]] for s in states
        ]
        text = table(rows)
    else:
        raise OciRunError(f"invalid format option {opts['format']!r}")
    os.write(1, text.encode())
    return 0
