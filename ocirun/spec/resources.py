"""linux.resources, typed: what create writes into the container's cgroups and what ``update``
changes (from ``-r FILE`` or its flags), one model and one list of checks for both.

The JSON has passed the schema (config.json, or update's file against the same definitions), so
types are trusted; ``check`` holds what the schema cannot say.  Values are kept as given: zero is
"not set" for some fields and not for others (ocirun.cgroups.resources says which), so the model
does not decide it.  Plain classes with __slots__, as ocirun.spec.model (no dataclasses import).
"""

from __future__ import annotations

from ..errors import InvalidSpec

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    JSON = dict[str, Any]

DEVICE_TYPES = ("a", "b", "c", "p", "u")


class DeviceRule:
    """An entry of linux.resources.devices: an allow or deny rule of the device controller."""

    __slots__ = ("access", "allow", "major", "minor", "type")

    def __init__(self, allow: bool, type: str = "a", major: int | None = None, minor: int | None = None,
                 access: str = "") -> None:
        self.allow = allow
        self.type = type
        self.major = major
        self.minor = minor
        self.access = access

    @classmethod
    def from_json(cls, obj: JSON) -> DeviceRule:
        return cls(bool(obj.get("allow")), obj.get("type") or "a", obj.get("major"), obj.get("minor"),
                   obj.get("access") or "")


class Memory:
    __slots__ = ("check_before_update", "disable_oom_killer", "kernel", "kernel_tcp", "limit", "reservation",
                 "swap", "swappiness", "use_hierarchy")

    def __init__(self, obj: JSON) -> None:
        self.limit: int | None = obj.get("limit")
        self.reservation: int | None = obj.get("reservation")
        self.swap: int | None = obj.get("swap")
        self.kernel: int | None = obj.get("kernel")
        self.kernel_tcp: int | None = obj.get("kernelTCP")
        self.swappiness: int | None = obj.get("swappiness")
        self.disable_oom_killer: bool | None = obj.get("disableOOMKiller")
        self.use_hierarchy: bool | None = obj.get("useHierarchy")
        self.check_before_update: bool | None = obj.get("checkBeforeUpdate")


class Cpu:
    __slots__ = ("burst", "cpus", "idle", "mems", "period", "quota", "realtime_period", "realtime_runtime",
                 "shares")

    def __init__(self, obj: JSON) -> None:
        self.shares: int | None = obj.get("shares")
        self.quota: int | None = obj.get("quota")
        self.burst: int | None = obj.get("burst")
        self.period: int | None = obj.get("period")
        self.realtime_runtime: int | None = obj.get("realtimeRuntime")
        self.realtime_period: int | None = obj.get("realtimePeriod")
        self.cpus: str = obj.get("cpus") or ""
        self.mems: str = obj.get("mems") or ""
        self.idle: int | None = obj.get("idle")


class WeightDevice:
    __slots__ = ("leaf_weight", "major", "minor", "weight")

    def __init__(self, obj: JSON) -> None:
        self.major: int = obj["major"]
        self.minor: int = obj["minor"]
        self.weight: int | None = obj.get("weight")
        self.leaf_weight: int | None = obj.get("leafWeight")

    @property
    def dev(self) -> str:
        return f"{self.major}:{self.minor}"


class ThrottleDevice:
    __slots__ = ("major", "minor", "rate")

    def __init__(self, obj: JSON) -> None:
        self.major: int = obj["major"]
        self.minor: int = obj["minor"]
        self.rate: int = obj.get("rate") or 0

    @property
    def dev(self) -> str:
        return f"{self.major}:{self.minor}"


# The blockIO throttle lists: (JSON key, attribute of BlockIO).
THROTTLES = (
    ("throttleReadBpsDevice", "throttle_read_bps"),
    ("throttleWriteBpsDevice", "throttle_write_bps"),
    ("throttleReadIOPSDevice", "throttle_read_iops"),
    ("throttleWriteIOPSDevice", "throttle_write_iops"),
)


class BlockIO:
    __slots__ = ("leaf_weight", "throttle_read_bps", "throttle_read_iops", "throttle_write_bps",
                 "throttle_write_iops", "weight", "weight_devices")

    def __init__(self, obj: JSON) -> None:
        self.weight: int | None = obj.get("weight")
        self.leaf_weight: int | None = obj.get("leafWeight")
        self.weight_devices = [WeightDevice(d) for d in obj.get("weightDevice") or ()]
        self.throttle_read_bps: list[ThrottleDevice] = []
        self.throttle_write_bps: list[ThrottleDevice] = []
        self.throttle_read_iops: list[ThrottleDevice] = []
        self.throttle_write_iops: list[ThrottleDevice] = []
        for key, attr in THROTTLES:
            setattr(self, attr, [ThrottleDevice(d) for d in obj.get(key) or ()])

    def throttles(self) -> list[tuple[str, list[ThrottleDevice]]]:
        """(JSON key, entries) of the four throttle lists, in the spec's order."""
        return [(key, getattr(self, attr)) for key, attr in THROTTLES]


class HugepageLimit:
    __slots__ = ("limit", "page_size")

    def __init__(self, obj: JSON) -> None:
        self.page_size: str = obj["pageSize"]
        self.limit: int = obj["limit"]


class Network:
    __slots__ = ("class_id", "priorities")

    def __init__(self, obj: JSON) -> None:
        self.class_id: int | None = obj.get("classID")
        self.priorities: list[tuple[str, int]] = [(p["name"], p.get("priority", 0))
                                                  for p in obj.get("priorities") or ()]


class Rdma:
    __slots__ = ("hca_handles", "hca_objects")

    def __init__(self, obj: JSON) -> None:
        self.hca_handles: int | None = obj.get("hcaHandles")
        self.hca_objects: int | None = obj.get("hcaObjects")


class Resources:
    """linux.resources (or an update of it): None or empty where the JSON leaves a part out."""

    __slots__ = ("block_io", "cpu", "devices", "hugepage_limits", "memory", "network", "pids_limit", "raw", "rdma",
                 "unified")

    def __init__(self) -> None:
        self.raw: JSON = {}  # the JSON it was made from (the systemd driver maps it to unit properties)
        self.devices: list[DeviceRule] = []
        self.memory: Memory | None = None
        self.cpu: Cpu | None = None
        self.pids_limit: int | None = None
        self.block_io: BlockIO | None = None
        self.hugepage_limits: list[HugepageLimit] = []
        self.network: Network | None = None
        self.rdma: dict[str, Rdma] = {}
        self.unified: dict[str, str] = {}

    @classmethod
    def from_json(cls, obj: JSON) -> Resources:
        r = cls()
        r.raw = obj
        r.devices = [DeviceRule.from_json(d) for d in obj.get("devices") or ()]
        if obj.get("memory") is not None:
            r.memory = Memory(obj["memory"])
        if obj.get("cpu") is not None:
            r.cpu = Cpu(obj["cpu"])
        r.pids_limit = (obj.get("pids") or {}).get("limit")
        if obj.get("blockIO") is not None:
            r.block_io = BlockIO(obj["blockIO"])
        r.hugepage_limits = [HugepageLimit(h) for h in obj.get("hugepageLimits") or ()]
        if obj.get("network") is not None:
            r.network = Network(obj["network"])
        r.rdma = {name: Rdma(limits) for name, limits in (obj.get("rdma") or {}).items()}
        r.unified = dict(obj.get("unified") or {})
        return r

    def beyond_devices(self) -> bool:
        """Whether anything but device rules is set (the cgroup files module is needed)."""
        return bool(self.memory or self.cpu or self.pids_limit is not None or self.block_io
                    or self.hugepage_limits or self.network or self.rdma or self.unified)


# ---- the checks the schema cannot make (create's validation pass, and update -r) ------------------

W = "$.linux.resources"


def _devices(r: Resources) -> None:
    for i, d in enumerate(r.devices):
        where = f"{W}.devices[{i}]"
        if d.type not in DEVICE_TYPES:
            raise InvalidSpec(where + ".type", f"invalid device type {d.type!r}")
        if set(d.access) - set("rwm"):
            raise InvalidSpec(where + ".access", f"invalid device access {d.access!r}")
        for n in (d.major, d.minor):
            if n is not None and n >= 1 << 31:
                raise InvalidSpec(where, f"device number {d.major}:{d.minor} is out of range")


def _memory(r: Resources) -> None:
    m = r.memory
    if m and m.swappiness is not None and m.swappiness != -1 and not 0 <= m.swappiness <= 100:
        raise InvalidSpec(f"{W}.memory.swappiness",
                          f"invalid memory swappiness value: {m.swappiness} (valid range is 0-100)")


def _unified(r: Resources) -> None:
    for key in r.unified:
        if "/" in key or key in ("", ".", ".."):
            raise InvalidSpec(f"{W}.unified", f"{key!r} must be a file name (no slashes)")
        if "." not in key:
            raise InvalidSpec(f"{W}.unified", f"{key!r} must be in the form CONTROLLER.PARAMETER")


CHECKS = (_devices, _memory, _unified)


def check(r: Resources) -> None:
    for rule in CHECKS:
        rule(r)
