"""`python -m pipeline ...`, the same as the console script `dfd`: see pipeline/cli.py."""

import sys

from pipeline.cli import run

sys.exit(run())
