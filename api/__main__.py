"""`python -m api`: serve the REST API (see api/app.py)."""

import sys

from api.app import serve

sys.exit(serve())
