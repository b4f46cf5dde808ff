"""cffi build script for ocirun._shim (out-of-line API mode).  Used by setup.py only: at run time
ocirun imports the compiled module and never cffi's builder."""

import os

from cffi import FFI

CSRC = "csrc"
_HERE = os.path.dirname(os.path.abspath(__file__))

ffibuilder = FFI()
with open(os.path.join(_HERE, "..", CSRC, "shim.h")) as f:
    ffibuilder.cdef(f.read())
ffibuilder.set_source(
    "ocirun._shim",
    '#include "shim.h"',
    sources=[os.path.join(CSRC, "shim.c")],
    include_dirs=[CSRC],
    extra_compile_args=["-std=gnu11", "-Wall", "-Wextra", "-Werror", "-D_GNU_SOURCE"],
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
