#!/bin/sh
# Runs pytest in pure cgroup v2 guests side by side (run-in-v2.sh of ../shared/tools/cgroup2-vm,
# emulated: 10 to 60 times slower than here), one guest per argument, each argument the rest of one
# pytest command line; prints each guest's output (with the reasons of skips, failures, errors and
# xfails) and time once all have ended, and fails if one failed. Used by `make test-v2`,
# `make test-v2-lane` and `make test-v2-all`. Each guest runs through tests/in-guest.sh (the venv
# in the guest's memory, the tests' directory on a tmpfs of its own).
#
#   V2VM      the guest tool (default ../shared/tools/cgroup2-vm/run-in-v2.sh)
#   V2TIMEOUT each guest's limit in seconds (default 2400)
#   VPY       the venv's python (default .venv/bin/python)
#   CI=true   a missing guest tool is a failure (else it is said and skipped)
set -u
V2VM=${V2VM:-../shared/tools/cgroup2-vm/run-in-v2.sh}
V2TIMEOUT=${V2TIMEOUT:-2400}
VPY=${VPY:-.venv/bin/python}
if [ ! -x "$V2VM" ]; then
  if [ "${CI:-}" = true ]; then
    echo "v2guests: $V2VM not found: the pure cgroup v2 tests cannot run (CI=true: a failure)" >&2
    exit 1
  fi
  echo "v2guests: $V2VM not found: the pure cgroup v2 tests did not run" >&2
  exit 0
fi
"$V2VM" --setup || exit 1
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
n=0
started=$(date +%s)
for args in "$@"; do
  n=$((n + 1))
  # $args is split on spaces on purpose: it is a list of pytest arguments
  # shellcheck disable=SC2086
  ( t0=$(date +%s)
    V2VM=$V2VM tests/in-guest.sh --timeout "$V2TIMEOUT" -- "$VPY" -m pytest -q -p no:cacheprovider -rfEsx $args >"$logs/$n" 2>&1
    rc=$?
    echo "v2guests: guest $n ($args): exit $rc after $(( $(date +%s) - t0 )) s" >>"$logs/$n"
    echo "$rc" >"$logs/$n.rc" ) &
done
wait
status=0
i=0
while [ "$i" -lt "$n" ]; do
  i=$((i + 1))
  cat "$logs/$i"
  [ "$(cat "$logs/$i.rc")" = 0 ] || status=1
done
echo "v2guests: $n guest(s) in $(( $(date +%s) - started )) s, $([ $status = 0 ] && echo passed || echo FAILED)"
exit $status
