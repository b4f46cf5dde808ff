"""create: set a container up and leave its init waiting for ``start`` (runtime.md "Create").

The transaction itself is ocirun.lifecycle.creating (shared with run and the library).
"""

from __future__ import annotations

from .creating import CreateOptions, create
from .launching import listen_fds

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ..context import Context


def command(ctx: Context, opts: dict[str, Any], args: list[str]) -> int:
    created = create(
        ctx,
        args[0],
        opts["bundle"],
        CreateOptions(
            pid_file=opts["pid_file"],
            console_socket=opts["console_socket"],
            no_pivot=opts["no_pivot"],
            no_new_keyring=opts["no_new_keyring"],
            preserve_fds=opts["preserve_fds"],
            listen_fds=listen_fds(),
            pidfd_socket=opts["pidfd_socket"],
        ),
    )
    created.init.close()
    return 0
