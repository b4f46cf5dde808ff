"""python -m ocirun: the same as the ocirun command."""

import sys

from .cli import main

sys.exit(main(sys.argv[1:]))
