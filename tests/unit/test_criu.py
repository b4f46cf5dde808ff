"""ocirun.criu and the checkpoint/restore helpers that need no criu: runc's flag values, the
external mounts named at dump and mapped at restore, criu's log, and the criu binary lookup."""

from __future__ import annotations

from pathlib import Path

import pytest

from ocirun import criu
from ocirun.lifecycle import checkpoint, restore
from ocirun.spec.model import Spec


def test_flag_values() -> None:
    assert criu.empty_ns_flags(["network"]) == criu.CLONE_NEWNET
    assert criu.empty_ns_flags([]) == 0
    with pytest.raises(criu.CriuError, match="'pid' is not supported"):
        criu.empty_ns_flags(["pid"])
    assert criu.cg_mode(None) is None
    assert criu.cg_mode("soft") == 3 and criu.cg_mode("strict") == 5 and criu.cg_mode("ignore") == 0
    with pytest.raises(criu.CriuError, match="invalid mode 'hard'"):
        criu.cg_mode("hard")


def test_find(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(criu.CriuError, match=r"`/nonexistent/criu` \(--criu\)"):
        criu.find("/nonexistent/criu")
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(criu.CriuError, match=r"`criu` not found in \$PATH"):
        criu.find(None)
    exe = tmp_path / "criu"
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    assert criu.find(None) == str(exe)


def test_first_error(tmp_path: Path) -> None:
    log = tmp_path / "restore.log"
    log.write_text("(00.01) some line\n(00.02) Error (criu/mount.c:123): mnt: No mapping for 42:/data mountpoint\n"
                   "(00.03) Error (criu/cr-restore.c:2400): Restoring FAILED.\n(00.04) done\n")
    assert criu.first_error(str(log)) == "mnt: No mapping for 42:/data mountpoint"
    assert criu.first_error(str(tmp_path / "missing.log")) == ""


def test_dump_and_restore_mounts(tmp_path: Path) -> None:
    """Dump names bind mounts and devices by destination, masked files as "/dev/null"; restore
    maps those names to the sources of its own bundle and makes the mount points."""
    config = {
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {"destination": "/data", "type": "bind", "source": "/srv/data", "options": ["rbind"]},
            {"destination": "/etc/hosts", "source": "hosts", "options": ["bind", "ro"]},
            {"destination": "/run", "type": "tmpfs", "source": "tmpfs"},
            {"destination": "/run/x", "type": "bind", "source": "/srv/x"},
        ],
        "linux": {"maskedPaths": ["/proc/self"], "devices": [{"path": "/dev/fuse", "type": "c"}]},
    }
    pairs = checkpoint.dump_mounts(config, 1)
    assert ("/data", "/data") in pairs and ("/etc/hosts", "/etc/hosts") in pairs
    assert ("/proc", "/proc") not in pairs
    assert ("/dev/null", "/dev/null") in pairs and ("/dev/fuse", "/dev/fuse") in pairs

    bundle = tmp_path / "bundle"
    rootfs = bundle / "rootfs"
    rootfs.mkdir(parents=True)
    (bundle / "hosts").write_text("127.0.0.1 localhost\n")
    (rootfs / "etc").symlink_to("/nonexistent-host-dir")  # never followed
    spec = Spec.__new__(Spec)
    spec.raw = config
    got = restore.restore_mounts(spec, str(bundle), str(rootfs))
    assert ("/data", "/srv/data") in got
    assert ("/etc/hosts", str(bundle / "hosts")) in got
    assert ("/dev/null", "/dev/null") in got  # the masked files' mount
    assert (rootfs / "data").is_dir() and (rootfs / "proc").is_dir()
    assert not (rootfs / "run").exists() or not (rootfs / "run" / "x").exists()  # inside a tmpfs: criu's
    assert not Path("/nonexistent-host-dir").exists()


def test_rpc_messages_are_loaded_alone() -> None:
    """criu's rpc_pb2 without the rest of pycriu (its image messages cost seconds in the guest)."""
    import subprocess
    import sys

    if not any(Path(d, "pycriu", "rpc_pb2.py").is_file() for d in (*sys.path, criu.DIST_PACKAGES)):
        pytest.skip("Debian's criu package (pycriu) is not installed")
    code = ("import sys; from ocirun import criu; m = criu.rpc(); assert m is criu.rpc(); "
            "print(m.criu_req(type=m.DUMP).type == m.DUMP, sorted(k for k in sys.modules if k.startswith('pycriu')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split("\n")[0] == "True ['pycriu.rpc_pb2']"


def test_rpc_messages_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setattr(sys, "path", [str(tmp_path)])
    monkeypatch.setattr(criu, "DIST_PACKAGES", str(tmp_path / "none"))
    monkeypatch.delitem(sys.modules, "pycriu.rpc_pb2", raising=False)
    with pytest.raises(criu.CriuError, match="install Debian's criu package"):
        criu.rpc()
