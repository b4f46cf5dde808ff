"""python -m ocirun: the same as the ocirun command."""

import sys

from .cli import launch

launch(sys.argv[1:])
