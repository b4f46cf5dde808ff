#!/bin/sh
# Runs one command in an emulated guest (the guest tool, $V2VM, with the options given before
# `--`) and exits with the command's status. The command also leaves its status in a file of the
# current directory (shared with the guest, written back at once), because the guest tool can
# lose it: twice here the criu lane's guest said "command exited with status 0" on its console
# and powered off, and the tool reported "guest died while running the command" (status 125).
# When the tool says 125 and the command's own status is there, that status is the answer.
#
#   tests/in-guest.sh [guest tool options] -- COMMAND [ARG...]
set -u
V2VM=${V2VM:-../shared/tools/cgroup2-vm/run-in-v2.sh}
rcfile=$(mktemp "$PWD/.guest-status.XXXXXX")
trap 'rm -f "$rcfile"' EXIT
opts=
while [ $# -gt 0 ] && [ "$1" != -- ]; do opts="$opts $1"; shift; done
[ $# -gt 0 ] && shift
# $opts is split on spaces on purpose: options and their values, none with spaces
# shellcheck disable=SC2086
"$V2VM" $opts -- sh -c '"$@"; rc=$?; echo "$rc" > "$0"; sync; exit "$rc"' "$rcfile" "$@"
rc=$?
if [ "$rc" = 125 ] && [ -s "$rcfile" ]; then
  own=$(cat "$rcfile")
  echo "in-guest.sh: the guest tool lost the command's status at power-off (125); the command's own: $own" >&2
  rc=$own
fi
exit "$rc"
