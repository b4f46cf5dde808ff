"""cffi build script for ocirun._shim (out-of-line API mode).  Used by setup.py only: at run time
ocirun imports the compiled module and never cffi's builder.

The module is made of pairs of files in csrc/: NAME.c and NAME.h, where NAME.h holds plain
declarations only (it is the cffi cdef as well as the C header).
"""

import os

from cffi import FFI

CSRC = "csrc"
PARTS = ("shim", "cgroup_bpf", "seccomp")  # those that exist are built
_HERE = os.path.dirname(os.path.abspath(__file__))
_parts = [p for p in PARTS if os.path.exists(os.path.join(_HERE, "..", CSRC, p + ".c"))]

ffibuilder = FFI()
for part in _parts:
    with open(os.path.join(_HERE, "..", CSRC, part + ".h")) as f:
        ffibuilder.cdef(f.read())
ffibuilder.set_source(
    "ocirun._shim",
    "".join(f'#include "{p}.h"\n' for p in _parts),
    sources=[os.path.join(CSRC, p + ".c") for p in _parts],
    include_dirs=[CSRC],
    libraries=["seccomp"] if "seccomp" in _parts else [],
    extra_compile_args=["-std=gnu11", "-Wall", "-Wextra", "-Werror", "-D_GNU_SOURCE"],
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
