#!/usr/bin/env python3
"""Runs the OCI runtime-tools validation files against ocirun and runc, one result per file.

usage: runtime_tools.py RUNTIME_TOOLS_CHECKOUT [--runtime NAME=PATH]... [--only a,b]
                        [--retries N] [--logs DIR] [--page FILE --command TEXT]
                        [--replay DIR]   (the table and page again from DIR/results.json)

Each validation/X/X.t of the checkout (built by `make runtimetest validation-executables` there)
is run from the checkout with RUNTIME=PATH, as its README says, and its TAP output read:

  pass            exit 0, no "not ok", at least one "ok" (or "ok # SKIP")
  no assertion    exit 0, no "not ok", the plan "1..0" and no diagnostic: these files report only
                  failures, as a YAML diagnostic, never an "ok"; they are not counted as passes
  fail            anything else

A failing file is run again up to --retries times (a few files race, see NOTES); the table says
when a pass needed a rerun.  The table gives each file's result on every runtime and, where a file
does not pass, why (NOTES: a host limit, a suite bug with its upstream issue, or a choice).  With
--page it is written into a Markdown page with the command that made it.

The suite makes cgroups named /cgrouptest and testdir/cgrouptest/container (relative, so below
this process's own cgroups): after each file the empty testdir/cgrouptest parents the runtimes
leave are removed (rmdir only, so nothing that is in use).
"""

from __future__ import annotations

import json
import os
import platform
import re
import subprocess
import sys
import time

HOST = "host limit"
SUITE = "suite bug"
CHOICE = "ocirun choice"
RUNC = "runc 1.1.5"

# Why a file does not pass on this host (a cgroup v1 host, kernel 6.x, no SELinux or AppArmor,
# no net_cls/net_prio/hugetlb hierarchies, no CAP_SYS_RESOURCE in the bounding set).  One entry
# per file that does not pass on some runtime; "runc" entries say why runc alone fails.
NOTES: dict[str, tuple[str, str]] = {
    "delete": (CHOICE, "deleting a `created` container without --force succeeds, as in runc "
               "(containerd relies on it: tests/integration/test_lifecycle.py::"
               "test_delete_created_without_force); the spec wants an error"),
    "delete_resources": (SUITE, "compares the pids limit as Go pointers (runtime-spec 1.3 made "
                         "`pids.limit` a `*int64`, runtime-tools PR #795), never equal; no issue "
                         "filed upstream"),
    "linux_cgroups_pids": (SUITE, "as delete_resources: the pids limit compared as pointers (#795)"),
    "linux_cgroups_relative_pids": (SUITE, "as delete_resources: the pids limit compared as "
                                    "pointers (#795)"),
    "hooks": (SUITE, "cannot pass on any runtime: it reads the output after the bundle is removed "
              "and compares it with a string the hooks never write (runtime-tools #781)"),
    "linux_cgroups_blkio": (HOST, "sets a blkio weight: this kernel's blkio cgroup has only the "
                            "throttle files (no CFQ/BFQ weight file)"),
    "linux_cgroups_relative_blkio": (HOST, "as linux_cgroups_blkio: no blkio weight file"),
    "linux_cgroups_hugetlb": (HOST, "no hugetlb cgroup hierarchy is mounted"),
    "linux_cgroups_relative_hugetlb": (HOST, "no hugetlb cgroup hierarchy is mounted"),
    "linux_cgroups_network": (HOST, "no net_cls/net_prio cgroup hierarchy is mounted"),
    "linux_cgroups_relative_network": (HOST, "no net_cls/net_prio cgroup hierarchy is mounted"),
    "linux_cgroups_memory": (HOST, "`memory.kernel`: Linux 6.x has no kernel memory limit "
                             "(memory.kmem.limit_in_bytes stays at max; ocirun warns); every "
                             "other memory value is set"),
    "linux_cgroups_relative_memory": (HOST, "as linux_cgroups_memory: no kernel memory limit"),
    "linux_mount_label": (HOST, "no SELinux: ocirun refuses `$.linux.mountLabel` with that reason"),
    "linux_process_apparmor_profile": (HOST, "no AppArmor: ocirun refuses "
                                       "`$.process.apparmorProfile` with that reason"),
    "misc_props": (SUITE, "its unknown-annotation case runs /runtimetest, which the file never "
                   "copies into that bundle, so create fails on the missing executable (runc "
                   "too); no issue filed upstream"),
    "pidfile": (SUITE, "kills a container whose `true` has usually exited; `kill` of a stopped "
                "container MUST fail (runtime-tools #805, fix proposed in PR #813). A runtime "
                "passes only if its `state` still sees `true` running: a race that runc (a few ms "
                "per command) can win and ocirun (Python's start-up) does not"),
    "poststart": (SUITE, "reports only failures: a clean run prints `1..0` and no `ok`"),
    "poststop": (SUITE, "reports only failures: a clean run prints `1..0` and no `ok`"),
    "poststop_fail": (SUITE, "reports only failures: a clean run prints `1..0` and no `ok`"),
    "prestart_fail": (SUITE, "reports only failures: a clean run prints `1..0` and no `ok`"),
    "process_rlimits_fail": (SUITE, "reports only failures: a clean run prints nothing"),
    "poststart_fail": (SUITE, "reports only failures (`1..0`); it also expects a failing poststart "
                       "hook to be only a warning (spec 1.0), where spec 1.3 says error"),
    "prestart": (SUITE, "expects prestart hooks after `start` (the old config.md wording); "
                 "runtime.md's lifecycle and every runtime run them in `create` "
                 "(runtime-spec #909, runc #1574, runtime-spec PR #1275)"),
    "process_capabilities": (HOST, "CAP_SYS_RESOURCE is not in this host's bounding set: ocirun "
                             "warns and starts without it, as spec 1.3 says (runc 1.1.5 fails)"),
    "process_capabilities_fail": (SUITE, "expects an error for the unknown CAP_TEST; since "
                                  "runtime-spec PR #1094 a runtime MUST warn and SHOULD NOT fail "
                                  "(ocirun and runc warn)"),
    "process_rlimits": (SUITE, "runtimetest is a Go program: Go >= 1.19 raises its own "
                        "RLIMIT_NOFILE soft limit at start (runtime-tools #806)"),
    "killsig": (SUITE, "races: the signal can arrive before the shell has set its trap (passes "
                "on a rerun)"),
    "linux_cgroups_cpus": (SUITE, "under load a read of the cpu cgroup can come after the "
                           "container is gone (passes on a rerun)"),
}
RUNC_NOTES: dict[str, tuple[str, str]] = {
    "hooks_stdin": (RUNC, "gives prestart hooks the state `creating` and poststart hooks "
                    "`created`"),
    "linux_cgroups_devices": (RUNC, "lists its default device rules ahead of the config's"),
    "linux_cgroups_relative_devices": (RUNC, "lists its default device rules ahead of the "
                                       "config's"),
    "linux_rootfs_propagation": (RUNC, "does not make the root mount `shared` when asked"),
    "poststart": (RUNC, "runs poststart hooks in `create` (the file flags it)"),
    "linux_seccomp": (RUNC, "fails the file's seccomp action checks"),
    "start": (RUNC, "refuses a config without `process` at create; the file's last assertion "
              "is inverted: it wants `start` to succeed there (runtime-tools PR #813)"),
}


PAGE_NOTES = """
## Notes

- Where it runs: as root on the host, in a throw-away bundle per file (the suite's). The suite's
  cgroups are `/cgrouptest` and `testdir/cgrouptest/container`, the relative one below the
  runner's own cgroup in each hierarchy; the runner removes the empty parents it leaves behind.
- Why 31 is all ocirun can pass here: 15 files cannot pass on any runtime (suite bugs: `hooks`,
  `prestart`, the 6 that report only failures, the 3 pids files, `misc_props`, `process_rlimits`,
  `process_capabilities_fail`, and `pidfile`, which a runtime passes only by winning a race), 11
  need what this host lacks (blkio weights, hugetlb, net_cls/net_prio, kernel memory limits,
  SELinux, AppArmor, CAP_SYS_RESOURCE), and `delete` is a runc-compatible choice.
- `start` passes on ocirun through an inverted assertion (runtime-tools PR #813): ocirun's `start`
  of a container created without `process` exits 0 and the container stops, where runtime.md says
  `start` MUST generate an error. tests/integration/test_errors.py::test_no_process holds ocirun
  to the file's way on purpose; one of the two should change (refusing it costs this pass).
- Each full run here left one suite bundle mounted in the host's mount namespace
  (`/tmp/ocitest*` with its proc, dev, sys... mounts), at a time when runc's files were running;
  running runc's files one by one did not show which. After a run, `grep ocitest
  /proc/self/mountinfo` and `umount -R` what it lists.
- `killsig` and `linux_cgroups_cpus` race under load (on either runtime): a failing file is run
  once more, and the table says when a pass took a second run.
- Work on issue 15 that changes these files: a failing poststart hook becoming an error (spec
  1.3) makes `poststart_fail` print a diagnostic (it wants the spec 1.0 warning); no pass is won
  or lost by it. Hook environments, sysctls and device paths outside /dev touch no file here
  (`linux_sysctl` and `linux_devices` pass).
"""


def run_file(rt_dir: str, runtime: str, name: str, timeout: float = 240) -> dict[str, object]:
    path = os.path.join(rt_dir, "validation", name, name + ".t")
    env = dict(os.environ, RUNTIME=runtime)
    t0 = time.monotonic()
    try:
        p = subprocess.run([path], cwd=rt_dir, env=env, capture_output=True, text=True,
                           timeout=timeout)
        out, err, rc = p.stdout, p.stderr, p.returncode
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
        err, rc = "timeout", 124
    ok = len(re.findall(r"^ok \d+(?! # SKIP)", out, re.M))
    skip = len(re.findall(r"^ok \d+ # SKIP", out, re.M))
    notok = re.findall(r"^not ok \d+.*$", out, re.M)
    diag = bool(re.search(r"^\s+---$", out, re.M))
    if rc == 0 and not notok and ok + skip > 0:
        result = "pass"
    elif rc == 0 and not notok and not diag:
        result = "no assertion"
    else:
        result = "fail"
    first = notok[0] if notok else ((out + err).strip().splitlines() or [""])[-1]
    return {"name": name, "result": result, "rc": rc, "ok": ok, "skip": skip, "notok": len(notok),
            "first": first[:160], "seconds": round(time.monotonic() - t0, 1),
            "log": out + ("\n--- stderr\n" + err if err else "")}


def remove_suite_cgroups() -> None:
    """rmdir the empty testdir/cgrouptest (and /cgrouptest) the suite's containers leave."""
    try:
        with open("/proc/self/cgroup") as f:
            own = dict((line.split(":", 2)[1], line.split(":", 2)[2].strip()) for line in f)
    except OSError:
        return
    for entry in os.listdir("/sys/fs/cgroup"):
        base = os.path.join("/sys/fs/cgroup", entry)
        if not os.path.isdir(base) or os.path.islink(base):
            continue
        key = "" if entry == "unified" else entry if entry != "systemd" else "name=systemd"
        inner = next((v for k, v in own.items() if entry in k.split(",") or k == key), "/")
        for parent in {base, base + inner.rstrip("/")}:
            for sub in ("testdir/cgrouptest/container", "testdir/cgrouptest", "testdir", "cgrouptest"):
                try:
                    os.rmdir(os.path.join(parent, sub))
                except OSError:
                    pass


def cell(r: dict[str, object]) -> str:
    res = str(r["result"])
    if res == "pass" and int(str(r.get("tries", 1))) > 1:
        return f"pass (run {r['tries']})"
    return res


def note_for(rt: str, name: str, r: dict[str, object]) -> str:
    note = (RUNC_NOTES.get(name) if rt == "runc" else None) or NOTES.get(name)
    return f"{note[0]}: {note[1]}" if note else f"not explained yet: {r['first']}"


def why(name: str, results: dict[str, dict[str, object]]) -> str:
    notes = {rt: note_for(rt, name, r) for rt, r in results.items() if r["result"] != "pass"}
    if len(set(notes.values())) == 1 and len(notes) == len(results):
        out = list(set(notes.values()))
    else:
        out = [text if text.startswith(RUNC) else f"{rt}: {text}" for rt, text in notes.items()]
    r = results.get("ocirun")
    if r and r["result"] == "pass" and "inverted" in RUNC_NOTES.get(name, ("", ""))[1]:
        out.append("ocirun passes through the inverted assertion: its `start` of a container "
                   "without `process` exits 0, on purpose (tests/integration/test_errors.py::"
                   "test_no_process), though runtime.md says `start` MUST error there")
    for rt, r in results.items():
        if r["result"] == "pass" and int(str(r.get("tries", 1))) > 1 and name in NOTES:
            told = any(NOTES[name][1] in text for text in out)
            out.append(f"{rt} passed on a rerun" + ("" if told else f": {NOTES[name][1]}"))
    return "; ".join(out).replace("|", "\\|")


def table(names: list[str], res: dict[str, dict[str, dict[str, object]]]) -> list[str]:
    rts = list(res)
    lines = ["| file | " + " | ".join(rts) + " | why not |",
             "|---|" + "---|" * len(rts) + "---|"]
    for n in names:
        per = {rt: res[rt][n] for rt in rts}
        lines.append(f"| {n} | " + " | ".join(cell(per[rt]) for rt in rts) + f" | {why(n, per)} |")
    return lines


def main(argv: list[str]) -> int:
    rt_dir = os.path.abspath(argv[0])
    runtimes: dict[str, str] = {}
    only: set[str] | None = None
    retries, logs, page, command, replay = 1, "", "", "", ""
    args = argv[1:]
    while args:
        a = args.pop(0)
        if a == "--runtime":
            name, _, path = args.pop(0).partition("=")
            runtimes[name] = path or name
        elif a == "--only":
            only = set(args.pop(0).split(","))
        elif a == "--retries":
            retries = int(args.pop(0))
        elif a == "--logs":
            logs = args.pop(0)
        elif a == "--page":
            page = args.pop(0)
        elif a == "--command":
            command = args.pop(0)
        elif a == "--replay":
            replay = args.pop(0)
        else:
            print(f"unknown argument {a!r}", file=sys.stderr)
            return 2
    runtimes = runtimes or {"ocirun": "ocirun", "runc": "runc"}
    vdir = os.path.join(rt_dir, "validation")
    names = sorted(d for d in os.listdir(vdir) if os.path.exists(os.path.join(vdir, d, d + ".t")))
    if only:
        names = [n for n in names if n in only]
    if not names or not os.path.exists(os.path.join(rt_dir, "runtimetest")):
        print(f"{rt_dir}: no runtimetest or validation/*/*.t (make runtimetest validation-executables)",
              file=sys.stderr)
        return 2
    res: dict[str, dict[str, dict[str, object]]] = {rt: {} for rt in runtimes}
    if replay:
        with open(os.path.join(replay, "results.json")) as f:
            res = json.load(f)
        names = [n for n in names if all(n in per for per in res.values())]
        runtimes = {rt: runtimes.get(rt, rt) for rt in res}
    for rt, path in runtimes.items() if not replay else ():
        for n in names:
            for tries in range(1, retries + 2):
                r = run_file(rt_dir, path, n)
                remove_suite_cgroups()
                r["tries"] = tries
                if r["result"] != "fail":
                    break
            res[rt][n] = r
            print(f"{rt:7s} {r['result']!s:12s} {n:34s} ok={r['ok']} skip={r['skip']} "
                  f"notok={r['notok']} rc={r['rc']} {r['seconds']}s tries={r['tries']}"
                  f" {'' if r['result'] == 'pass' else r['first']}", flush=True)
            if logs:
                os.makedirs(os.path.join(logs, rt), exist_ok=True)
                with open(os.path.join(logs, rt, n + ".log"), "w") as f:
                    f.write(str(r["log"]))
    if logs and not replay:
        with open(os.path.join(logs, "results.json"), "w") as f:
            json.dump({rt: {n: {k: v for k, v in r.items() if k != "log"} for n, r in per.items()}
                       for rt, per in res.items()}, f, indent=1)
    counts = {rt: sum(r["result"] == "pass" for r in res[rt].values()) for rt in runtimes}
    quiet = {rt: sum(r["result"] == "no assertion" for r in res[rt].values()) for rt in runtimes}
    summary = ", ".join(f"{rt} {counts[rt]}/{len(names)} pass ({quiet[rt]} no assertion)"
                        for rt in runtimes)
    lines = table(names, res)
    print("\n".join(lines))
    print(summary)
    if "ocirun" in res and "runc" in res:
        lost = [n for n in names if res["runc"][n]["result"] == "pass"
                and res["ocirun"][n]["result"] != "pass"]
        print("runc passes, ocirun does not: " + (", ".join(lost) or "none"))
    if page:
        write_page(page, rt_dir, command, runtimes, summary, lines)
    return 0


def _version(cmd: list[str]) -> str:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=30).stdout
        return out.strip().splitlines()[0] if out.strip() else "?"
    except (OSError, subprocess.SubprocessError):
        return "?"


def write_page(page: str, rt_dir: str, command: str, runtimes: dict[str, str], summary: str,
               lines: list[str]) -> None:
    commit = _version(["git", "-C", rt_dir, "log", "-1", "--format=%h %s (%cs)"])
    go = _version(["go", "version", os.path.join(rt_dir, "runtimetest")]).split(": ")[-1]
    with open(page, "w") as f:
        f.write("# runtime-tools conformance\n\n")
        f.write("The OCI [runtime-tools](https://github.com/opencontainers/runtime-tools) validation "
                "files, run one by one against ocirun and runc on the development host (cgroup v1, "
                f"Linux {platform.release()}). Produced by\n\n    {command}\n\n")
        f.write(f"with runtime-tools at {commit}, built with {go}; "
                + "; ".join(f"{rt} is `{_version([p, '--version'])}`" for rt, p in runtimes.items())
                + ". The runner is tests/conformance/runtime_tools.py; its docstring says how a "
                "file's TAP output is read, and its NOTES give the reasons below.\n\n")
        f.write(f"**{summary}.** A file \"passes\" when it exits 0, prints at least one `ok` and no "
                "`not ok`. \"no assertion\" files print `1..0` and report only failures: one "
                "without a diagnostic found nothing wrong, but it is not counted as a pass.\n\n")
        f.write("\n".join(lines) + "\n")
        f.write(PAGE_NOTES)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
