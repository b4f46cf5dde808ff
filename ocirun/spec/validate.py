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
    """The absolute path of the root filesystem; it must be an existing directory."""
    assert spec.root is not None
    path = os.path.normpath(os.path.join(bundle, spec.root.path))
    try:
        st = os.stat(path)
    except OSError as e:
        raise InvalidSpec("$.root.path", f"`{path}`: {e.strerror}") from None
    if (st.st_mode & 0o170000) != 0o040000:
        raise InvalidSpec("$.root.path", f"`{path}` is not a directory")
    return path
