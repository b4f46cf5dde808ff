"""End-to-end tests: podman, containerd and Docker, as Debian ships them, driving ocirun (and runc,
the oracle, in the same run).  Everything here carries the ``e2e`` marker; a client that is not
installed skips its tests with the reason.  See tests/e2e/README.md.

The ``runtime`` fixture of tests/conftest.py is replaced here by an ``EngineRuntime`` (a name and
a binary for the client to use); it is parametrized the same way (``--runtime``), so
``xfail_runtime`` works as in the integration tests.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from . import images
from .support import WORK_BASE, EngineRuntime, runtime_binary

E2E_DIR = Path(__file__).parent
TEST_TIMEOUT = 180


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    not_root = os.geteuid() != 0
    for item in items:
        if E2E_DIR not in Path(item.path).parents:
            continue
        item.add_marker(pytest.mark.e2e)
        if item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(TEST_TIMEOUT))
        if not_root:
            item.add_marker(pytest.mark.skip(reason="e2e tests need root"))


@pytest.fixture
def runtime(request: pytest.FixtureRequest) -> EngineRuntime:
    """The OCI runtime under the client: ocirun or runc (parametrized by tests/conftest.py)."""
    name = request.param
    return EngineRuntime(name, runtime_binary(name, request.config))


@pytest.fixture(scope="session")
def image_dir() -> Iterator[Path]:
    """The image as a rootfs tarball (podman import, docker import) and an OCI archive (ctr image
    import)."""
    WORK_BASE.mkdir(parents=True, exist_ok=True)
    d = Path(os.path.realpath(WORK_BASE)) / f"image-{os.getpid()}"
    d.mkdir()
    layer = images.rootfs_layer()
    (d / "rootfs.tar").write_bytes(layer)
    (d / "oci.tar").write_bytes(images.oci_archive(layer, images.CONTAINERD_IMAGE, ["/bin/sh"]))
    yield d
    shutil.rmtree(d, ignore_errors=True)
