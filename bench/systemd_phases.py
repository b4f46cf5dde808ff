"""Where the systemd driver's time goes: its imports, then each D-Bus step (connect, GetUnit,
StartTransientUnit with its job, SetUnitProperties, StopUnit) for one transient scope around a
sleep.  Root, systemd as PID 1:

    ../shared/tools/cgroup2-vm/run-in-v2.sh --systemd -- .venv/bin/python bench/systemd_phases.py
"""

from __future__ import annotations

import subprocess
import time

_t0 = time.perf_counter()


def lap(what: str) -> None:
    global _t0
    t = time.perf_counter()
    print(f"{what}: {(t - _t0) * 1000:.0f} ms", flush=True)
    _t0 = t


def main() -> None:
    import ocirun.cgroups.systemd as sd

    lap("import ocirun.cgroups.systemd")
    import jeepney.io.blocking  # noqa: F401

    lap("import jeepney.io.blocking")
    p = subprocess.Popen(["sleep", "30"])
    bus = sd.Bus()
    lap("connect + Hello")
    unit = sd.parse("system.slice:phases:x", "x")
    bus.unit_exists(unit.name)
    lap("GetUnit")
    bus.start_transient_unit(unit, sd.unit_properties(unit, p.pid, "phases"))
    lap("StartTransientUnit (+ AddMatch, Subscribe, the job)")
    bus.set_unit_properties(unit.name, [("MemoryMax", ("t", 1 << 26))])
    lap("SetUnitProperties")
    p.kill()
    p.wait()
    lap("kill")
    bus.stop_unit(unit.name)
    lap("StopUnit (+ the job)")
    bus.close()
    sd.stop(unit.name)
    lap("stop (a new connection, the unit gone)")


if __name__ == "__main__":
    main()
