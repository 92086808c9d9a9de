"""The REST API for newsroom tools: FastAPI routers over the dashboard's store and engine.

One router per resource (`routers/`), authentication as a dependency (`auth.current_user`), and
the result JSON of `score --json` as the one schema for CLI, API and reports.
"""
