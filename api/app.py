"""The FastAPI application (`make api`, `dfd serve`, `python -m api`)."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence

from fastapi import FastAPI

from api.routers import analyses, jobs
from api.services import Services
from dashboard.engine import Engine, load_engine
from dashboard.settings import APP_NAME, AppSettings

API_VERSION = "1"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8502


def create_app(app_settings: AppSettings | None = None, engine_factory: Callable[[], Engine] = load_engine) -> FastAPI:
    """The API over the dashboard's data directory (DFD_DATA_DIR), with the engine loaded on first use."""
    app = FastAPI(
        title=f"{APP_NAME} API",
        version=API_VERSION,
        description="Submit clips (upload or link), poll jobs, read results in the schema of `score --json`, "
        "download reports. Authenticate with `Authorization: Bearer <token>`; tokens are created on the "
        "dashboard's Account page, and a token sees only its own user's analyses.",
    )
    app.state.services = Services(app_settings or AppSettings.from_env(), engine_factory)
    app.include_router(jobs.router)
    app.include_router(analyses.router)
    return app


def serve(argv: Sequence[str] | None = None) -> int:
    """Run the API on uvicorn."""
    import uvicorn

    parser = argparse.ArgumentParser(prog="dfd serve", description=serve.__doc__)
    parser.add_argument("--host", default=DEFAULT_HOST)
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    args = parser.parse_args(argv)
    uvicorn.run(create_app(), host=args.host, port=args.port, workers=1)
    return 0
