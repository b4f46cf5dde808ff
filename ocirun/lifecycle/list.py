"""list: the containers under the state root, as runc's table, JSON, or ids only."""

from __future__ import annotations

from .. import _os as os
from .._json import dumps
from ..errors import OciRunError
from ..store import Store

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ..context import Context

COLUMNS = ("ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER")


def list_containers(ctx: Context) -> list[dict[str, Any]]:
    """The public state of every container (ones whose state cannot be read are left out), with
    the owner filled in as runc's list does."""
    store = Store(ctx.root)
    out = []
    for cid in store.ids():
        try:
            st = store.load(cid)
        except OciRunError:
            continue
        public = st.public(st.status(store.dir(cid)))
        public["owner"] = public["owner"] or _owner(store.dir(cid))
        out.append(public)
    return out


def _owner(path: str) -> str:
    """The name of the user owning the container's state directory (runc's list does this)."""
    import pwd

    try:
        uid = os.stat(path).st_uid
        return pwd.getpwuid(uid).pw_name
    except (OSError, KeyError):
        return ""


def table(rows: list[list[str]]) -> str:
    """Go's tabwriter as runc sets it up: columns of at least 12, 3 spaces of padding."""
    widths = [max(12, *(len(r[i]) + 3 for r in rows)) for i in range(len(rows[0]))]
    return "".join(
        "".join(c.ljust(w) if i < len(r) - 1 else c for i, (c, w) in enumerate(zip(r, widths, strict=True))) + "\n"
        for r in rows
    )


def command(ctx: Context, opts: dict[str, Any], args: list[str]) -> int:
    states = list_containers(ctx)
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
