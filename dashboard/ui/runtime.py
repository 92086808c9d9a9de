"""Server-wide resources, created once per server process with `st.cache_resource`.

The cached functions only build objects: no Streamlit call happens inside them, so a cache hit
replays nothing. Tests swap `ENGINE_FACTORY` for a tiny model.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path

import streamlit as st

from dashboard.engine import Engine, EngineFactory, clear_stale_uploads, load_engine
from dashboard.results_store import ResultStore
from dashboard.settings import AppSettings
from dashboard.store import Store

# Load tests start a server with a small model: DFD_ENGINE_FACTORY="module:function" (see tools/loadtest.py).
ENGINE_FACTORY_ENV = "DFD_ENGINE_FACTORY"


def _configured_factory() -> EngineFactory:
    spec = os.environ.get(ENGINE_FACTORY_ENV, "")
    if not spec:
        return load_engine
    module, _, name = spec.partition(":")
    factory: EngineFactory = getattr(importlib.import_module(module), name)
    return factory


ENGINE_FACTORY: EngineFactory = _configured_factory()


@st.cache_resource(show_spinner="Loading the model (once per server; about 10 s)…")
def _engine(factory_id: str) -> Engine:
    del factory_id  # part of the cache key only: a test's tiny model never shadows the real one
    return ENGINE_FACTORY()


def get_engine() -> Engine:
    factory = ENGINE_FACTORY
    return _engine(f"{factory.__module__}.{getattr(factory, '__qualname__', repr(factory))}")


def app_settings() -> AppSettings:
    """Read per run: cheap, and a changed DFD_DATA_DIR (tests) takes effect at once."""
    return AppSettings.from_env()


@st.cache_resource(show_spinner=False)
def _store(database_path: str, uploads_dir: str) -> Store:
    """The store, once per server process; the first call also clears uploads a crashed server left."""
    clear_stale_uploads(Path(uploads_dir))
    return Store(database_path)


def get_store(settings: AppSettings) -> Store:
    settings.ensure_data_dir()
    return _store(str(settings.database_path), str(settings.uploads_dir))


def get_results(settings: AppSettings) -> ResultStore:
    return ResultStore(settings.results_dir)
