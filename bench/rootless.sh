#!/bin/sh
# Rootless `run` time, ocirun next to runc (issue 17): a user made for the run (removed after),
# the `spec --rootless` config of each runtime with `true` as its process, hyperfine as that user.
#   sudo bench/rootless.sh [RUNS]        (default 30 runs, 3 warmup)
# Prints hyperfine's table; the medians and ocirun's ratio to runc are the last line.
set -eu
runs=${1:-30}
here=$(cd "$(dirname "$0")/.." && pwd)
ocirun=${OCIRUN:-$here/.venv/bin/ocirun}
user=ocibench$$
dir=$(mktemp -d /tmp/ocirun-rootless-bench.XXXXXX)
cleanup() { userdel "$user" 2>/dev/null || true; rm -rf "$dir"; }
trap cleanup EXIT
useradd --no-create-home --home-dir /nonexistent --shell /bin/sh --user-group "$user"
for rt in ocirun runc; do
  mkdir -p "$dir/$rt/rootfs/bin" "$dir/$rt/state"
  cp /bin/busybox "$dir/$rt/rootfs/bin/busybox"
  ln -s busybox "$dir/$rt/rootfs/bin/true"
done
chmod 755 "$dir"
chown -R "$user:$user" "$dir"
as_user() { setpriv --reuid="$user" --regid="$user" --clear-groups -- env -i PATH=/usr/bin:/bin "$@"; }
(cd "$dir/ocirun" && as_user "$ocirun" spec --rootless)
(cd "$dir/runc" && as_user runc spec --rootless)
for rt in ocirun runc; do
  python3 - "$dir/$rt/config.json" <<'EOF'
import json, sys
c = json.load(open(sys.argv[1]))
c["process"].update(args=["/bin/true"], terminal=False)
json.dump(c, open(sys.argv[1], "w"))
EOF
done
chown -R "$user:$user" "$dir"
as_user hyperfine -N --warmup 3 --runs "$runs" --export-json "$dir/out.json" \
  -n ocirun "$ocirun --root $dir/ocirun/state run -b $dir/ocirun c" \
  -n runc "runc --root $dir/runc/state run -b $dir/runc c"
python3 - "$dir/out.json" <<'EOF'
import json, statistics, sys
r = {x["command"]: statistics.median(x["times"]) * 1000 for x in json.load(open(sys.argv[1]))["results"]}
print(f"rootless run median: ocirun {r['ocirun']:.1f} ms, runc {r['runc']:.1f} ms, ratio {r['ocirun'] / r['runc']:.2f}")
EOF
