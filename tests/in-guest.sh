#!/bin/sh
# Runs one command in an emulated guest (the guest tool, $V2VM, with the options given before
# `--`) and exits with the command's status.
#
# The venv goes into the guest's memory first. The guest sees the current directory over 9p
# without a metadata cache, and every Python start looked up its few hundred module files there:
# `ocirun list` took 1.4 to 8 s in the guest, and 0.35 s with the venv in the guest's tmpfs
# (runc, one static file, was not slowed). So the venv is packed here into one tar file (without
# pip and ruff; mypy stays, test_docs.py runs it), unpacked there, and bound over $PWD/.venv, at
# the same path.
# The integration tests' directory (/tmp/ocirun-it) gets a tmpfs of its own: the guest's /tmp is
# nosuid and nodev, and every test rootfs is bound from there with those flags.
#
# The command also leaves its status in a file of the current directory (shared with the guest,
# written back at once), because the guest tool can lose it: twice here the criu lane's guest
# said "command exited with status 0" on its console and powered off, and the tool reported
# "guest died while running the command" (status 125). When the tool says 125 and the command's
# own status is there, that status is the answer.
#
#   tests/in-guest.sh [guest tool options] -- COMMAND [ARG...]
set -u
V2VM=${V2VM:-../shared/tools/cgroup2-vm/run-in-v2.sh}
rcfile=$(mktemp "$PWD/.guest-status.XXXXXX")
venvtar=$(mktemp "$PWD/.guest-venv.XXXXXX")
trap 'rm -f "$rcfile" "$venvtar"' EXIT
opts=
while [ $# -gt 0 ] && [ "$1" != -- ]; do opts="$opts $1"; shift; done
[ $# -gt 0 ] && shift
site=./lib/python3*/site-packages
tar -C .venv -cf "$venvtar" --exclude="$site/ruff" --exclude="$site/pip" . || exit 1
# $opts is split on spaces on purpose: options and their values, none with spaces
# shellcheck disable=SC2086
"$V2VM" $opts -- sh -c '
  rcfile=$1 venvtar=$2; shift 2
  mkdir -p /tmp/guest-venv && tar -C /tmp/guest-venv -xf "$venvtar" &&
    mount --bind /tmp/guest-venv "$PWD/.venv" || exit 1
  mkdir -p /tmp/ocirun-it && mount -t tmpfs -o mode=0755 ocirun-it /tmp/ocirun-it || exit 1
  "$@"; rc=$?; echo "$rc" > "$rcfile"; sync; exit "$rc"' in-guest "$rcfile" "$venvtar" "$@"
rc=$?
if [ "$rc" = 125 ] && [ -s "$rcfile" ]; then
  own=$(cat "$rcfile")
  echo "in-guest.sh: the guest tool lost the command's status at power-off (125); the command's own: $own" >&2
  rc=$own
fi
exit "$rc"
