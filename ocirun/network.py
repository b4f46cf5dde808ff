"""linux.netDevices (config-linux.md "Network Devices"): host interfaces moved into the
container's new network namespace at create, and given back to the host at delete.

Imported only when a config has netDevices (pyroute2 costs some 200 ms of imports).

- ``check_host`` (create, before any process): each named interface exists on the host.
- ``hold`` (create, once the init exists): the container's network namespace is bind-mounted
  on ``<root>/<id>/netns``, so that it outlives the container's processes.  When a network
  namespace dies, the kernel moves its physical devices back to the host under the name they
  had inside, and destroys its virtual ones (a veth and its peer on the host with it): the hold
  lets delete give every device back, under its host name, whatever happened meanwhile.
- ``move_in``: each device is set down, moved and renamed in one RTM_NEWLINK (IFLA_NET_NS_FD and
  IFLA_IFNAME, as runc and crun do), then its permanent addresses of global scope (which the
  kernel drops on a move) are added again inside, and it is set up.  Its MTU moves with it.
- ``give_back`` (delete, delete --force, the recovery from cleanup.json, a failed create): the
  same, the other way, under the host name (the kernel's ``dev%d`` if that name was taken on
  the host meanwhile); then ``release`` unmounts the hold and the namespace dies.

This departs from the letter of config-linux.md, which leaves the devices to the kernel when the
namespace dies (and so destroys a veth), as runc 1.3 and crun do: ocirun gives them back, so that
a device lent to a container is not lost with it (README.md says so).
"""

from __future__ import annotations

from . import _os as os
from .errors import InvalidSpec

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

HOLD = "netns"  # the held namespace, in the container's state directory
CLONE_NEWNET = 0x40000000
_MS_BIND = 0x1000
_MNT_DETACH = 2
_UMOUNT_NOFOLLOW = 8
_IFA_F_PERMANENT = 0x80
_RT_SCOPE_UNIVERSE = 0
_EEXIST = 17


def where(name: str) -> str:
    return f"$.linux.netDevices.{name}"


def targets(devices: dict[str, Any]) -> dict[str, str]:
    """Host name -> the name inside (the entry's ``name``, else the host name)."""
    return {host: (entry or {}).get("name") or host for host, entry in devices.items()}


def check_host(devices: dict[str, Any]) -> None:
    """Each interface named exists in the runtime's network namespace (before anything is made)."""
    import socket

    for name in devices:
        try:
            socket.if_nametoindex(name)
        except OSError:
            raise InvalidSpec(where(name), f"there is no network interface `{name}` on the host") from None


def _libc() -> Any:
    import ctypes

    return ctypes.CDLL(None, use_errno=True)


def hold(pid: int, path: str) -> None:
    """Bind-mounts the network namespace of ``pid`` on ``path`` (a new file)."""
    import ctypes

    from .errors import SyscallError

    try:
        os.close(os.open(path, os.O_RDONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0))
    except OSError as e:
        raise SyscallError.from_oserror("create", e, path) from None
    source = f"/proc/{pid}/ns/net"
    if _libc().mount(source.encode(), path.encode(), None, _MS_BIND, None) != 0:
        err = ctypes.get_errno()
        os.unlink(path)
        raise SyscallError("bind-mount the network namespace", err, path)


def release(path: str) -> None:
    """Unmounts and removes the hold (nothing when there is none)."""
    if not os.path.lexists(path):
        return
    _libc().umount2(path.encode(), _MNT_DETACH | _UMOUNT_NOFOLLOW)
    os.unlink(path)


class _Netns:
    """A netlink (rtnetlink) handle in the host's network namespace and one in the held one."""

    def __init__(self, path: str) -> None:
        try:
            from pyroute2 import IPRoute
        except ImportError as e:
            from .errors import OciRunError

            raise OciRunError(f"linux.netDevices needs pyroute2, which is not installed ({e})") from None

        self.nsfd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        self.hostfd = os.open("/proc/self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
        try:
            self.host = IPRoute()
            self.inside = IPRoute(use_socket=self._socket_in(self.nsfd))
        except BaseException:
            self.close()
            raise

    def _socket_in(self, nsfd: int) -> Any:
        """A NETLINK_ROUTE socket made in that namespace (a socket stays in the one it is made in)."""
        import ctypes
        import socket

        from .errors import SyscallError

        libc = _libc()
        if libc.setns(nsfd, CLONE_NEWNET) != 0:
            raise SyscallError("setns into the container's network namespace", ctypes.get_errno())
        try:
            return socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, 0)
        finally:
            if libc.setns(self.hostfd, CLONE_NEWNET) != 0:
                raise SyscallError("setns back into the runtime's network namespace", ctypes.get_errno())

    def close(self) -> None:
        for name in ("host", "inside"):
            ipr = getattr(self, name, None)
            if ipr is not None:
                ipr.close()
        for fd in (self.nsfd, getattr(self, "hostfd", -1)):
            if fd >= 0:
                os.close(fd)


def _addresses(ipr: Any, index: int) -> list[dict[str, Any]]:
    """The permanent addresses of global scope (RFC 3549 2.3.3.2), as arguments of addr("add")."""
    out = []
    for msg in ipr.get_addr(index=index):
        flags = msg.get("IFA_FLAGS")
        if flags is None:
            flags = msg["flags"]
        if not flags & _IFA_F_PERMANENT or msg["scope"] != _RT_SCOPE_UNIVERSE:
            continue
        addr = {"address": msg.get("IFA_ADDRESS"), "prefixlen": msg["prefixlen"], "family": msg["family"]}
        local = msg.get("IFA_LOCAL")
        if local is not None and local != addr["address"]:
            addr["local"] = local
        if msg.get("IFA_BROADCAST"):
            addr["broadcast"] = msg.get("IFA_BROADCAST")
        out.append(addr)
    return out


def _names(ipr: Any) -> dict[str, int]:
    return {link.get("IFLA_IFNAME"): link["index"] for link in ipr.get_links()}


def _matches(template: str, name: str) -> bool:
    if "%d" not in template:
        return name == template
    head, _, tail = template.partition("%d")
    mid = name[len(head) : len(name) - len(tail)] if len(name) > len(head) + len(tail) else ""
    return name.startswith(head) and name.endswith(tail) and mid.isdigit()


def _move(src: Any, dst: Any, index: int, netns_fd: int, new_name: str) -> None:
    """Down, moved to ``netns_fd`` as ``new_name`` (one request), its addresses added again, up."""
    addrs = _addresses(src, index)
    before = _names(dst)
    src.link("set", index=index, state="down")
    src.link("set", index=index, net_ns_fd=netns_fd, ifname=new_name)
    after = _names(dst)
    moved = after.get(new_name)
    if moved is None:  # a %d template: the kernel picked the name
        moved = next(i for name, i in after.items() if name not in before)
    for addr in addrs:
        dst.addr("add", index=moved, **addr)
    dst.link("set", index=moved, state="up")


def move_in(path: str, devices: dict[str, str]) -> None:
    """Moves each host device (host name -> name inside) into the held namespace at ``path``."""
    ns = _Netns(path)
    from pyroute2 import NetlinkError

    try:
        for host, name in devices.items():
            taken = _names(ns.inside)
            if "%d" not in name and name in taken:
                raise InvalidSpec(where(host), f"`{name}` is taken in the container's network namespace")
            index = _names(ns.host).get(host)
            if index is None:
                raise InvalidSpec(where(host), f"there is no network interface `{host}` on the host")
            try:
                _move(ns.host, ns.inside, index, ns.nsfd, name)
            except NetlinkError as e:
                raise InvalidSpec(where(host), f"cannot move `{host}` into the container's network namespace "
                                  f"as `{name}`: {os.strerror(e.code)}") from None
    finally:
        ns.close()


def give_back(path: str, devices: dict[str, str]) -> list[str]:
    """Moves each device (host name -> name or template inside) from the held namespace at
    ``path`` back to the host under its host name; returns what could not be done, as sentences
    (the caller warns: a delete goes on)."""
    if not os.path.exists(path):
        return []
    problems = []
    ns = _Netns(path)
    from pyroute2 import NetlinkError

    try:
        for host, name in devices.items():
            inside = _names(ns.inside)
            found = [i for n, i in inside.items() if _matches(name, n)]
            if not found:
                continue  # never moved in (a failed create), or gone from the container meanwhile
            new_name = host if host not in _names(ns.host) else "dev%d"
            if new_name != host:
                problems.append(f"network device `{host}`: the name is taken on the host, given back as dev%d")
            try:
                _move(ns.inside, ns.host, found[0], ns.hostfd, new_name)
            except NetlinkError as e:
                problems.append(f"give network device `{host}` back to the host: {os.strerror(e.code)}")
    finally:
        ns.close()
    return problems
