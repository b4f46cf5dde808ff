"""The systemd cgroup driver (``--systemd-cgroup``): the container's cgroup is a transient unit.

cgroupsPath is ``slice:prefix:name`` (runc's form): the unit is the scope ``prefix-name.scope``
(or the slice ``name`` when it ends in ".slice") in the slice ``slice`` (empty: system.slice), and
its cgroup is ``/sys/fs/cgroup/<expanded slice>/<unit>``, where a slice's name tells its parents
(``a-b.slice`` lives in ``a.slice/a-b.slice``).  A config without a cgroupsPath gets
``system.slice:ocirun:<id>``.

systemd is asked over D-Bus (the system bus; jeepney, imported only here) for the unit, with the
init's pid (PIDs), ``Delegate=yes``, and linux.resources as unit properties, as runc's driver maps
them (``properties``), then those of ``org.systemd.property.NAME`` annotations
(``annotation_properties``, as runc); the create waits for the job's result (JobRemoved) before
the init goes past its cgroup sync point, so that its cgroup namespace is made in the scope.  As
in runc, every resource is also written to cgroupfs afterwards (ocirun.cgroups.resources, the
device program): what has no property (hugetlb, rdma, ...) is there only.  ``delete`` stops the unit (gone
already is fine); the other verbs use the cgroup directory, as with the cgroupfs driver.

cgroup v2 only: on v1 and hybrid hosts ``--systemd-cgroup`` is refused.
"""

from __future__ import annotations

from .. import _os as os
from ..errors import CgroupError, InvalidSpec, OciRunError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from jeepney.io.blocking import DBusConnection

    Property = tuple[str, tuple[str, Any]]  # (name, (D-Bus signature, value))

WHERE = "$.linux.cgroupsPath"
DEFAULT_SLICE = "system.slice"
DEFAULT_PREFIX = "ocirun"
UINT64_MAX = (1 << 64) - 1  # systemd's "infinity"
DEFAULT_CPU_PERIOD = 100000
JOB_TIMEOUT = 30.0  # seconds, as runc
SYSTEM_BUS = "/run/dbus/system_bus_socket"
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-@\\")


class Unit:
    """The transient unit of a container: its name, slice, and cgroup directory."""

    __slots__ = ("name", "path", "slice")

    def __init__(self, name: str, slice_: str, path: str) -> None:
        self.name = name
        self.slice = slice_
        self.path = path

    @property
    def is_slice(self) -> bool:
        return self.name.endswith(".slice")


def expand_slice(slice_: str) -> str:
    """The cgroup path of a slice: "a-b.slice" is "/a.slice/a-b.slice", "-.slice" the root "/"."""
    if not slice_.endswith(".slice") or len(slice_) <= len(".slice") or "/" in slice_:
        raise InvalidSpec(WHERE, f"invalid slice name {slice_!r}: it must end in .slice")
    base = slice_[: -len(".slice")]
    if base == "-":
        return "/"
    path, prefix = "", ""
    for part in base.split("-"):
        if not part:
            raise InvalidSpec(WHERE, f"invalid slice name {slice_!r}: empty part between dashes")
        path += "/" + prefix + part + ".slice"
        prefix += part + "-"
    return path


def _check_chars(what: str, text: str) -> None:
    bad = sorted({c for c in text if c not in _NAME_CHARS})
    if bad:
        raise InvalidSpec(WHERE, f"invalid character {bad[0]!r} in the {what} {text!r} (systemd unit names take "
                                 "letters, digits and _.-@\\)")


def parse(cgroups_path: str | None, container_id: str) -> Unit:
    """The unit for a cgroupsPath ``slice:prefix:name`` (see the module's docstring)."""
    if not cgroups_path:
        slice_, prefix, name = "", DEFAULT_PREFIX, container_id
    else:
        parts = cgroups_path.split(":")
        if len(parts) != 3:
            raise InvalidSpec(WHERE, f"expected slice:prefix:name for systemd cgroups, got {cgroups_path!r}")
        slice_, prefix, name = parts
    if not name:
        raise InvalidSpec(WHERE, f"{cgroups_path!r} has no name (slice:prefix:name)")
    slice_ = slice_ or DEFAULT_SLICE
    for what, text in (("slice", slice_), ("prefix", prefix), ("name", name)):
        _check_chars(what, text)
    unit = name if name.endswith(".slice") else f"{prefix}-{name}.scope"
    if unit.endswith(".slice"):
        expand_slice(unit)  # its own name must be a valid slice too
    if len(unit) > 255:
        raise InvalidSpec(WHERE, f"the unit name {unit!r} is longer than 255 characters")
    parent = expand_slice(slice_)
    return Unit(unit, slice_, "/sys/fs/cgroup" + parent.rstrip("/") + "/" + unit)


def check_host() -> None:
    """systemd is PID 1 here and the cgroups are pure v2 (the only layout this driver supports)."""
    if not os.path.isdir("/run/systemd/system"):
        raise OciRunError("--systemd-cgroup: systemd is not running here (no /run/systemd/system); "
                          "use the cgroupfs driver")
    from . import mode

    if mode() != "unified":
        raise OciRunError(f"--systemd-cgroup: only on cgroup v2 (this host's cgroups are {mode()})")


# -- properties -----------------------------------------------------------------------------------


def range_to_bits(text: str, what: str) -> bytes:
    """A cpuset list ("0-2,7") as systemd's AllowedCPUs takes it: a little-endian bit mask."""
    bits = 0
    for part in text.strip().split(","):
        part = part.strip()
        if not part:
            continue
        lo, sep, hi = part.partition("-")
        if not lo.isdigit() or (sep and not hi.isdigit()):
            raise InvalidSpec(what, f"invalid cpuset list {text!r}")
        first, last = int(lo), int(hi) if sep else int(lo)
        if last < first or last > 8191:
            raise InvalidSpec(what, f"invalid cpuset list {text!r}")
        for i in range(first, last + 1):
            bits |= 1 << i
    if not bits:
        raise InvalidSpec(what, f"invalid cpuset list {text!r}")
    return bits.to_bytes((bits.bit_length() + 7) // 8, "little")


def _max_or(value: int) -> int:
    return UINT64_MAX if value < 0 else value


def cpu_quota(quota: int, period: int) -> tuple[list[Property], int]:
    """CPUQuotaPeriodUSec and CPUQuotaPerSecUSec, and the quota to write to cpu.max: systemd keeps
    whole percents of a CPU, so a quota is rounded up to 10 ms per second (runc's addCPUQuota)."""
    props: list[Property] = []
    if period:
        props.append(("CPUQuotaPeriodUSec", ("t", period)))
    if quota or period:
        per_sec = UINT64_MAX
        if quota > 0:
            per_sec = quota * 1_000_000 // (period or DEFAULT_CPU_PERIOD)
            if per_sec % 10000:
                per_sec = (per_sec // 10000 + 1) * 10000
                quota = per_sec * (period or DEFAULT_CPU_PERIOD) // 1_000_000
        props.append(("CPUQuotaPerSecUSec", ("t", per_sec)))
    return props, quota


def device_properties(rules: list[dict[str, Any]], warn: Callable[[str], None]) -> list[Property]:
    """DevicePolicy and DeviceAllow for the device rules (those of the config, then the default
    devices), as runc's driver makes them: allow-all is policy "auto"; a deny list cannot be said
    to systemd (deny all, the device program does the rest); an allow list is policy "strict"
    and one DeviceAllow entry per exception ("/dev/char/1:3", "char-136", "char-*")."""
    from ..spec.resources import DeviceRule
    from .devices import BLOCK, WILDCARD, access_text, build_filter

    f = build_filter(DeviceRule.from_json(r) for r in rules)
    if f.default_allow:
        if not f.exceptions:
            return [("DevicePolicy", ("s", "auto")), ("DeviceAllow", ("a(ss)", []))]
        warn("systemd doesn't support blacklist device rules: applying a deny-all rule to the unit")
        return [("DevicePolicy", ("s", "strict")), ("DeviceAllow", ("a(ss)", []))]
    allow = []
    for type_, major, minor, access in f.sorted_exceptions():
        kind = "block" if type_ == BLOCK else "char"
        if major == WILDCARD:
            if minor != WILDCARD:
                warn(f"systemd doesn't support '*:{minor}' device rules: ignoring it for systemd")
                continue
            path = f"{kind}-*"
        elif minor == WILDCARD:
            path = f"{kind}-{major}"
        else:
            if not os.path.exists(f"/sys/dev/{kind}/{major}:{minor}"):
                warn(f"skipping device /dev/{kind}/{major}:{minor} for systemd: "
                     f"no /sys/dev/{kind}/{major}:{minor}")
                continue
            path = f"/dev/{kind}/{major}:{minor}"
        allow.append((path, access_text(access)))
    return [("DevicePolicy", ("s", "strict")), ("DeviceAllow", ("a(ss)", allow))]


def _unified_properties(unified: dict[str, str], cpu_idle: bool) -> list[Property]:
    props: list[Property] = []
    names = {"memory.high": "MemoryHigh", "memory.low": "MemoryLow", "memory.min": "MemoryMin",
             "memory.max": "MemoryMax", "memory.swap.max": "MemorySwapMax"}
    for key, raw in unified.items():
        value = str(raw).strip()
        where = f"$.linux.resources.unified[{key!r}]"
        try:
            if key in names:
                props.append((names[key], ("t", UINT64_MAX if value == "max" else int(value))))
            elif key == "pids.max":
                props.append(("TasksMax", ("t", UINT64_MAX if value == "max" else max(int(value), 1))))
            elif key == "cpu.weight" and not cpu_idle:
                props.append(("CPUWeight", ("t", int(value))))
            elif key == "cpu.idle" and value == "1":
                props.append(("CPUWeight", ("t", 0)))
            elif key == "cpu.max":
                fields = value.split()
                if not 1 <= len(fields) <= 2:
                    raise ValueError
                quota = 0 if fields[0] == "max" else int(fields[0])
                period = int(fields[1]) if len(fields) == 2 else DEFAULT_CPU_PERIOD
                props += cpu_quota(quota, period)[0]
            elif key in ("cpuset.cpus", "cpuset.mems"):
                name = "AllowedCPUs" if key == "cpuset.cpus" else "AllowedMemoryNodes"
                props.append((name, ("ay", range_to_bits(value, where))))
        except ValueError:
            raise InvalidSpec(where, f"invalid value {value!r}") from None
    return props


def properties(resources: dict[str, Any] | None, warn: Callable[[str], None],
               update: bool = False) -> tuple[list[Property], dict[str, Any]]:
    """The unit properties for linux.resources (runc's genV2ResourcesProperties), and the resources
    to write to cgroupfs after (the cpu quota rounded as systemd has it).  ``update``: without the
    device properties (update leaves the device rules), and a zero pids limit is "unchanged"."""
    from .resources import blkio_to_io_weight, shares_to_weight, swap_to_v2

    res = dict(resources or {})
    props: list[Property] = []
    if not update:
        props += device_properties(res.get("devices") or [], warn)
    mem = res.get("memory") or {}
    limit, reservation, swap = mem.get("limit"), mem.get("reservation"), mem.get("swap")
    if limit:
        props.append(("MemoryMax", ("t", _max_or(limit))))
    if reservation:
        props.append(("MemoryLow", ("t", _max_or(reservation))))
    if swap:
        v2_swap = swap_to_v2(swap, limit or None)  # (its errors are cgroupfs's too)
        if v2_swap:
            props.append(("MemorySwapMax", ("t", _max_or(v2_swap))))
    cpu = dict(res.get("cpu") or {})
    idle = cpu.get("idle") == 1
    if idle:
        props.append(("CPUWeight", ("t", 0)))
    elif cpu.get("shares"):
        props.append(("CPUWeight", ("t", shares_to_weight(cpu["shares"]))))
    quota, period = cpu.get("quota") or 0, cpu.get("period") or 0
    if quota or period:
        quota_props, rounded = cpu_quota(quota, period)
        props += quota_props
        if rounded != quota:
            cpu["quota"] = rounded
            res["cpu"] = cpu
    pids = res.get("pids") or {}
    if pids.get("limit") is not None and (pids["limit"] or not update):
        props.append(("TasksMax", ("t", UINT64_MAX if pids["limit"] < 0 else max(pids["limit"], 1))))
    if cpu.get("cpus"):
        props.append(("AllowedCPUs", ("ay", range_to_bits(cpu["cpus"], "$.linux.resources.cpu.cpus"))))
    if cpu.get("mems"):
        props.append(("AllowedMemoryNodes", ("ay", range_to_bits(cpu["mems"], "$.linux.resources.cpu.mems"))))
    props += _io_properties(res.get("blockIO") or {}, blkio_to_io_weight)
    if res.get("unified"):
        props += _unified_properties(res["unified"], idle)
    return props, res


def _io_properties(blkio: dict[str, Any], to_weight: Callable[[int], int]) -> list[Property]:
    props: list[Property] = []
    if blkio.get("weight"):
        props.append(("IOWeight", ("t", to_weight(blkio["weight"]))))
    weights = [(f"/dev/block/{d['major']}:{d['minor']}", to_weight(d["weight"]))
               for d in blkio.get("weightDevice") or [] if d.get("weight")]
    if weights:
        props.append(("IODeviceWeight", ("a(st)", weights)))
    for key, name in (("throttleReadBpsDevice", "IOReadBandwidthMax"),
                      ("throttleWriteBpsDevice", "IOWriteBandwidthMax"),
                      ("throttleReadIOPSDevice", "IOReadIOPSMax"),
                      ("throttleWriteIOPSDevice", "IOWriteIOPSMax")):
        limits = [(f"/dev/block/{d['major']}:{d['minor']}", d["rate"]) for d in blkio.get(key) or []]
        if limits:
            props.append((name, ("a(st)", limits)))
    return props


PROPERTY_PREFIX = "org.systemd.property."


def annotation_properties(annotations: dict[str, str]) -> list[Property]:
    """The unit properties that ``org.systemd.property.NAME`` annotations ask for (runc's): NAME
    of ASCII letters, the value in GVariant text (ocirun.cgroups.variant), a ``...Sec`` NAME in
    seconds sent as ``...USec``.  They go after ocirun's own properties, so they win."""
    from .variant import VariantError, parse, seconds_to_usec

    props: list[Property] = []
    for key, text in sorted(annotations.items()):
        if not key.startswith(PROPERTY_PREFIX):
            continue
        name = key[len(PROPERTY_PREFIX):]
        where = f'$.annotations["{key}"]'
        if len(name) < 3 or not (name.isascii() and name.isalpha()):
            raise InvalidSpec(where, "a systemd property's name is 3 or more ASCII letters")
        try:
            typed = parse(text)
            if name.endswith("Sec") and name[:-3][-1:].islower():  # (a NAME of "Sec" alone is left)
                name, typed = name[:-3] + "USec", seconds_to_usec(typed)
        except VariantError as exc:
            raise InvalidSpec(where, f"{text!r}: {exc}") from None
        props.append((name, typed))
    return props


def unit_properties(unit: Unit, pid: int, description: str) -> list[Property]:
    """The unit's own properties (runc's): the slice, delegation, the pid, accounting."""
    props: list[Property] = [("Description", ("s", description))]
    if unit.is_slice:
        props.append(("Wants", ("as", [unit.slice])))
    else:
        props += [("Slice", ("s", unit.slice)), ("Delegate", ("b", True))]
    if pid > 0:
        props.append(("PIDs", ("au", [pid])))
    props += [(name, ("b", True)) for name in ("MemoryAccounting", "CPUAccounting", "IOAccounting",
                                               "TasksAccounting")]
    props.append(("DefaultDependencies", ("b", False)))
    return props


# -- D-Bus ----------------------------------------------------------------------------------------


class SystemdError(CgroupError):
    pass


def bus_socket() -> str:
    """The system bus's socket: $DBUS_SYSTEM_BUS_ADDRESS (unix:path=...) or the default."""
    address = os.environ.get(b"DBUS_SYSTEM_BUS_ADDRESS", b"").decode(errors="replace")
    for part in address.split(";"):
        if part.startswith("unix:"):
            for kv in part[5:].split(","):
                if kv.startswith("path="):
                    return kv[5:]
    return SYSTEM_BUS


class Bus:
    """A connection to systemd over the system bus."""

    __slots__ = ("conn", "socket", "subscribed")

    def __init__(self) -> None:
        from jeepney.io.blocking import DBusConnection, prep_socket

        self.socket = bus_socket()
        self.subscribed = False
        try:
            self.conn: DBusConnection = DBusConnection(prep_socket(self.socket, timeout=5.0))
        except (OSError, TimeoutError, ValueError) as e:
            reason = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
            raise SystemdError(f"--systemd-cgroup: cannot reach systemd over D-Bus at {self.socket}: "
                               f"{reason}") from None

    def close(self) -> None:
        self.conn.close()

    def _call(self, method: str, signature: str, body: tuple[Any, ...]) -> tuple[Any, ...]:
        from jeepney import (
            DBusAddress,
            HeaderFields,
            MessageType,
            new_method_call,
        )

        manager = DBusAddress("/org/freedesktop/systemd1", bus_name="org.freedesktop.systemd1",
                              interface="org.freedesktop.systemd1.Manager")
        try:
            reply = self.conn.send_and_get_reply(new_method_call(manager, method, signature, body),
                                                 timeout=JOB_TIMEOUT)
        except (OSError, TimeoutError) as e:
            raise SystemdError(f"systemd {method}: {e}") from None
        if reply.header.message_type == MessageType.error:
            name = reply.header.fields.get(HeaderFields.error_name, "")
            text = reply.body[0] if reply.body else ""
            raise DBusError(method, name, text)
        result: tuple[Any, ...] = reply.body
        return result

    def _job(self, method: str, signature: str, body: tuple[Any, ...]) -> str:
        """Calls a method that queues a job, and waits for the job's result ("done", "failed"...)."""
        import collections

        from jeepney import MatchRule, message_bus

        rule = MatchRule(type="signal",
                         interface="org.freedesktop.systemd1.Manager", member="JobRemoved",
                         path="/org/freedesktop/systemd1")
        if not self.subscribed:  # systemd sends JobRemoved only while someone is subscribed
            self.conn.send_and_get_reply(message_bus.AddMatch(rule), timeout=JOB_TIMEOUT)
            self._call("Subscribe", "", ())
            self.subscribed = True
        queue: collections.deque[Any] = collections.deque()
        with self.conn.filter(rule, queue=queue):
            (job,) = self._call(method, signature, body)
            import time

            deadline = time.monotonic() + JOB_TIMEOUT
            while True:
                while queue:
                    _id, path, _unit, result = queue.popleft().body
                    if path == job:
                        return str(result)
                left = deadline - time.monotonic()
                if left <= 0:
                    raise SystemdError(f"systemd {method}: no result of job {job} within {JOB_TIMEOUT:g}s")
                try:
                    self.conn.recv_messages(timeout=left)
                except TimeoutError:
                    continue

    def start_transient_unit(self, unit: Unit, props: list[Property]) -> None:
        """Creates the unit and waits until it is started; UnitExists: reset a failed leftover and
        retry once (runc), else "already exists"."""
        for attempt in (0, 1):
            try:
                result = self._job("StartTransientUnit", "ssa(sv)a(sa(sv))", (unit.name, "replace", props, []))
                break
            except DBusError as e:
                if e.name != "org.freedesktop.systemd1.UnitExists":
                    raise SystemdError(f"{WHERE}: systemd cannot create the unit {unit.name}: {e.text}") from None
                if attempt:
                    raise InvalidSpec(WHERE, f"the systemd unit {unit.name} already exists") from None
                self.reset_failed(unit.name)
        if result != "done":
            self.reset_failed(unit.name)
            raise SystemdError(f"systemd could not start the unit {unit.name}: job {result}")

    def stop_unit(self, name: str) -> None:
        """Stops the unit and waits for it; a unit that is gone already is fine."""
        try:
            self._job("StopUnit", "ss", (name, "replace"))
        except DBusError as e:
            if e.name not in ("org.freedesktop.systemd1.NoSuchUnit", "org.freedesktop.DBus.Error.UnknownObject"):
                raise SystemdError(f"systemd cannot stop the unit {name}: {e.text}") from None
        self.reset_failed(name)

    def reset_failed(self, name: str) -> None:
        try:
            self._call("ResetFailedUnit", "s", (name,))
        except DBusError:
            pass

    def set_unit_properties(self, name: str, props: list[Property]) -> None:
        try:
            self._call("SetUnitProperties", "sba(sv)", (name, True, props))
        except DBusError as e:
            raise SystemdError(f"systemd cannot set the properties of the unit {name}: {e.text}") from None

    def unit_exists(self, name: str) -> bool:
        try:
            self._call("GetUnit", "s", (name,))
        except DBusError:
            return False
        return True


class DBusError(OciRunError):
    def __init__(self, method: str, name: str, text: str) -> None:
        super().__init__(f"systemd {method}: {name}: {text}")
        self.name = name
        self.text = text


def stop(unit_name: str) -> None:
    """delete: stops the container's unit (after its processes were killed)."""
    bus = Bus()
    try:
        bus.stop_unit(unit_name)
    finally:
        bus.close()


def update(unit_name: str, resources: dict[str, Any], warn: Callable[[str], None]) -> dict[str, Any]:
    """update: the unit's properties for ``resources``; what to write to cgroupfs after."""
    props, res = properties(resources, warn, update=True)
    if props:
        bus = Bus()
        try:
            bus.set_unit_properties(unit_name, props)
        finally:
            bus.close()
    return res
