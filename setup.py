"""Builds the two compiled parts of ocirun.

- ocirun._shim, the cffi module (out-of-line API mode; ocirun/_shim_build.py);
- ocirun/libexec/ocirun-init, the container's init stage: a static program without libc that the
  shim execs from a sealed memfd (csrc/init.c).
Everything else is in pyproject.toml.
"""

import os
import subprocess

from setuptools import setup
from setuptools.command.build_ext import build_ext

INIT_CFLAGS = [
    "-std=gnu11", "-Os", "-Wall", "-Wextra", "-Werror",
    "-static", "-nostdlib", "-ffreestanding", "-fno-stack-protector", "-fno-pie", "-no-pie",
    "-fno-asynchronous-unwind-tables", "-fno-unwind-tables", "-ffunction-sections", "-fdata-sections",
    "-Wl,--gc-sections", "-Wl,--build-id=none", "-s",
]


class BuildExt(build_ext):
    """build_ext that also builds the init stage next to the cffi module."""

    def run(self) -> None:
        super().run()
        root = os.path.dirname(os.path.abspath(__file__))
        base = root if self.inplace else self.build_lib
        out_dir = os.path.join(base, "ocirun", "libexec")
        os.makedirs(out_dir, exist_ok=True)
        cc = os.environ.get("CC", "gcc")
        out = os.path.join(out_dir, "ocirun-init")
        subprocess.check_call([cc, *INIT_CFLAGS, "-o", out, os.path.join(root, "csrc", "init.c")])


setup(
    cmdclass={"build_ext": BuildExt},
    cffi_modules=["ocirun/_shim_build.py:ffibuilder"],
)
