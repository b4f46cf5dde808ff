#!/bin/sh
# The integration suite against any runc-compatible runtime:
#     tests/harness.sh RUNTIME [REPORT.json] [pytest args, default tests/integration]
# (make test-runtime RUNTIME=/usr/bin/crun).  Prints the results by spec area and writes the JSON
# report (tests/README.md, "Any runtime").
#
# crun 1.8.1 refuses a hybrid cgroup layout whose cgroup2 mount has controllers ("cgroups in hybrid
# mode not supported, drop all controllers from cgroupv2"), whatever --cgroup-manager says.  On such
# a host the suite runs in a mount namespace of its own (propagation slave: nothing goes back to
# the host) where /sys/fs/cgroup/unified is detached and a small tmpfs of that namespace takes its
# place (what crun writes there goes nowhere, never into the host's /sys/fs/cgroup tmpfs under the
# mount), so crun sees cgroup v1 only; the host's mount stays as it is.  Only with
# HARNESS_HIDE_UNIFIED=1, or for a runtime named crun*.
set -eu
runtime=${1:?usage: tests/harness.sh RUNTIME [REPORT.json] [pytest args]}
report=${2:-harness-report.json}
[ $# -ge 2 ] && shift 2 || shift $#
[ $# -gt 0 ] || set -- tests/integration
cd "$(dirname "$0")/.."
py=${PYTHON:-.venv/bin/python}
unified=/sys/fs/cgroup/unified
hide=${HARNESS_HIDE_UNIFIED:-}
case "$(basename "$runtime")" in crun*) [ -n "$hide" ] || hide=auto ;; esac
if [ -n "$hide" ] && [ "$hide" != 0 ] && [ -n "$(cat "$unified/cgroup.controllers" 2>/dev/null)" ] \
   && [ "$(stat -f -c %T /sys/fs/cgroup)" != cgroup2fs ]; then
  echo "harness: running in a private mount namespace without $unified (hybrid layout; see tests/harness.sh)"
  exec unshare --mount --propagation slave -- sh -c \
    'umount -l "$0" && mount -t tmpfs -o size=1m,mode=755 harness-hid-cgroup2 "$0" && exec "$@"' "$unified" \
    "$py" -m pytest -q -p no:cacheprovider --runtime="$runtime" --report-json="$report" "$@"
fi
exec "$py" -m pytest -q -p no:cacheprovider --runtime="$runtime" --report-json="$report" "$@"
