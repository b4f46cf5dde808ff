"""checkpoint: CRIU dumps a running container into an image directory (runc checkpoint).

What criu is told, as runc tells it (libcontainer's Checkpoint): the container's root, its init,
the cgroup to freeze it with, and what in it comes from outside and must be named so that restore
can put it back: the bind mounts from the bundle and the devices (ext_mnt, by their destination),
the masked files (bind mounts of /dev/null), the namespaces it joined by path (``external``), and
descriptors.json, what the init's stdio were (restore hands the pipes among them to criu).

Then, unless --leave-running or --pre-dump, the container is gone (criu killed it) and is
removed like a stopped one.  Only this verb and restore import ocirun.criu (and protobuf).
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any

from .. import criu

if TYPE_CHECKING:
    from ..context import Context
    from ..state import State

DEFAULT_DEVICES = ("/dev/null", "/dev/zero", "/dev/full", "/dev/tty", "/dev/random", "/dev/urandom")


def bundle_config(bundle: str) -> dict[str, Any]:
    try:
        with open(os.path.join(bundle, "config.json"), "rb") as f:
            config = json.loads(f.read())
    except (OSError, ValueError):
        return {}
    return config if isinstance(config, dict) else {}


def dump_mounts(config: dict[str, Any], pid: int) -> list[tuple[str, str]]:
    """ext_mnt pairs for a dump: bind mounts and devices by their destination, masked files as
    the external mount "/dev/null" (runc's keys: restore maps them to their sources)."""
    pairs = [(m["destination"], m["destination"]) for m in config.get("mounts") or []
             if isinstance(m, dict) and criu.is_bind(m) and isinstance(m.get("destination"), str)]
    linux = config.get("linux") or {}
    for path in linux.get("maskedPaths") or []:
        try:
            st = os.stat(f"/proc/{pid}/root{path}")
        except OSError:
            continue
        if not os.path.isdir(f"/proc/{pid}/root{path}") and st is not None:
            pairs.append((path, "/dev/null"))
    devices = [*DEFAULT_DEVICES, *(d["path"] for d in linux.get("devices") or [] if isinstance(d, dict))]
    pairs += [(d, d) for d in dict.fromkeys(devices)]
    return pairs


def stdio_links(pid: int) -> list[str]:
    out = []
    for fd in range(3):
        try:
            out.append(os.readlink(f"/proc/{pid}/fd/{fd}"))
        except OSError:
            out.append("/dev/null")
    return out


def checkpoint(ctx: Context, container_id: str, opts: dict[str, Any]) -> None:
    from ..state import check
    from ..store import Store

    criu_path = criu.find(getattr(ctx, "criu", None))
    m = criu.rpc()
    store = Store(ctx.root)
    image_path = os.path.abspath(opts.get("image_path") or os.path.join(os.getcwd(), "checkpoint"))
    work_path = os.path.abspath(opts["work_path"]) if opts.get("work_path") else image_path
    pre_dump = bool(opts.get("pre_dump"))
    with store.lock(container_id):
        st = store.load(container_id)
        check("checkpoint", st.status(store.dir(container_id), holding_lock=True), container_id)
        if opts.get("lazy_pages"):
            criu.check_lazy_pages(criu_path)
        fds: list[int] = []
        try:
            images_fd = criu.open_dir(image_path, "--image-path", create=True)
            fds.append(images_fd)
            work_fd = criu.open_dir(work_path, "--work-path", create=True) if work_path != image_path else images_fd
            if work_fd != images_fd:
                fds.append(work_fd)
            req_opts = _dump_opts(m, st, opts, images_fd, work_fd, fds)
            log_name = "pre-dump.log" if pre_dump else "dump.log"
            req_opts.log_file = log_name
            with open(os.path.join(image_path, criu.DESCRIPTORS), "w") as f:
                f.write(json.dumps(stdio_links(st.pid)))
            req = m.criu_req(type=m.PRE_DUMP if pre_dump else m.DUMP, opts=req_opts)
            if ctx.log.debugging:
                ctx.log.debug(f"checkpoint {container_id}: criu {'pre-dump' if pre_dump else 'dump'} "
                              f"of pid {st.pid} into `{image_path}`")
            swrk = criu.Swrk.start(criu_path, pass_fds=fds)
            try:
                swrk.call(req, "checkpoint", os.path.join(work_path, log_name))
            finally:
                swrk.close()
        finally:
            for fd in fds:
                os.close(fd)
        if not pre_dump and not opts.get("leave_running"):
            from .teardown import destroy

            destroy(ctx, store, st)


def _dump_opts(m: Any, st: State, opts: dict[str, Any], images_fd: int, work_fd: int, fds: list[int]) -> Any:
    o = m.criu_opts(images_dir_fd=images_fd, work_dir_fd=work_fd, pid=st.pid, root=st.rootfs,
                    leave_running=bool(opts.get("leave_running")), **criu.common_opts(m, opts))
    config = bundle_config(st.bundle)
    for key, val in dump_mounts(config, st.pid):
        o.ext_mnt.add(key=key, val=val)
    for ns_type, path in st.namespaces.items():
        if path and ns_type in criu.EXTERNAL_NS:
            name, key = criu.EXTERNAL_NS[ns_type]
            o.external.append(f"{name}[{criu.ns_inode(path)}]:{key}")
    freezer = st.cgroup_paths.get("freezer") or st.cgroup_paths.get("")
    if freezer:
        o.freeze_cgroup = freezer
    if opts.get("parent_path"):
        o.parent_img = opts["parent_path"]
        o.track_mem = True
    if opts.get("pre_dump"):
        o.track_mem = True
    if opts.get("page_server"):
        address, _, port = opts["page_server"].rpartition(":")
        if not address or not port.isdigit():
            raise criu.CriuError(f"--page-server {opts['page_server']!r}: give ADDRESS:PORT")
        o.ps.address = address
        o.ps.port = int(port)
    status_fd = opts.get("status_fd")
    if status_fd is not None and status_fd >= 0:
        if not opts.get("lazy_pages"):
            raise criu.CriuError("--status-fd is for --lazy-pages (criu writes to it once the pages are ready)")
        fds.append(os.dup(status_fd))
        o.status_fd = fds[-1]
    return o


def command(ctx: Context, opts: dict[str, Any], args: list[str]) -> int:
    checkpoint(ctx, args[0], opts)
    return 0
