"""checkpoint and restore times, ocirun against runc (issue 18), in turns on the same bundle.

A busybox container counting in a loop is started (run -d), checkpointed, restored (restore -d)
and force-deleted, N times per runtime, the runtimes interleaved; the wall time of each
checkpoint and each restore command is taken (time.perf_counter around the command).  Prints the
medians and ocirun's ratios to runc.  criu must work on the kernel, so on this project's machines
it runs in the cgroup v2 guest (whose TCG emulation makes everything 10-60 times slower):

    make bench-criu        # = run-in-v2.sh -- .venv/bin/python bench/criu.py (--runs 5)

In the guest on 2026-12-07, an idle host, --runs 5, with the venv in the guest's memory
(tests/in-guest.sh): checkpoint ocirun 4.55 s, runc 1.90 s (2.40x); restore ocirun 4.71 s, runc
2.14 s (2.20x).  With the venv read over 9p it was 6.10 s against 1.77 s (3.45x) and 5.93 s
against 2.05 s (2.89x).  Most of the rest is Python's start and imports (criu's protobuf messages
among them), which the emulation slows far more than runc's Go; natively ocirun's `run` is 0.86x
runc's.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
COUNTER = "i=0; while :; do i=$((i+1)); echo $i > /tmp/n; sleep 0.1; done"


def make_bundle(base: str) -> str:
    bundle = os.path.join(base, "bundle")
    rootfs = os.path.join(bundle, "rootfs")
    for d in ("bin", "proc", "sys", "dev", "tmp"):
        os.makedirs(os.path.join(rootfs, d))
    shutil.copy2("/bin/busybox", os.path.join(rootfs, "bin", "busybox"))
    for applet in ("sh", "sleep"):
        os.symlink("busybox", os.path.join(rootfs, "bin", applet))
    config = {
        "ociVersion": "1.0.2",
        "process": {"terminal": False, "user": {"uid": 0, "gid": 0}, "args": ["/bin/sh", "-c", COUNTER],
                    "env": ["PATH=/bin"], "cwd": "/"},
        "root": {"path": "rootfs"},
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "mode=755"]},
        ],
        "linux": {
            "cgroupsPath": "/ocirun-bench-criu",
            "namespaces": [{"type": t} for t in ("pid", "network", "ipc", "uts", "mount")],
        },
    }
    with open(os.path.join(bundle, "config.json"), "w") as f:
        json.dump(config, f)
    return bundle


def timed(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)}: exit {proc.returncode}: {proc.stderr.decode(errors='replace').strip()}")
    return elapsed


def wait_counting(bundle: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    path = os.path.join(bundle, "rootfs", "tmp", "n")
    while time.monotonic() < deadline:
        try:
            with open(path) as f:
                if int(f.read().strip() or 0) >= 3:
                    return
        except (OSError, ValueError):
            pass
        time.sleep(0.1)
    sys.exit("the container did not count")


def one_round(binary: str, root: str, bundle: str, image: str, cid: str) -> tuple[float, float]:
    rt = [binary, "--root", root]
    if os.path.exists(os.path.join(bundle, "rootfs", "tmp", "n")):
        os.unlink(os.path.join(bundle, "rootfs", "tmp", "n"))
    # /dev/null as stdio: criu cannot dump a file outside the container (clients give pipes)
    subprocess.run([*rt, "run", "-d", "-b", bundle, cid], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, check=True)
    try:
        wait_counting(bundle)
        shutil.rmtree(image, ignore_errors=True)
        dump = timed([*rt, "checkpoint", "--image-path", image, cid])
        restore = timed([*rt, "restore", "-d", "--image-path", image, "-b", bundle, cid])
    finally:
        subprocess.run([*rt, "delete", "-f", cid], stderr=subprocess.DEVNULL)
    return dump, restore


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--ocirun", default=os.path.join(os.path.dirname(HERE), ".venv", "bin", "ocirun"))
    ap.add_argument("--runc", default=shutil.which("runc") or "/usr/sbin/runc")
    args = ap.parse_args()
    runtimes = {"ocirun": args.ocirun, "runc": args.runc}
    base = tempfile.mkdtemp(prefix="bench-criu-")
    try:
        bundle = make_bundle(base)
        times: dict[str, dict[str, list[float]]] = {n: {"checkpoint": [], "restore": []} for n in runtimes}
        for i in range(args.runs):
            for name, binary in (runtimes.items() if i % 2 == 0 else reversed(runtimes.items())):
                dump, restore = one_round(binary, os.path.join(base, f"state-{name}"), bundle,
                                          os.path.join(base, "image"), f"bench-{name}")
                times[name]["checkpoint"].append(dump)
                times[name]["restore"].append(restore)
                print(f"{name:7} run {i + 1}: checkpoint {dump:.2f} s, restore {restore:.2f} s", file=sys.stderr)
        print(f"{'':12}{'ocirun':>10}{'runc':>10}{'ratio':>8}   (medians of {args.runs}, seconds)")
        for what in ("checkpoint", "restore"):
            o, r = (statistics.median(times[n][what]) for n in ("ocirun", "runc"))
            print(f"{what:12}{o:10.2f}{r:10.2f}{o / r:8.2f}")
    finally:
        shutil.rmtree(base, ignore_errors=True)
        for d in ("/sys/fs/cgroup/ocirun-bench-criu",):
            try:
                os.rmdir(d)
            except OSError:
                pass


if __name__ == "__main__":
    main()
