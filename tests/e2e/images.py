"""The e2e tests' image, made here from the host's static busybox (no registry, no network).

- ``rootfs_tar``: a plain rootfs tarball, for ``podman import``.
- ``oci_archive``: the same layer as an OCI image layout in a tarball (oci-layout, index.json,
  blobs/sha256/...), for ``ctr image import``; built with tarfile and json only.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import subprocess
import tarfile
import time
from pathlib import Path

BUSYBOX = "/bin/busybox"

PASSWD = (
    "root:x:0:0:root:/root:/bin/sh\ntester:x:1000:1000:Test User:/home/tester:/bin/sh\n"
    "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
)
GROUP = "root:x:0:\ntty:x:5:\nusers:x:100:tester\ntester:x:1000:\nnogroup:x:65534:\n"
PODMAN_IMAGE = "localhost/ocirun-e2e-busybox:latest"
CONTAINERD_IMAGE = "docker.io/library/ocirun-e2e-busybox:latest"
# A file that is not executable, for the 126 checks.
NOT_EXECUTABLE = "/etc/not-executable"


def busybox_applets() -> list[str]:
    out = subprocess.run([BUSYBOX, "--list"], capture_output=True, text=True, check=True).stdout
    return sorted({a for a in out.split() if a and a != "busybox"})


def _info(name: str, kind: bytes, mode: int, size: int = 0, link: str = "") -> tarfile.TarInfo:
    ti = tarfile.TarInfo(name)
    ti.type = kind
    ti.mode = mode
    ti.size = size
    ti.linkname = link
    ti.mtime = int(time.time())
    ti.uid = ti.gid = 0
    ti.uname = ti.gname = "root"
    return ti


def rootfs_layer(extra_files: dict[str, tuple[bytes, int]] | None = None) -> bytes:
    """An uncompressed tar of the rootfs: /bin/busybox, an applet link for each applet in /bin,
    /etc/passwd and /etc/group, the usual empty directories, and ``extra_files``
    ({path: (content, mode)})."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for d, mode in (
            ("bin", 0o755),
            ("etc", 0o755),
            ("dev", 0o755),
            ("proc", 0o755),
            ("sys", 0o755),
            ("root", 0o700),
            ("home", 0o755),
            ("home/tester", 0o755),
            ("var", 0o755),
            ("run", 0o755),
            ("tmp", 0o1777),
        ):
            tar.addfile(_info(d, tarfile.DIRTYPE, mode))
        data = Path(BUSYBOX).read_bytes()
        tar.addfile(_info("bin/busybox", tarfile.REGTYPE, 0o755, len(data)), io.BytesIO(data))
        for applet in busybox_applets():
            tar.addfile(_info(f"bin/{applet}", tarfile.SYMTYPE, 0o777, link="busybox"))
        files = {
            "etc/passwd": (PASSWD.encode(), 0o644),
            "etc/group": (GROUP.encode(), 0o644),
            NOT_EXECUTABLE.lstrip("/"): (b"#!/bin/sh\necho should not run\n", 0o644),
        }
        for path, (content, mode) in {**files, **(extra_files or {})}.items():
            tar.addfile(_info(path.lstrip("/"), tarfile.REGTYPE, mode, len(content)), io.BytesIO(content))
    return buf.getvalue()


def _blob(layout: dict[str, bytes], data: bytes) -> dict[str, object]:
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    layout[f"blobs/sha256/{digest[7:]}"] = data
    return {"digest": digest, "size": len(data)}


def oci_archive(layer: bytes, name: str, cmd: list[str]) -> bytes:
    """An OCI image layout tarball with one (gzip) layer, named ``name`` for containerd."""
    files: dict[str, bytes] = {}
    compressed = gzip.compress(layer, mtime=0)
    layer_desc = {"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", **_blob(files, compressed)}
    config = {
        "architecture": "amd64" if _machine() == "x86_64" else "arm64",
        "os": "linux",
        "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], "Cmd": cmd},
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(layer).hexdigest()]},
        "history": [{"created_by": "ocirun e2e tests", "created": "2024-01-01T00:00:00Z"}],
        "created": "2024-01-01T00:00:00Z",
    }
    config_desc = {
        "mediaType": "application/vnd.oci.image.config.v1+json",
        **_blob(files, json.dumps(config).encode()),
    }
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": config_desc,
        "layers": [layer_desc],
    }
    manifest_desc = {
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        **_blob(files, json.dumps(manifest).encode()),
        "platform": {"architecture": config["architecture"], "os": "linux"},
        "annotations": {
            "io.containerd.image.name": name,
            "org.opencontainers.image.ref.name": name.rpartition(":")[2],
        },
    }
    files["oci-layout"] = json.dumps({"imageLayoutVersion": "1.0.0"}).encode()
    files["index.json"] = json.dumps({"schemaVersion": 2, "manifests": [manifest_desc]}).encode()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for d in ("blobs", "blobs/sha256"):
            tar.addfile(_info(d, tarfile.DIRTYPE, 0o755))
        for path, data in files.items():
            tar.addfile(_info(path, tarfile.REGTYPE, 0o644, len(data)), io.BytesIO(data))
    return buf.getvalue()


def _machine() -> str:
    import os

    return os.uname().machine
