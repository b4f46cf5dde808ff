"""Checks of a Spec that the schema cannot express, as a flat list of functions (runc's validator).

Each check raises InvalidSpec with the JSON path of the offending field.  ``check_for_create``
runs the ones that matter when a container is created from the config.
"""

from __future__ import annotations

from .. import _os as os
from ..errors import InvalidSpec

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from .model import Spec

NAMESPACE_TYPES = ("pid", "network", "mount", "ipc", "uts", "user", "cgroup", "time")


def _version(spec: Spec) -> None:
    parts = spec.oci_version.split(".")
    if len(parts) < 3 or parts[0] != "1":
        raise InvalidSpec("$.ociVersion", f"unsupported version {spec.oci_version!r}: ocirun implements 1.x")


def _process(spec: Spec) -> None:
    p = spec.process
    if p is None:
        return  # a container without a program: `start` ends it (runtime-tools "start")
    if not p.args:
        raise InvalidSpec("$.process.args", "must name the program to run")
    if not p.cwd.startswith("/"):
        raise InvalidSpec("$.process.cwd", f"{p.cwd!r} is not an absolute path")
    for i, entry in enumerate(p.env):
        if "=" not in entry or entry.startswith("="):
            raise InvalidSpec(f"$.process.env[{i}]", f"{entry!r} is not of the form NAME=VALUE")


def _root(spec: Spec) -> None:
    if spec.root is None:
        raise InvalidSpec("$.root", "is required on Linux")
    if not spec.root.path:
        raise InvalidSpec("$.root.path", "must not be empty")


def _namespaces(spec: Spec) -> None:
    seen: set[str] = set()
    for i, ns in enumerate(spec.linux.namespaces):
        if ns.type not in NAMESPACE_TYPES:
            raise InvalidSpec(f"$.linux.namespaces[{i}].type", f"unknown namespace type {ns.type!r}")
        if ns.type in seen:
            raise InvalidSpec(f"$.linux.namespaces[{i}]", f"namespace {ns.type!r} is given twice")
        seen.add(ns.type)
        if ns.path is not None and not ns.path.startswith("/"):
            raise InvalidSpec(f"$.linux.namespaces[{i}].path", f"{ns.path!r} is not an absolute path")
    if spec.hostname and "uts" not in seen:
        raise InvalidSpec("$.hostname", "setting the hostname needs a new uts namespace")
    if spec.domainname and "uts" not in seen:
        raise InvalidSpec("$.domainname", "setting the domainname needs a new uts namespace")
    user = spec.linux.namespace("user")
    maps = spec.linux.uid_mappings or spec.linux.gid_mappings
    if maps and user is None:
        raise InvalidSpec("$.linux.uidMappings", "id mappings need a user namespace")
    if user is not None and user.path is None and not (spec.linux.uid_mappings and spec.linux.gid_mappings):
        raise InvalidSpec("$.linux.uidMappings", "a new user namespace needs uidMappings and gidMappings")
    if spec.linux.time_offsets and spec.linux.namespace("time") is None:
        raise InvalidSpec("$.linux.timeOffsets", "time offsets need a time namespace")


def _mounts(spec: Spec) -> None:
    for i, m in enumerate(spec.mounts):
        if not m.destination:
            raise InvalidSpec(f"$.mounts[{i}].destination", "must not be empty")
        if ("bind" in m.options or "rbind" in m.options) and not m.source:
            raise InvalidSpec(f"$.mounts[{i}].source", "a bind mount needs a source")
        if bool(m.uid_mappings) != bool(m.gid_mappings):
            raise InvalidSpec(f"$.mounts[{i}]", "uidMappings and gidMappings go together")


def _devices(spec: Spec) -> None:
    for i, d in enumerate(spec.linux.devices):
        if not d.path.startswith("/dev/") or "/../" in d.path + "/":
            raise InvalidSpec(f"$.linux.devices[{i}].path", f"{d.path!r} is not a path under /dev")
        if d.type not in ("c", "b", "u", "p"):
            raise InvalidSpec(f"$.linux.devices[{i}].type", f"unknown device type {d.type!r}")


def _propagation(spec: Spec) -> None:
    value = spec.linux.rootfs_propagation
    if value is not None and value not in (
        "private", "rprivate", "slave", "rslave", "shared", "rshared", "unbindable", "runbindable"
    ):
        raise InvalidSpec("$.linux.rootfsPropagation", f"unknown propagation {value!r}")


CREATE_CHECKS: tuple[Callable[[Spec], None], ...] = (
    _version,
    _root,
    _process,
    _namespaces,
    _mounts,
    _devices,
    _propagation,
)


def check_for_create(spec: Spec) -> None:
    for check in CREATE_CHECKS:
        check(spec)


def rootfs_path(spec: Spec, bundle: str) -> str:
    """The absolute path of the root filesystem; it must be an existing directory, and, as runc
    wants it, not reached through a symlink that root.path names (a rootfs that is a symlink, to
    ``/`` say, is refused, not followed)."""
    assert spec.root is not None
    path = os.path.normpath(os.path.join(bundle, spec.root.path))
    try:
        st = os.stat(path)
    except OSError as e:
        raise InvalidSpec("$.root.path", f"`{path}`: {e.strerror}") from None
    if (st.st_mode & 0o170000) != 0o040000:
        raise InvalidSpec("$.root.path", f"`{path}` is not a directory")
    # every component root.path names (a relative one: below the bundle) must be no symlink
    base = "/" if spec.root.path.startswith("/") else os.path.normpath(bundle)
    rel = path[len(base):].lstrip("/") if path.startswith(base) else ""
    at = base
    for part in rel.split("/") if rel else ():
        at = os.path.join(at, part)
        if (os.lstat(at).st_mode & 0o170000) == 0o120000:
            raise InvalidSpec("$.root.path", f"invalid rootfs `{path}`: `{at}` is a symlink (to `{os.readlink(at)}`)")
    return path


NSFS_MAGIC = 0x6E736673
_NS_GET_NSTYPE = 0xB703
_NS_FLAGS = {
    "mount": 0x20000, "cgroup": 0x02000000, "uts": 0x04000000, "ipc": 0x08000000, "user": 0x10000000,
    "pid": 0x20000000, "network": 0x40000000, "time": 0x80,
}


def namespace_paths(spec: Spec) -> None:
    """Each linux.namespaces[].path must be a namespace file of its type (setns would only say
    "Invalid argument")."""
    for i, ns in enumerate(spec.linux.namespaces):
        if ns.path is None:
            continue
        where = f"$.linux.namespaces[{i}].path"
        try:
            fd = os.open(ns.path, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK)
        except OSError as e:
            raise InvalidSpec(where, f"`{ns.path}`: {e.strerror}") from None
        try:
            import fcntl

            try:
                kind = fcntl.ioctl(fd, _NS_GET_NSTYPE)
            except OSError:
                raise InvalidSpec(where, f"`{ns.path}` is not a namespace file") from None
        finally:
            os.close(fd)
        if kind != _NS_FLAGS.get(ns.type, kind):
            other = next((name for name, flag in _NS_FLAGS.items() if flag == kind), "another")
            raise InvalidSpec(where, f"`{ns.path}` is a {other} namespace, not a {ns.type} one")


def strings(doc: object, raw: bytes) -> None:
    """No string of config.json (but the opaque annotations) holds what no system call takes: a
    NUL character or a lone surrogate (a ``\\ud800`` escape that is no UTF-16 pair).  Both can come
    only from ``\\u`` escapes: a file without any is not walked."""
    if b"\\u" not in raw:
        return
    stack: list[tuple[str, object]] = [("$", doc)]
    while stack:
        where, value = stack.pop()
        if isinstance(value, str):
            _string(where, value)
        elif isinstance(value, dict):
            for key, item in value.items():
                _string(where, key)
                if where != "$" or key != "annotations":
                    stack.append((f"{where}.{key}", item))
        elif isinstance(value, list):
            stack.extend((f"{where}[{i}]", item) for i, item in enumerate(value))


def _string(where: str, value: str) -> None:
    if "\0" in value:
        raise InvalidSpec(where, "contains a NUL character")
    try:
        value.encode()
    except UnicodeEncodeError as e:
        bad = value[e.start]
        raise InvalidSpec(where, f"contains a lone surrogate \\u{ord(bad):04x} (not valid Unicode)") from None
