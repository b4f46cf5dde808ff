"""A container's cgroup statistics, in the JSON layout of runc's ``events`` ("data" of a "stats"
event: runc's types.Stats, with Go's omitempty rules: zero numbers and empty lists left out where
runc leaves them out).

cgroup v1 reads cpuacct.* and cpu.stat, cpuset.*, memory.*, pids.*, the blkio statistics runc
prefers (bfq, then cfq, then throttle) and hugetlb.*; cgroup v2 cpu.stat, memory.*, pids.*,
io.stat and hugetlb.*.
"""

from __future__ import annotations

from .. import _os as os
from . import UNIFIED, read_text

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from . import Manager

MAX_UINT64 = (1 << 64) - 1
_NS_PER_TICK = 1_000_000_000 // 100  # cpuacct.stat counts USER_HZ (100) ticks


def _read(path: str) -> str | None:
    try:
        return read_text(path)
    except (FileNotFoundError, ProcessLookupError, OSError):
        return None


def _uint(text: str | None) -> int:
    if text is None:
        return 0
    text = text.strip()
    if text == "max":
        return MAX_UINT64
    try:
        return int(text)
    except ValueError:
        return 0


def _key_values(text: str | None) -> dict[str, int]:
    out: dict[str, int] = {}
    for line in (text or "").splitlines():
        parts = line.split()
        if len(parts) == 2:
            try:
                out[parts[0]] = int(parts[1])
            except ValueError:
                pass
    return out


def _cpu_list(text: str | None) -> list[int]:
    out: list[int] = []
    for part in (text or "").strip().split(","):
        if not part:
            continue
        lo, _, hi = part.partition("-")
        try:
            out.extend(range(int(lo), int(hi or lo) + 1))
        except ValueError:
            return []
    return out


def _omit_zero(d: dict[str, Any], *keys: str) -> dict[str, Any]:
    """Go's omitempty for the named keys: drops zero numbers, empty strings, lists and maps."""
    for k in keys:
        if k in d and not d[k]:
            del d[k]
    return d


def _memory_entry(limit: int = 0, usage: int = 0, max_: int = 0, failcnt: int = 0) -> dict[str, Any]:
    return _omit_zero({"limit": limit, "usage": usage, "max": max_, "failcnt": failcnt}, "usage", "max")


def _blkio_entry(major: int, minor: int, op: str, value: int) -> dict[str, Any]:
    return _omit_zero(
        {"major": major, "minor": minor, "op": op, "value": value}, "major", "minor", "op", "value"
    )


def page_sizes() -> list[str]:
    """The huge page sizes of the kernel, as hugetlb file names spell them ("2MB", "1GB")."""
    try:
        names = os.listdir("/sys/kernel/mm/hugepages")
    except OSError:
        return []
    out = []
    for name in names:
        if not (name.startswith("hugepages-") and name.endswith("kB")):
            continue
        try:
            kb = int(name[len("hugepages-") : -2])
        except ValueError:
            continue
        if kb >= 1 << 20:
            out.append(f"{kb >> 20}GB")
        elif kb >= 1 << 10:
            out.append(f"{kb >> 10}MB")
        else:
            out.append(f"{kb}KB")
    return out


def _empty() -> dict[str, Any]:
    return {
        "cpu": {"usage": {"kernel": 0, "user": 0}, "throttling": {}},
        "cpuset": {
            "cpu_exclusive": 0,
            "mem_hardwall": 0,
            "mem_exclusive": 0,
            "memory_migrate": 0,
            "memory_spread_page": 0,
            "memory_spread_slab": 0,
            "memory_pressure": 0,
            "sched_load_balance": 0,
            "sched_relax_domain_level": 0,
        },
        "memory": {
            "usage": _memory_entry(),
            "swap": _memory_entry(),
            "kernel": _memory_entry(),
            "kernelTCP": _memory_entry(),
        },
        "pids": {},
        "blkio": {},
        "hugetlb": {},
        "intel_rdt": {},
        "network_interfaces": None,
    }


def collect(mgr: Manager) -> dict[str, Any]:
    out = _empty()
    if mgr.v2:
        _v2(mgr.paths[UNIFIED], out)
    else:
        _v1(mgr, out)
    return out


# -- cgroup v1 --------------------------------------------------------------------------------------


def _v1(mgr: Manager, out: dict[str, Any]) -> None:
    path = mgr.path("cpuacct")
    if path is not None and os.path.isdir(path):
        _v1_cpuacct(path, out["cpu"]["usage"])
    path = mgr.path("cpu")
    if path is not None:
        stat = _key_values(_read(path + "/cpu.stat"))
        out["cpu"]["throttling"] = _omit_zero(
            {
                "periods": stat.get("nr_periods", 0),
                "throttledPeriods": stat.get("nr_throttled", 0),
                "throttledTime": stat.get("throttled_time", 0),
            },
            "periods",
            "throttledPeriods",
            "throttledTime",
        )
    path = mgr.path("cpuset")
    if path is not None:
        cs = out["cpuset"]
        cpus = _cpu_list(_read(path + "/cpuset.cpus"))
        mems = _cpu_list(_read(path + "/cpuset.mems"))
        new = {"cpus": cpus, "cpu_exclusive": 0, "mems": mems}
        for key in (
            "cpu_exclusive",
            "mem_hardwall",
            "mem_exclusive",
            "memory_migrate",
            "memory_spread_page",
            "memory_spread_slab",
            "memory_pressure",
            "sched_load_balance",
            "sched_relax_domain_level",
        ):
            text = _read(f"{path}/cpuset.{key}")
            new[key] = int(text) if text is not None and text.strip().lstrip("-").isdigit() else 0
        cs.clear()
        cs.update(_omit_zero(new, "cpus", "mems"))
    path = mgr.path("memory")
    if path is not None and os.path.isdir(path):
        _v1_memory(path, out["memory"])
    path = mgr.path("pids")
    if path is not None and os.path.isdir(path):
        limit = _uint(_read(path + "/pids.max"))
        out["pids"] = _omit_zero(
            {"current": _uint(_read(path + "/pids.current")), "limit": 0 if limit == MAX_UINT64 else limit},
            "current",
            "limit",
        )
    path = mgr.path("blkio")
    if path is not None and os.path.isdir(path):
        out["blkio"] = _v1_blkio(path)
    path = mgr.path("hugetlb")
    if path is not None and os.path.isdir(path):
        for size in page_sizes():
            base = f"{path}/hugetlb.{size}"
            out["hugetlb"][size] = _omit_zero(
                {
                    "usage": _uint(_read(base + ".usage_in_bytes")),
                    "max": _uint(_read(base + ".max_usage_in_bytes")),
                    "failcnt": _uint(_read(base + ".failcnt")),
                },
                "usage",
                "max",
            )
    elif mgr.paths.get(UNIFIED):  # hybrid: hugetlb in the cgroup2 hierarchy
        _v2_hugetlb(mgr.paths[UNIFIED], out)


def _v1_cpuacct(path: str, usage: dict[str, Any]) -> None:
    stat = _key_values(_read(path + "/cpuacct.stat"))
    percpu = [int(x) for x in (_read(path + "/cpuacct.usage_percpu") or "").split()]
    kernel: list[int] = []
    user: list[int] = []
    for line in (_read(path + "/cpuacct.usage_all") or "").splitlines()[1:]:
        fields = line.split()
        if len(fields) == 3:
            user.append(int(fields[1]))
            kernel.append(int(fields[2]))
    usage.clear()
    usage.update(
        _omit_zero(
            {
                "total": _uint(_read(path + "/cpuacct.usage")),
                "percpu": percpu,
                "percpu_kernel": kernel,
                "percpu_user": user,
                "kernel": stat.get("system", 0) * _NS_PER_TICK,
                "user": stat.get("user", 0) * _NS_PER_TICK,
            },
            "total",
            "percpu",
            "percpu_kernel",
            "percpu_user",
        )
    )


def _v1_memory(path: str, mem: dict[str, Any]) -> None:
    raw = _key_values(_read(path + "/memory.stat"))

    def entry(prefix: str) -> dict[str, Any]:
        usage = _read(f"{path}/{prefix}.usage_in_bytes")
        if usage is None:
            return _memory_entry()
        return _memory_entry(
            limit=_uint(_read(f"{path}/{prefix}.limit_in_bytes")),
            usage=_uint(usage),
            max_=_uint(_read(f"{path}/{prefix}.max_usage_in_bytes")),
            failcnt=_uint(_read(f"{path}/{prefix}.failcnt")),
        )

    mem.clear()
    mem.update(
        _omit_zero(
            {
                "cache": raw.get("cache", 0),
                "usage": entry("memory"),
                "swap": entry("memory.memsw"),
                "kernel": entry("memory.kmem"),
                "kernelTCP": entry("memory.kmem.tcp"),
                "raw": dict(sorted(raw.items())),
            },
            "cache",
            "raw",
        )
    )


_BLKIO_GROUPS = (
    (
        ("blkio.bfq.sectors_recursive", "sectorsRecursive"),
        ("blkio.bfq.io_service_time_recursive", "ioServiceTimeRecursive"),
        ("blkio.bfq.io_wait_time_recursive", "ioWaitTimeRecursive"),
        ("blkio.bfq.io_merged_recursive", "ioMergedRecursive"),
        ("blkio.bfq.io_queued_recursive", "ioQueueRecursive"),
        ("blkio.bfq.time_recursive", "ioTimeRecursive"),
        ("blkio.bfq.io_serviced_recursive", "ioServicedRecursive"),
        ("blkio.bfq.io_service_bytes_recursive", "ioServiceBytesRecursive"),
    ),
    (
        ("blkio.bfq.io_serviced_recursive", "ioServicedRecursive"),
        ("blkio.bfq.io_service_bytes_recursive", "ioServiceBytesRecursive"),
    ),
    (
        ("blkio.sectors_recursive", "sectorsRecursive"),
        ("blkio.io_service_time_recursive", "ioServiceTimeRecursive"),
        ("blkio.io_wait_time_recursive", "ioWaitTimeRecursive"),
        ("blkio.io_merged_recursive", "ioMergedRecursive"),
        ("blkio.io_queued_recursive", "ioQueueRecursive"),
        ("blkio.time_recursive", "ioTimeRecursive"),
        ("blkio.io_serviced_recursive", "ioServicedRecursive"),
        ("blkio.io_service_bytes_recursive", "ioServiceBytesRecursive"),
    ),
    (
        ("blkio.throttle.io_serviced_recursive", "ioServicedRecursive"),
        ("blkio.throttle.io_service_bytes_recursive", "ioServiceBytesRecursive"),
    ),
    (
        ("blkio.throttle.io_serviced", "ioServicedRecursive"),
        ("blkio.throttle.io_service_bytes", "ioServiceBytesRecursive"),
    ),
)


def _blkio_entries(text: str) -> list[dict[str, Any]]:
    out = []
    for line in text.splitlines():
        fields = line.replace(":", " ").split()
        if len(fields) < 3 or not fields[0].isdigit():
            continue  # "Total N"
        op, value = (fields[2], fields[3]) if len(fields) >= 4 else ("", fields[2])
        out.append(_blkio_entry(int(fields[0]), int(fields[1]), op, int(value)))
    return out


def _v1_blkio(path: str) -> dict[str, Any]:
    """The first group of statistics files the kernel has (runc's order: bfq, cfq, throttle)."""
    for group in _BLKIO_GROUPS:
        first = _read(f"{path}/{group[0][0]}")
        if not first:
            continue
        out: dict[str, Any] = {}
        for name, key in group:
            text = first if name == group[0][0] else _read(f"{path}/{name}")
            if text is None:
                break
            entries = _blkio_entries(text)
            if entries:
                out[key] = entries
        return out
    return {}


# -- cgroup v2 --------------------------------------------------------------------------------------


def _v2(path: str, out: dict[str, Any]) -> None:
    current = _read(path + "/pids.current")
    if current is not None:
        limit = _uint(_read(path + "/pids.max"))
        pids = {"current": _uint(current), "limit": 0 if limit == MAX_UINT64 else limit}
    else:
        pids = {"current": len((_read(path + "/cgroup.procs") or "").split()), "limit": 0}
    out["pids"] = _omit_zero(pids, "current", "limit")

    raw = _key_values(_read(path + "/memory.stat"))
    usage = _memory_entry(
        limit=_uint(_read(path + "/memory.max")), usage=_uint(_read(path + "/memory.current"))
    )
    swap_current = _read(path + "/memory.swap.current")
    swap_usage = _uint(swap_current) + usage.get("usage", 0)
    swap_limit = _uint(_read(path + "/memory.swap.max")) if swap_current is not None else 0
    if swap_limit != MAX_UINT64:
        swap_limit += usage["limit"]
    out["memory"] = _omit_zero(
        {
            "cache": raw.get("file", 0),
            "usage": usage,
            "swap": _memory_entry(limit=swap_limit, usage=swap_usage),
            "kernel": _memory_entry(),
            "kernelTCP": _memory_entry(),
            "raw": dict(sorted(raw.items())),
        },
        "cache",
        "raw",
    )

    blkio: dict[str, list[dict[str, Any]]] = {}
    for line in (_read(path + "/io.stat") or "").splitlines():
        dev, *items = line.split()
        major, _, minor = dev.partition(":")
        for item in items:
            op, _, value = item.partition("=")
            target = {
                "rbytes": ("ioServiceBytesRecursive", "Read"),
                "wbytes": ("ioServiceBytesRecursive", "Write"),
                "rios": ("ioServicedRecursive", "Read"),
                "wios": ("ioServicedRecursive", "Write"),
            }.get(op)
            if target is not None and major.isdigit() and minor.isdigit() and value.isdigit():
                blkio.setdefault(target[0], []).append(
                    _blkio_entry(int(major), int(minor), target[1], int(value))
                )
    out["blkio"] = blkio

    stat = _key_values(_read(path + "/cpu.stat"))
    out["cpu"] = {
        "usage": _omit_zero(
            {
                "total": stat.get("usage_usec", 0) * 1000,
                "kernel": stat.get("system_usec", 0) * 1000,
                "user": stat.get("user_usec", 0) * 1000,
            },
            "total",
        ),
        "throttling": _omit_zero(
            {
                "periods": stat.get("nr_periods", 0),
                "throttledPeriods": stat.get("nr_throttled", 0),
                "throttledTime": stat.get("throttled_usec", 0) * 1000,
            },
            "periods",
            "throttledPeriods",
            "throttledTime",
        ),
    }
    _v2_hugetlb(path, out)


def _v2_hugetlb(path: str, out: dict[str, Any]) -> None:
    for size in page_sizes():
        current = _read(f"{path}/hugetlb.{size}.current")
        if current is None:
            continue
        events = _key_values(_read(f"{path}/hugetlb.{size}.events"))
        out["hugetlb"][size] = _omit_zero({"usage": _uint(current), "failcnt": events.get("max", 0)}, "usage")
