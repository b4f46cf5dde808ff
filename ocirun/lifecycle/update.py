"""update: change the resource limits of a created, running or paused container.

From the flags (runc's: --memory, --cpu-quota, --pids-limit ...) or, with ``-r FILE|-``, from a
linux.resources JSON object (then the flags are ignored, as in runc).  Values left out, and zeros
(runc's "unset"), leave the limit as it is.  Device rules are not changed by update (runc's either).
"""

from __future__ import annotations

from .. import _os as os
from ..errors import InvalidArgument, InvalidSpec, OciRunError
from ..state import check
from ..store import Store

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ..context import Context
    from ..spec.resources import Resources

_RAM_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40, "p": 1 << 50}


def ram_in_bytes(text: str) -> int:
    """docker's units.RAMInBytes: "1024", "512k", "64m", "1.5g", "2GiB", "1 MB" (binary units)."""
    i = 0
    while i < len(text) and (text[i].isdigit() or text[i] == "."):
        i += 1
    number, rest = text[:i], text[i:]
    if rest.startswith(" "):
        rest = rest[1:]
    unit = ""
    if rest[:1].lower() in ("k", "m", "g", "t", "p") and rest:
        unit, rest = rest[0].lower(), rest[1:]
    if rest[:1] in ("i", "I") and rest:
        rest = rest[1:]
    if rest[:1] in ("b", "B") and rest:
        rest = rest[1:]
    try:
        if rest or not number[:1].isdigit():
            raise ValueError
        if number.isdigit():  # exact: no float round trip (2**64 + 64 MiB must not become 64 MiB)
            return int(number) * _RAM_UNITS[unit]
        whole, _, frac = number.partition(".")
        if not whole.isdigit() or not frac.isdigit():
            raise ValueError
        scale: int = 10 ** len(frac)
        return (int(whole + frac) * _RAM_UNITS[unit]) // scale
    except ValueError:
        raise ValueError(f"invalid size: '{text}'") from None


INT64_MAX = (1 << 63) - 1


def _in_range(flag: str, value: int, low: int = 0, high: int = INT64_MAX) -> int:
    """The range linux.resources allows the value (what ``update -r`` checks with the schema)."""
    if value > high:
        raise InvalidArgument(f"invalid value for --{flag}: {value} is greater than the maximum of {high}")
    if value < low:
        raise InvalidArgument(f"invalid value for --{flag}: {value} is less than the minimum of {low}")
    return value


def _uint(name: str, text: str) -> int:
    if not text.isdigit() or not text.isascii():
        raise InvalidArgument(
            f'invalid value for {name}: strconv.ParseUint: parsing "{text}": invalid syntax'
        )
    return int(text)


def _int(name: str, text: str) -> int:
    body = text[1:] if text[:1] in ("-", "+") else text
    if not body.isdigit() or not body.isascii():
        raise InvalidArgument(f'invalid value for {name}: strconv.ParseInt: parsing "{text}": invalid syntax')
    return int(text)


def resources_from_flags(opts: dict[str, Any]) -> dict[str, Any]:
    """The linux.resources object the command-line flags ask for."""
    memory: dict[str, Any] = {}
    cpu: dict[str, Any] = {}
    for flag, key in (
        ("memory", "limit"),
        ("memory_swap", "swap"),
        ("kernel_memory", "kernel"),
        ("kernel_memory_tcp", "kernelTCP"),
        ("memory_reservation", "reservation"),
    ):
        value = opts.get(flag)
        if value:
            if value == "-1":
                memory[key] = -1
            else:
                try:
                    memory[key] = _in_range(flag.replace("_", "-"), ram_in_bytes(value))
                except ValueError as e:
                    if isinstance(e, InvalidArgument):
                        raise
                    raise InvalidArgument(f"invalid value for {flag.replace('_', '-')}: {e}") from None
    for flag, key in (
        ("cpu_period", "period"),
        ("cpu_rt_period", "realtimePeriod"),
        ("cpu_share", "shares"),
        ("cpu_burst", "burst"),
    ):
        if opts.get(flag):
            name = flag.replace("_", "-")
            cpu[key] = _in_range(name, _uint(name, opts[flag]), high=(1 << 64) - 1)
    for flag, key in (("cpu_quota", "quota"), ("cpu_rt_runtime", "realtimeRuntime"), ("cpu_idle", "idle")):
        if opts.get(flag):
            name = flag.replace("_", "-")
            cpu[key] = _in_range(name, _int(name, opts[flag]), low=-(1 << 63))
    if opts.get("cpuset_cpus"):
        cpu["cpus"] = opts["cpuset_cpus"]
    if opts.get("cpuset_mems"):
        cpu["mems"] = opts["cpuset_mems"]
    res: dict[str, Any] = {}
    if memory:
        res["memory"] = memory
    if cpu:
        res["cpu"] = cpu
    if opts.get("blkio_weight"):
        res["blockIO"] = {"weight": _in_range("blkio-weight", opts["blkio_weight"], high=65535)}
    if opts.get("pids_limit"):
        res["pids"] = {"limit": _in_range("pids-limit", opts["pids_limit"], low=-(1 << 63))}
    return res


def resources_from_file(path: str) -> dict[str, Any]:
    """-r FILE or -r - (standard input): a linux.resources JSON object, checked against the schema."""
    from .._json import loads
    from ..spec._validator import _v_Resources

    try:
        if path == "-":
            chunks = []
            while True:
                chunk = os.read(0, 65536)
                if not chunk:
                    break
                chunks.append(chunk)
            data = b"".join(chunks)
        else:
            with open(path, "rb") as f:
                data = f.read()
    except OSError as e:
        raise OciRunError(f"open {path}: {e.strerror}") from None
    try:
        res = loads(data)
    except ValueError as e:
        raise InvalidArgument(f"invalid resources JSON in {path}: {e}") from None
    except RecursionError:
        raise InvalidArgument(f"invalid resources JSON in {path}: nested too deeply") from None
    problem = _v_Resources(res)
    if problem is not None:
        raise InvalidArgument(f"invalid resources JSON in {path}: $.{problem[0].lstrip('.')}: {problem[1]}")
    resources: dict[str, Any] = res
    return resources


def typed(resources: dict[str, Any], source: str = "the flags") -> Resources:
    """The typed linux.resources of a schema-checked object, with the checks create makes."""
    from ..spec.resources import Resources, check

    typed = Resources.from_json(resources)
    try:
        check(typed)
    except InvalidSpec as e:
        raise InvalidArgument(f"invalid resources JSON in {source}: {e.path}: {e.reason}") from None
    return typed


def update(ctx: Context, container_id: str, resources: Resources) -> None:
    from ..cgroups import Manager

    store = Store(ctx.root)
    with store.lock(container_id):
        st = store.load(container_id)
        check("update", st.status(store.dir(container_id)), container_id)
        mgr = Manager.from_json(st.cgroup_paths)
        if resources.devices:
            ctx.log.warning("linux.resources.devices ignored: update does not change device rules")
        unit = st.config.get("systemdUnit")
        if unit:  # --systemd-cgroup: the unit's properties first, then cgroupfs (runc)
            from ..cgroups.systemd import update as update_unit
            from ..spec.resources import Resources

            resources = Resources.from_json(update_unit(unit, resources.raw, ctx.log.warning))
        mgr.update(resources, warn=ctx.log.warning)


def command(ctx: Context, opts: dict[str, Any], args: list[str]) -> int:
    Store(ctx.root).load(args[0])  # "container does not exist" comes first
    if opts.get("l3_cache_schema"):
        raise OciRunError("Intel RDT/CAT: l3 cache schema is not enabled")
    if opts.get("mem_bw_schema"):
        raise OciRunError("Intel RDT/MBA: memory bandwidth schema is not enabled")
    from_file = opts.get("resources")
    raw = resources_from_file(from_file) if from_file else resources_from_flags(opts)
    update(ctx, args[0], typed(raw, from_file or "the flags"))
    return 0
