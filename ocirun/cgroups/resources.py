"""linux.resources into cgroup files, on cgroup v1 (and hybrid) and on cgroup v2.

Imported only for a config with resources other than devices (ocirun.cgroups.devices has those),
and by ``update``.  The files and conversions are runc's:

    field                        cgroup v1                            cgroup v2
    memory.limit                 memory.limit_in_bytes                memory.max ("max" for -1)
    memory.swap (memory+swap)    memory.memsw.limit_in_bytes          memory.swap.max (swap - limit)
    memory.reservation           memory.soft_limit_in_bytes           memory.low
    memory.kernel, kernelTCP     memory.kmem[.tcp].limit_in_bytes     (none: warning)
    memory.swappiness            memory.swappiness                    (none: warning)
    memory.disableOOMKiller      memory.oom_control                   (none: warning)
    memory.useHierarchy          memory.use_hierarchy                 always hierarchical
    memory.checkBeforeUpdate     (the kernel refuses a limit under    update -r with it: refused
                                 the usage)                           when memory.current > limit
    cpu.shares                   cpu.shares                           cpu.weight (1 + (s-2)*9999/262142)
    cpu.quota, period            cpu.cfs_quota_us, cpu.cfs_period_us  cpu.max "quota period"
    cpu.burst                    cpu.cfs_burst_us                     cpu.max.burst
    cpu.realtimeRuntime, Period  cpu.rt_runtime_us, cpu.rt_period_us  (none: warning)
    cpu.idle                     cpu.idle                             cpu.idle
    cpu.cpus, mems               cpuset.cpus, cpuset.mems             cpuset.cpus, cpuset.mems
    pids.limit                   pids.max ("max" for < 0)             pids.max
    blockIO.weight               blkio.weight or blkio.bfq.weight     io.bfq.weight, or io.weight
                                                                      (1 + (w-10)*9999/990)
    blockIO.leafWeight           blkio.leaf_weight                    (none: warning)
    blockIO.weightDevice         blkio[.bfq].weight_device,           io.bfq.weight or io.weight
                                 blkio.leaf_weight_device             "MAJ:MIN weight"
    blockIO.throttle*            blkio.throttle.{read,write}_{bps,    io.max "MAJ:MIN rbps=N"
                                 iops}_device                         (wbps, riops, wiops)
    hugepageLimits               hugetlb.SIZE[.rsvd].limit_in_bytes   hugetlb.SIZE[.rsvd].max
    network.classID              net_cls.classid                      (none: warning)
    network.priorities           net_prio.ifpriomap                   (none: warning)
    rdma                         rdma.max                             rdma.max
    unified                      error                                the files named

On a hybrid system a v1 controller that is not mounted but is available in the cgroup2 hierarchy
(hugetlb, rdma: the spec allows the conversion) is set there, and ``unified`` is written there;
elsewhere a missing controller is an error.  Zero is "not set" for the numbers where runc reads it
so (a Go zero value), but for pids.limit at create, where the spec makes 0 a limit.  ``update``
(``update=True``) reads zero as "unchanged" everywhere, as runc's update does.
"""

from __future__ import annotations

from .. import _os as os
from ..errors import CgroupError
from . import UNIFIED, CgroupWriteError, read_text, write_value

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from ..spec.resources import BlockIO, Cpu, HugepageLimit, Memory, Network, Rdma, Resources
    from . import Manager

    Warn = Callable[[str], None]


def shares_to_weight(shares: int) -> int:
    """cpu.shares (2..262144) to cgroup v2 cpu.weight (1..10000), runc's formula."""
    return 0 if shares == 0 else 1 + ((shares - 2) * 9999) // 262142


def blkio_to_io_weight(weight: int) -> int:
    """blkio weight (10..1000) to cgroup v2 io.weight (1..10000), runc's formula."""
    return 0 if weight == 0 else 1 + ((weight - 10) * 9999) // 990


def swap_to_v2(swap: int | None, limit: int | None) -> int | None:
    """memory+swap (v1 semantics) to memory.swap.max; None: leave it; -1: "max"."""
    if limit == -1 and swap is None:
        return -1
    if swap is None or swap == -1:
        return swap
    if limit is None or limit == -1:
        raise CgroupError("unable to set swap limit without memory limit")
    if limit < 0:
        raise CgroupError(f"invalid memory value: {limit}")
    if swap < limit:
        raise CgroupError(f"memory+swap limit ({swap}) should be >= memory limit ({limit})")
    return swap - limit


def _limit_text(value: int) -> str:
    return "max" if value == -1 else str(value)


def _set(value: int | None, zero_unset: bool = True) -> int | None:
    """A number as written: None when it is not set (zero, for the fields where zero means so)."""
    if value is None or (zero_unset and value == 0):
        return None
    return value


class _Apply:
    """One application of resources to one container's cgroups."""

    def __init__(self, mgr: Manager, res: Resources, warn: Warn, update: bool) -> None:
        self.mgr = mgr
        self.res = res
        self.warn = warn
        self.update = update

    # -- helpers ----------------------------------------------------------------------------

    def write(self, path: str, value: str, detail: Callable[[], str] | None = None) -> None:
        write_value(path, value, detail)

    def ignored(self, what: str, why: str) -> None:
        self.warn(f"$.linux.resources.{what} ignored: {why}")

    # -- the cgroup2 hierarchy (v2, or the hybrid one) ------------------------------------------

    def unified_root(self) -> str:
        from . import hierarchies

        for h in hierarchies():
            if h.version == 2:
                return h.mountpoint
        raise CgroupError("no cgroup2 hierarchy is mounted")

    def v2_available(self, controller: str) -> bool:
        try:
            return controller in read_text(self.unified_root() + "/cgroup.controllers").split()
        except OSError:
            return False

    def v2_enable(self, path: str, controller: str) -> None:
        """``controller`` enabled in the subtree_control of every ancestor of ``path`` (the cgroup2
        hierarchy of a hybrid system, where create() hands none down)."""
        root = self.unified_root()
        parts = path[len(root) :].strip("/").split("/")[:-1]
        current = root
        for i in range(len(parts) + 1):
            if i:
                current += "/" + parts[i - 1]
            try:
                if controller in read_text(current + "/cgroup.subtree_control").split():
                    continue
                self.write(current + "/cgroup.subtree_control", "+" + controller)
            except OSError as e:
                raise CgroupError(f"cannot enable the {controller} controller for `{path}`: {e}") from None

    def v2_write(self, path: str, name: str, value: str) -> None:
        """A cgroup v2 file; a missing file of an unavailable controller is said so."""
        try:
            self.write(f"{path}/{name}", value)
        except CgroupWriteError as e:
            controller = name.split(".", 1)[0]
            if e.errno in (2, 13, 1) and controller != "cgroup":
                have = _controllers(path)
                if controller not in have:
                    raise CgroupError(
                        f"cannot write `{path}/{name}` ({value}): the {controller} controller is not "
                        f"available in this cgroup (cgroup.controllers: {' '.join(have) or 'none'})"
                    ) from None
            raise

    # -- entry point ------------------------------------------------------------------------

    def run(self) -> None:
        if self.mgr.v2:
            self.v2_all(self.mgr.paths[UNIFIED])
        else:
            self.v1_all()

    # -- cgroup v1 --------------------------------------------------------------------------

    def v1_dir(self, controller: str, what: str) -> str:
        path = self.mgr.path(controller)
        if path is None:
            raise CgroupError(f"cannot set {what}: no {controller} cgroup hierarchy is mounted")
        return path

    def v1_all(self) -> None:
        res = self.res
        if res.cpu:
            self.v1_cpuset(res.cpu)
        if res.memory:
            self.v1_memory(res.memory)
        if res.cpu:
            self.v1_cpu(res.cpu)
        self.pids(lambda: self.v1_dir("pids", "the pids limit"))
        if res.block_io:
            self.v1_blkio(res.block_io)
        self.hugetlb_v1()
        if res.network:
            self.v1_network(res.network)
        self.rdma_v1()
        unified = res.unified
        if unified:
            path = self.mgr.paths.get(UNIFIED)
            if path is None:
                raise CgroupError(
                    "cannot use linux.resources.unified: there is no cgroup v2 hierarchy (cgroup v1 only)"
                )
            self.unified(path, unified, hybrid=True)

    def v1_cpuset(self, cpu: Cpu) -> None:
        cpus, mems = cpu.cpus, cpu.mems
        if cpus or mems:
            path = self.v1_dir("cpuset", "cpuset.cpus/cpuset.mems")
            if cpus:
                self.write(path + "/cpuset.cpus", cpus)
            if mems:
                self.write(path + "/cpuset.mems", mems)

    def v1_memory(self, mem: Memory) -> None:
        limit = _set(mem.limit)
        swap = _set(mem.swap)
        reservation = _set(mem.reservation)
        kernel = _set(mem.kernel)
        kernel_tcp = _set(mem.kernel_tcp)
        swappiness = mem.swappiness
        oom_off = mem.disable_oom_killer
        hierarchy = mem.use_hierarchy
        if all(
            v is None for v in (limit, swap, reservation, kernel, kernel_tcp, swappiness, oom_off, hierarchy)
        ):
            return
        if oom_off is False and not self.update:
            oom_off = None  # the default of a new cgroup
        if all(
            v is None for v in (limit, swap, reservation, kernel, kernel_tcp, swappiness, oom_off, hierarchy)
        ):
            return
        path = self.v1_dir("memory", "memory limits")
        if hierarchy is not None:
            self.write(path + "/memory.use_hierarchy", "1" if hierarchy else "0")
        if kernel is not None:
            self.v1_optional(path, "memory.kmem.limit_in_bytes", str(kernel), "memory.kernel")
        if kernel_tcp is not None:
            self.v1_optional(path, "memory.kmem.tcp.limit_in_bytes", str(kernel_tcp), "memory.kernelTCP")
        self.v1_memory_and_swap(path, limit, swap)
        if reservation is not None:
            self.write(path + "/memory.soft_limit_in_bytes", str(reservation))
        if oom_off is not None:
            self.write(path + "/memory.oom_control", "1" if oom_off else "0")
        if swappiness is not None and swappiness != -1:  # its range: ocirun.spec.resources
            self.write(path + "/memory.swappiness", str(swappiness))

    def v1_optional(self, path: str, name: str, value: str, what: str) -> None:
        if os.path.exists(f"{path}/{name}"):
            self.write(f"{path}/{name}", value)
        else:
            self.ignored(what, f"this kernel has no {name}")

    def v1_memory_and_swap(self, path: str, limit: int | None, swap: int | None) -> None:
        memsw = path + "/memory.memsw.limit_in_bytes"
        if limit == -1 and swap is None and os.path.exists(memsw):
            swap = -1  # unlimited memory: unlimited swap too, unless it is set
        if swap is not None and not os.path.exists(memsw):
            raise CgroupError(
                f"cannot set memory+swap limit {swap}: this kernel does not account swap (no `{memsw}`)"
            )
        swap_first = False
        if limit is not None and swap is not None:
            # The kernel wants memory <= memory+swap at every step: raise the larger first.
            current = int(read_text(path + "/memory.limit_in_bytes"))
            swap_first = swap == -1 or current < swap
        if swap is not None and swap_first:
            self.write(memsw, str(swap))
        if limit is not None:
            self.write(path + "/memory.limit_in_bytes", str(limit), lambda: _usage_detail(path))
        if swap is not None and not swap_first:
            self.write(memsw, str(swap))

    def v1_cpu(self, cpu: Cpu) -> None:
        shares = _set(cpu.shares)
        quota = _set(cpu.quota)
        period = _set(cpu.period)
        burst = cpu.burst
        rt_period = _set(cpu.realtime_period)
        rt_runtime = _set(cpu.realtime_runtime)
        idle = cpu.idle
        if all(v is None for v in (shares, quota, period, burst, rt_period, rt_runtime, idle)):
            return
        path = self.v1_dir("cpu", "cpu limits")
        if shares is not None:
            self.write(path + "/cpu.shares", str(shares))
            got = int(read_text(path + "/cpu.shares"))
            if shares > got:
                raise CgroupError(f"the maximum allowed cpu-shares is {got}")
            if shares < got:
                raise CgroupError(f"the minimum allowed cpu-shares is {got}")
        # The kernel checks quota, period and burst against each other at every write: a write
        # refused (EINVAL) is tried again once the others are in.
        writes = []
        if period is not None:
            writes.append(("cpu.cfs_period_us", str(period)))
        if quota is not None:
            writes.append(("cpu.cfs_quota_us", str(quota)))
        if burst is not None:
            if os.path.exists(path + "/cpu.cfs_burst_us"):
                writes.append(("cpu.cfs_burst_us", str(burst)))
            else:
                self.ignored("cpu.burst", "this kernel has no cpu.cfs_burst_us")
        self.write_retrying(path, writes)
        if idle is not None:
            self.write(path + "/cpu.idle", str(idle))
        rt = []
        if rt_period is not None:
            rt.append(("cpu.rt_period_us", str(rt_period)))
        if rt_runtime is not None:
            rt.append(("cpu.rt_runtime_us", str(rt_runtime)))
        self.write_retrying(path, rt)

    def write_retrying(self, path: str, writes: list[tuple[str, str]], v2: bool = False) -> None:
        failed: list[tuple[str, str]] = []
        write = self.v2_write if v2 else self.v1_write
        for name, value in writes:
            try:
                write(path, name, value)
            except CgroupWriteError as e:
                if e.errno != 22 or len(writes) == 1:
                    raise
                failed.append((name, value))
        for name, value in failed:
            write(path, name, value)

    def v1_write(self, path: str, name: str, value: str) -> None:
        self.write(f"{path}/{name}", value)

    def pids(self, where: Callable[[], str], v2: bool = False) -> None:
        limit = _set(self.res.pids_limit, zero_unset=self.update)
        if limit is None:
            return
        (self.v2_write if v2 else self.v1_write)(where(), "pids.max", "max" if limit < 0 else str(limit))

    def v1_blkio(self, blkio: BlockIO) -> None:
        weight = _set(blkio.weight)
        leaf = _set(blkio.leaf_weight)
        devices = blkio.weight_devices
        throttles = blkio.throttles()
        if weight is None and leaf is None and not devices and not any(t for _, t in throttles):
            return
        path = self.v1_dir("blkio", "block IO limits")
        bfq = not os.path.exists(path + "/blkio.weight")
        if weight is not None:
            self.write(path + ("/blkio.bfq.weight" if bfq else "/blkio.weight"), str(weight))
        if leaf is not None:
            self.write(path + "/blkio.leaf_weight", str(leaf))
        for d in devices:
            if d.weight:
                self.write(path + ("/blkio.bfq.weight_device" if bfq else "/blkio.weight_device"),
                           f"{d.dev} {d.weight}")
            if d.leaf_weight:
                self.write(path + "/blkio.leaf_weight_device", f"{d.dev} {d.leaf_weight}")
        for key, entries in throttles:
            for t in entries:
                self.write(f"{path}/{_THROTTLE_V1[key]}", f"{t.dev} {t.rate}")

    def hugetlb_v1(self) -> None:
        limits = self.res.hugepage_limits
        if not limits:
            return
        path = self.mgr.path("hugetlb")
        if path is None:
            self.hybrid_fallback("hugetlb", "hugepage limits", lambda p: self.hugetlb(p, limits, ".max"))
            return
        self.hugetlb(path, limits, ".limit_in_bytes")

    def hugetlb(self, path: str, limits: list[HugepageLimit], suffix: str) -> None:
        rsvd = True
        for entry in limits:
            size, limit = entry.page_size, entry.limit
            name = f"{path}/hugetlb.{size}{suffix}"
            if not os.path.exists(name):
                if suffix == ".max" and "hugetlb" not in _controllers(path):
                    raise CgroupError(
                        f"cannot set hugepage limit: the hugetlb controller is not available in `{path}`"
                    )
                raise CgroupError(
                    f"cannot set hugepage limit: the kernel has no {size} huge pages (no `{name}`)"
                )
            self.write(name, str(limit))
            if rsvd:  # the reservation limit too, where the kernel has one (Linux 5.7)
                name = f"{path}/hugetlb.{size}.rsvd{suffix}"
                if os.path.exists(name):
                    self.write(name, str(limit))
                else:
                    rsvd = False

    def hybrid_fallback(self, controller: str, what: str, apply: Callable[[str], None]) -> None:
        """A v1 controller not mounted as such: its cgroup2 version on a hybrid system, or an error."""
        path = self.mgr.paths.get(UNIFIED)
        if path is None or not self.v2_available(controller):
            raise CgroupError(
                f"cannot set {what}: the {controller} controller is mounted neither as a cgroup v1 "
                "hierarchy nor in the cgroup2 hierarchy"
            )
        self.v2_enable(path, controller)
        apply(path)

    def v1_network(self, net: Network) -> None:
        class_id = _set(net.class_id)
        priorities = net.priorities
        if class_id is not None:
            path = self.v1_dir("net_cls", "the network class id")
            self.write(path + "/net_cls.classid", str(class_id))
        if priorities:
            path = self.v1_dir("net_prio", "network priorities")
            for name, priority in priorities:
                self.write(path + "/net_prio.ifpriomap", f"{name} {priority}")

    def rdma_v1(self) -> None:
        rdma = self.res.rdma
        if not rdma:
            return
        path = self.mgr.path("rdma")
        if path is None:
            self.hybrid_fallback("rdma", "rdma limits", lambda p: self.rdma(p, rdma, v2=True))
            return
        self.rdma(path, rdma, v2=False)

    def rdma(self, path: str, rdma: dict[str, Rdma], v2: bool) -> None:
        for device, limits in rdma.items():
            line = device
            if limits.hca_handles is not None:
                line += f" hca_handle={limits.hca_handles}"
            if limits.hca_objects is not None:
                line += f" hca_object={limits.hca_objects}"
            (self.v2_write if v2 else self.v1_write)(path, "rdma.max", line)

    def unified(self, path: str, unified: dict[str, str], hybrid: bool) -> None:
        """linux.resources.unified: each key a file of the container's cgroup v2 directory (a
        CONTROLLER.PARAMETER file name: ocirun.spec.resources checks it)."""
        for key, value in unified.items():
            controller = key.split(".", 1)[0]
            if hybrid and controller != "cgroup":
                if not self.v2_available(controller):
                    raise CgroupError(
                        f"$.linux.resources.unified: cannot set {key!r}: the {controller} controller is not "
                        "available in the cgroup2 hierarchy"
                    )
                self.v2_enable(path, controller)
            self.v2_write(path, key, value)

    # -- cgroup v2 --------------------------------------------------------------------------

    def v2_all(self, path: str) -> None:
        res = self.res
        self.pids(lambda: path, v2=True)
        if res.memory:
            self.v2_memory(path, res.memory)
        if res.block_io:
            self.v2_io(path, res.block_io)
        if res.cpu:
            self.v2_cpu(path, res.cpu)
            if res.cpu.cpus:
                self.v2_write(path, "cpuset.cpus", res.cpu.cpus)
            if res.cpu.mems:
                self.v2_write(path, "cpuset.mems", res.cpu.mems)
        if res.hugepage_limits:
            self.hugetlb(path, res.hugepage_limits, ".max")
        if res.rdma:
            self.rdma(path, res.rdma, v2=True)
        if res.network and (res.network.class_id or res.network.priorities):
            self.ignored("network", "cgroup v2 has no net_cls and net_prio controllers")
        if res.unified:
            self.unified(path, res.unified, hybrid=False)

    def v2_memory(self, path: str, mem: Memory) -> None:
        limit = _set(mem.limit)
        swap = _set(mem.swap)
        reservation = _set(mem.reservation)
        for key, value in (("kernel", mem.kernel), ("kernelTCP", mem.kernel_tcp)):
            if _set(value) is not None:
                self.ignored(f"memory.{key}", "cgroup v2 has no kernel memory limits")
        if mem.swappiness is not None:
            self.ignored("memory.swappiness", "cgroup v2 has no per-cgroup swappiness")
        if mem.disable_oom_killer:
            self.ignored("memory.disableOOMKiller", "cgroup v2 cannot disable the OOM killer")
        if mem.use_hierarchy is False:
            self.ignored("memory.useHierarchy", "cgroup v2 is always hierarchical")
        if limit is None and swap is None and reservation is None:
            return
        set_limit = limit is not None
        if self.update:
            check = mem.check_before_update
            if swap is not None and limit is None:
                limit = _read_max(path + "/memory.max")
            if check and limit is not None and limit != -1:
                usage = int(read_text(path + "/memory.current"))
                if usage > limit:
                    raise CgroupError(
                        f"unable to set memory limit to {limit} (current usage: {usage}): "
                        "refused by memory.checkBeforeUpdate"
                    )
        swap_v2 = swap_to_v2(swap, limit)
        if swap_v2 is not None:
            text = _limit_text(swap_v2)
            try:
                self.v2_write(path, "memory.swap.max", text)
            except CgroupWriteError as e:
                if not (e.errno == 2 and text in ("max", "0")):  # no swap accounting: nothing to lift
                    raise
        if set_limit and limit is not None:
            self.v2_write(path, "memory.max", _limit_text(limit))
        if reservation is not None:
            self.v2_write(path, "memory.low", _limit_text(reservation))

    def v2_cpu(self, path: str, cpu: Cpu) -> None:
        shares = _set(cpu.shares)
        quota = _set(cpu.quota)
        period = _set(cpu.period)
        burst = cpu.burst
        idle = cpu.idle
        if _set(cpu.realtime_runtime) is not None or _set(cpu.realtime_period) is not None:
            self.ignored("cpu.realtimeRuntime/realtimePeriod", "cgroup v2 has no realtime group scheduling")
        if idle is not None:
            self.v2_write(path, "cpu.idle", str(idle))
        if shares is not None:
            self.v2_write(path, "cpu.weight", str(shares_to_weight(shares)))
        writes = []
        if burst is not None:
            writes.append(("cpu.max.burst", str(burst)))
        if quota is not None or period is not None:
            if self.update and (quota is None or period is None):
                # one of them: the other stays as it is
                try:
                    old_quota, old_period = read_text(path + "/cpu.max").split()
                except (OSError, ValueError):
                    old_quota, old_period = "max", "100000"
                q = old_quota if quota is None else ("max" if quota < 0 else str(quota))
                p = old_period if period is None else str(period)
            else:
                q = "max" if quota is None or quota < 0 else str(quota)
                p = str(period) if period is not None else "100000"
            writes.append(("cpu.max", f"{q} {p}"))
        self.write_retrying(path, writes, v2=True)

    def v2_io(self, path: str, blkio: BlockIO) -> None:
        weight = _set(blkio.weight)
        devices = blkio.weight_devices
        if _set(blkio.leaf_weight) is not None or any(d.leaf_weight for d in devices):
            self.ignored("blockIO.leafWeight", "cgroup v2 has no leaf weights")
        if weight is not None or any(d.weight for d in devices):
            bfq = os.path.exists(path + "/io.bfq.weight")
            if weight is not None:
                if bfq:
                    self.write(path + "/io.bfq.weight", str(weight))
                else:
                    self.v2_write(path, "io.weight", str(blkio_to_io_weight(weight)))
            for d in devices:
                if d.weight:
                    if bfq:
                        self.write(path + "/io.bfq.weight", f"{d.dev} {d.weight}")
                    else:
                        self.v2_write(path, "io.weight", f"{d.dev} {blkio_to_io_weight(d.weight)}")
        for key, entries in blkio.throttles():
            for t in entries:
                self.v2_write(path, "io.max", f"{t.dev} {_THROTTLE_V2[key]}={t.rate}")


_THROTTLE_V1 = {
    "throttleReadBpsDevice": "blkio.throttle.read_bps_device",
    "throttleWriteBpsDevice": "blkio.throttle.write_bps_device",
    "throttleReadIOPSDevice": "blkio.throttle.read_iops_device",
    "throttleWriteIOPSDevice": "blkio.throttle.write_iops_device",
}
_THROTTLE_V2 = {
    "throttleReadBpsDevice": "rbps",
    "throttleWriteBpsDevice": "wbps",
    "throttleReadIOPSDevice": "riops",
    "throttleWriteIOPSDevice": "wiops",
}


def _controllers(path: str) -> list[str]:
    try:
        return read_text(path + "/cgroup.controllers").split()
    except OSError:
        return []


def _read_max(path: str) -> int:
    text = read_text(path).strip()
    return -1 if text == "max" else int(text)


def _usage_detail(path: str) -> str:
    try:
        usage = read_text(path + "/memory.usage_in_bytes").strip()
        peak = read_text(path + "/memory.max_usage_in_bytes").strip()
    except OSError:
        return ""
    return f"current usage: {usage}, peak usage: {peak}"


def apply(mgr: Manager, res: Resources, warn: Warn, update: bool) -> None:
    """Writes ``res`` (linux.resources, or an update of it) into the container's cgroups."""
    _Apply(mgr, res, warn, update).run()


def oom_kills(mgr: Manager) -> int:
    """How many processes the OOM killer took in the container's memory cgroup (0 when it cannot
    be told): "oom_kill N" of memory.events (v2) or memory.oom_control (v1, Linux 4.13)."""
    path = mgr.path("memory")
    if path is None:
        return 0
    for name in ("memory.events", "memory.oom_control"):
        try:
            text = read_text(f"{path}/{name}")
        except OSError:
            continue
        for line in text.splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill" and value.strip().isdigit():
                return int(value)
    return 0
