"""Proof that the attack tests catch what they guard against (`make attack-proof`, as root).

For each protection of ocirun's there is a build switch that takes it out (csrc/weaken.h,
``OCIRUN_WEAKEN=<name>`` for setup.py).  This script builds each weakened variant from a copy of the
sources into a venv of its own (build/attack/venv: never the checkout's .venv, never an installed
ocirun), runs the attack tests that cover that protection against it (``--runtime=ocirun`` with
``OCIRUN_BIN``), and succeeds only if every one of those tests FAILS there, while all of them pass
on the normal build (.venv/bin/ocirun).

    .venv/bin/python tests/attack_proof.py [VARIANT ...]     # default: all
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
WORK = REPO / "build" / "attack"
VENV = WORK / "venv"
CVES = "tests/integration/test_cves.py::"
MOUNTS = "tests/integration/test_mounts.py::"

# variant: (the protection it takes out, the tests that must fail without it)
VARIANTS: dict[str, tuple[str, list[str]]] = {
    "no-resolve-in-root": (
        "paths in the rootfs are resolved with openat2 RESOLVE_IN_ROOT (symlinks stay inside)",
        [CVES + "test_mount_destination_symlink_out_of_the_rootfs",
         CVES + "test_symlinked_dev_or_proc_in_the_image",
         CVES + "test_cve_2021_30465_mount_destination_symlink_race"],
    ),
    "host-init": (
        "the init stage runs from a sealed memfd copy, not the host's file (CVE-2019-5736)",
        [CVES + "test_cve_2019_5736_created_init_executable_cannot_be_written"],
    ),
    "no-close-range": (
        "every fd of the runtime's is close-on-exec before the user's program (CVE-2024-21626)",
        [CVES + "test_cve_2024_21626_only_stdio_fds_after_run",
         CVES + "test_cve_2024_21626_only_stdio_fds_after_create_start",
         CVES + "test_cve_2024_21626_only_stdio_fds_in_exec"],
    ),
    "no-cwd-check": (
        "a working directory outside the root (getcwd: unreachable) is refused (CVE-2024-21626)",
        [CVES + "test_cve_2024_21626_cwd_through_a_preserved_host_directory"],
    ),
    "unverified-devnull": (
        "masks use the host's /dev/null, checked to be 1:3, not the container's (CVE-2025-31133)",
        # (an image's own /dev/null that is no device is refused earlier, at mknod: not this check)
        [CVES + "test_cve_2025_31133_dev_null_swapped_before_masking"],
    ),
    "follow-console": (
        "the pty is mounted on the image's /dev/console, never through a symlink (CVE-2025-52565 class)",
        [CVES + "test_image_console_symlink_is_not_followed"],
    ),
    "dumpable-init": (
        "the init stage is not dumpable until the user's program runs",
        [CVES + "test_created_init_is_not_dumpable"],
    ),
    "no-procfs-check": (
        "sysctls and oom_score_adj are written only to a real procfs (CVE-2025-52881 class)",
        [CVES + "test_sysctl_never_written_into_the_image",
         CVES + "test_oom_score_adj_never_written_into_the_image"],
    ),
    "replace-devices": (
        "nothing at a device path is unlinked: a matching node is kept, another file is an error",
        [MOUNTS + "test_configured_device_matching_an_existing_node",
         MOUNTS + "test_configured_device_on_a_different_file"],
    ),
    "keep-host-procfs": (
        "--no-pivot unmounts or covers the host's procfs and sysfs outside the rootfs, so a new proc "
        "mount is refused (mount_too_revealing)",
        [CVES + "test_no_pivot_leaves_no_host_procfs_to_remount"],
    ),
    "no-plain-dir-check": (
        "proc and sysfs are mounted on an ordinary directory, not through a symlink (CVE-2019-19921)",
        [CVES + "test_cve_2019_19921_proc_or_sysfs_onto_a_symlink"],
    ),
}


def log(msg: str) -> None:
    print(f"attack-proof: {msg}", flush=True)


def run(cmd: list[str], **kw: object) -> None:
    subprocess.run(cmd, check=True, **kw)  # type: ignore[call-overload]


def make_venv() -> Path:
    """build/attack/venv with what building and running ocirun needs (once)."""
    py = VENV / "bin" / "python"
    if not py.exists():
        log(f"making {VENV}")
        run([sys.executable, "-m", "venv", str(VENV)])
        run([str(py), "-m", "pip", "install", "-q", "cffi>=1.15", "jsonschema>=4", "setuptools>=77", "wheel"],
            stderr=subprocess.DEVNULL)
    return py


def install(variant: str | None) -> Path:
    """ocirun built (weakened as ``variant`` says) from a fresh copy of the sources into VENV."""
    py = make_venv()
    src = WORK / "src"
    shutil.rmtree(src, ignore_errors=True)
    src.mkdir(parents=True)
    ignore = shutil.ignore_patterns("*.so", "libexec", "__pycache__", "_shim.c", "*.egg-info")
    for name in ("setup.py", "pyproject.toml", "README.md", "LICENSE", "csrc", "ocirun"):
        path = REPO / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=ignore)
        elif path.exists():
            shutil.copy2(path, src / name)
    env = dict(os.environ)
    env.pop("OCIRUN_WEAKEN", None)
    if variant:
        env["OCIRUN_WEAKEN"] = variant
    run([str(py), "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "--force-reinstall",
         str(src)], env=env, cwd=str(src), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return VENV / "bin" / "ocirun"


def outcomes(binary: Path, tests: list[str], tag: str) -> dict[str, list[str]]:
    """{test function id: [outcome of each of its items]} of a pytest run on ocirun ``binary``."""
    report = WORK / f"{tag}.xml"
    env = dict(os.environ, OCIRUN_BIN=str(binary))
    cmd = [str(REPO / ".venv" / "bin" / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider",
           "--runtime=ocirun", f"--junitxml={report}", "-o", "junit_family=xunit1", *tests]
    subprocess.run(cmd, cwd=str(REPO), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    found: dict[str, list[str]] = {t: [] for t in tests}
    for case in ET.parse(report).getroot().iter("testcase"):
        func = case.get("name", "").split("[")[0]
        key = next((t for t in tests if t.endswith("::" + func)), None)
        if key is None:
            continue
        if case.find("failure") is not None or case.find("error") is not None:
            found[key].append("failed")
        elif case.find("skipped") is not None:
            found[key].append("skipped")
        else:
            found[key].append("passed")
    return found


def main(argv: list[str]) -> int:
    if os.geteuid() != 0:
        log("needs root (the attack tests are integration tests)")
        return 1
    names = argv or list(VARIANTS)
    unknown = [n for n in names if n not in VARIANTS]
    if unknown:
        log(f"unknown variants {unknown}; known: {', '.join(VARIANTS)}")
        return 1
    WORK.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    ok = True

    every = list(dict.fromkeys(t for n in names for t in VARIANTS[n][1]))
    log(f"the normal build: {len(every)} attack tests must pass")
    t0 = time.monotonic()
    normal = outcomes(install(None), every, "normal")
    for test, got in normal.items():
        if not got or set(got) != {"passed"}:
            log(f"  FAIL: {test} does not pass on the normal build: {got}")
            ok = False
    items = sum(len(got) for got in normal.values())
    log(f"the normal build: {'all ' if ok else 'NOT all '}{items} items passed in {time.monotonic() - t0:.0f} s")

    for name in names:
        what, tests = VARIANTS[name]
        t0 = time.monotonic()
        got = outcomes(install(name), tests, name)
        caught = {t: r.count("failed") for t, r in got.items()}
        missed = [t for t, n in caught.items() if n == 0]
        status = "ok" if not missed else "NOT CAUGHT"
        log(f"{name} ({what}): {status} in {time.monotonic() - t0:.0f} s")
        for t, n in caught.items():
            log(f"    {t.split('::')[1]}: {n} of {len(got[t])} failed")
        if missed:
            ok = False
    install(None)  # leave no weakened build behind
    log(f"{'PASSED' if ok else 'FAILED'} in {time.monotonic() - start:.0f} s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
