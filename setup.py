"""Builds the compiled parts of ocirun.

- ocirun._shim, the cffi module (out-of-line API mode; ocirun/_shim_build.py);
- ocirun/libexec/ocirun-init, the container's init stage: a static program without libc that the
  shim execs from a sealed memfd (csrc/init.c, one translation unit with the parts in csrc/init/,
  and the op codes, field accessors and dispatch that ocirun/_opgen.py generates from
  ocirun/protocol.py into the build directory first; tests/unit/conftest.py builds a test program
  of some of the parts the same way, with the same NOLIBC_CFLAGS);
- bin/ocirun, the command: a static program that starts this environment's python3 with -I -S
  (csrc/launcher.c; pip cannot put interpreter options into a script's #! line).
Everything else is in pyproject.toml.
"""

import importlib.util
import os
import subprocess

from setuptools import setup
from setuptools.command.build_ext import build_ext

ROOT = os.path.dirname(os.path.abspath(__file__))
LAUNCHER = os.path.join("build", "launcher", "ocirun")
NOLIBC_CFLAGS = [
    "-std=gnu11", "-Os", "-Wall", "-Wextra", "-Werror",
    "-static", "-nostdlib", "-ffreestanding", "-fno-stack-protector", "-fno-pie", "-no-pie",
    "-fno-asynchronous-unwind-tables", "-fno-unwind-tables", "-ffunction-sections", "-fdata-sections",
    "-Wl,--gc-sections", "-Wl,--build-id=none", "-s",
]


# An attack-test build (make attack-proof): $OCIRUN_WEAKEN=<name> takes out one protection
# (csrc/weaken.h).  Only tests/attack_proof.py sets it, building a copy of the sources in
# build/attack/src for a venv of its own; anywhere else it is refused.
WEAKEN = os.environ.get("OCIRUN_WEAKEN", "")
WEAKEN_FLAGS = [f"-DOCIRUN_WEAKEN_{WEAKEN.upper().replace('-', '_')}=1"] if WEAKEN else []
if WEAKEN:
    import sys

    if not ROOT.endswith(os.path.join("build", "attack", "src")):
        sys.exit(f"setup.py: OCIRUN_WEAKEN={WEAKEN} is for tests/attack_proof.py only (unset it)")
    with open(os.path.join(ROOT, "csrc", "weaken.h")) as f:
        if WEAKEN_FLAGS[0][2:-2] not in f.read():
            sys.exit(f"setup.py: OCIRUN_WEAKEN={WEAKEN}: no such switch in csrc/weaken.h")
    print(f"setup.py: WEAKENED BUILD ({WEAKEN}): for attack tests only, never to be used", file=sys.stderr)
    os.environ["CFLAGS"] = " ".join([os.environ.get("CFLAGS", ""), *WEAKEN_FLAGS]).strip()  # the cffi module


def compile_nolibc(source: str, out: str, include: tuple[str, ...] = ()) -> None:
    os.makedirs(os.path.dirname(out), exist_ok=True)
    cc = os.environ.get("CC", "gcc")
    includes = [f"-I{d}" for d in include]
    subprocess.check_call([cc, *NOLIBC_CFLAGS, *WEAKEN_FLAGS, *includes, "-o", out, os.path.join(ROOT, "csrc", source)])


def generate_ops(out_dir: str) -> None:
    """The init stage's op headers from ocirun/protocol.py (ocirun/_opgen.py, loaded by its path:
    the build environment may lack ocirun's dependencies)."""
    spec = importlib.util.spec_from_file_location("_ocirun_opgen", os.path.join(ROOT, "ocirun", "_opgen.py"))
    assert spec is not None and spec.loader is not None
    opgen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(opgen)
    opgen.write(out_dir)


class BuildExt(build_ext):
    """build_ext that also builds the init stage (next to the cffi module) and the launcher."""

    def run(self) -> None:
        super().run()
        base = ROOT if self.inplace else self.build_lib
        generated = os.path.join(os.path.abspath(self.build_temp), "init")
        generate_ops(generated)
        compile_nolibc("init.c", os.path.join(base, "ocirun", "libexec", "ocirun-init"), (generated,))
        compile_nolibc("launcher.c", os.path.join(ROOT, LAUNCHER))
        write_commit(os.path.join(base, "ocirun", "libexec", "commit"))


def write_commit(out: str) -> None:
    """The commit the build is of, for ``ocirun --version`` (runc's ``commit:`` line)."""
    try:
        commit = subprocess.run(
            ["git", "-C", ROOT, "describe", "--always", "--dirty", "--abbrev=12"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    with open(out, "w") as f:
        f.write(commit + "\n")


setup(
    cmdclass={"build_ext": BuildExt},
    cffi_modules=["ocirun/_shim_build.py:ffibuilder"],
    data_files=[("bin", [LAUNCHER])],
)
