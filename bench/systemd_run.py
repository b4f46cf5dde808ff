"""`run` with --systemd-cgroup on ocirun next to runc, and next to their cgroupfs driver: the
median wall time of N runs each (interleaved), and the ratios.  Needs root, systemd as PID 1 and
pure cgroup v2: run it in the systemd guest (``make bench-systemd``):

    ../shared/tools/cgroup2-vm/run-in-v2.sh --systemd -- .venv/bin/python bench/systemd_run.py -n 10

The container is busybox `true` with a memory and a pids limit; the systemd runs use
cgroupsPath ``system.slice:bench:<id>``, the cgroupfs ones ``/bench/<id>``.  Standard library only.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def bundle(base: Path) -> Path:
    b = base / "bundle"
    (b / "rootfs" / "bin").mkdir(parents=True)
    shutil.copy("/bin/busybox", b / "rootfs" / "bin" / "busybox")
    for applet in ("sh", "true"):
        (b / "rootfs" / "bin" / applet).symlink_to("busybox")
    subprocess.run(["runc", "spec"], cwd=b, check=True)
    config = json.loads((b / "config.json").read_text())
    config["process"].update(terminal=False, args=["true"])
    config["linux"]["resources"] = {"memory": {"limit": 64 << 20}, "pids": {"limit": 64}}
    (b / "config.json").write_text(json.dumps(config))
    return b


def one(binary: str, root: Path, b: Path, systemd: bool, n: int) -> float:
    cid = f"bench-{os.getpid()}-{n}"
    config = json.loads((b / "config.json").read_text())
    config["linux"]["cgroupsPath"] = f"system.slice:bench:{cid}" if systemd else f"/bench/{cid}"
    (b / "config.json").write_text(json.dumps(config))
    cmd = [binary, "--root", str(root), *(["--systemd-cgroup"] if systemd else []), "run", "-b", str(b), cid]
    t = time.perf_counter()
    proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {proc.stderr.decode(errors='replace').strip()}")
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=10, help="runs of each (default 10), after one warm-up")
    ap.add_argument("--ocirun", default=str(REPO / ".venv" / "bin" / "ocirun"))
    ap.add_argument("--runc", default=shutil.which("runc") or "/usr/bin/runc")
    args = ap.parse_args()
    base = Path(tempfile.mkdtemp(prefix="bench-systemd-"))
    try:
        b = bundle(base)
        kinds = [(name, binary, systemd) for systemd in (True, False)
                 for name, binary in (("ocirun", args.ocirun), ("runc", args.runc))]
        times: dict[tuple[str, bool], list[float]] = {(name, sd): [] for name, _, sd in kinds}
        for i in range(args.n + 1):
            for name, binary, systemd in kinds:
                t = one(binary, base / f"root-{name}", b, systemd, i * 10 + len(times[(name, systemd)]))
                if i:
                    times[(name, systemd)].append(t)
        med = {k: statistics.median(v) for k, v in times.items()}
        for systemd in (True, False):
            label = "--systemd-cgroup" if systemd else "cgroupfs        "
            o, r = med[("ocirun", systemd)], med[("runc", systemd)]
            print(f"run {label}: ocirun {o * 1000:.0f} ms, runc {r * 1000:.0f} ms, ocirun/runc {o / r:.2f} "
                  f"(median of {args.n})")
        cost = {name: (med[(name, True)] - med[(name, False)]) * 1000 for name in ("ocirun", "runc")}
        print(f"the systemd driver's cost per run: ocirun {cost['ocirun']:+.0f} ms, runc {cost['runc']:+.0f} ms")
    finally:
        shutil.rmtree(base, ignore_errors=True)
        with_suppress_rmdir(Path("/sys/fs/cgroup/bench"))


def with_suppress_rmdir(path: Path) -> None:
    try:
        path.rmdir()
    except OSError:
        pass


if __name__ == "__main__":
    main()
