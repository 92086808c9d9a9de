"""Fixtures shared by the dashboard, AppTest and browser tests.

Loaded with `pytest_plugins = ["tests.dashboard.support"]`: a second conftest.py would shadow the
root one that other tests import helpers from. Plain builders live in `builders.py`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dashboard.engine import Engine
from dashboard.settings import AppSettings
from dashboard.store import Store
from tests.dashboard.builders import fast_settings, set_browser_cookies, tiny_engine_factory


@pytest.fixture(scope="session")
def tiny_engine() -> Engine:
    return tiny_engine_factory()


@pytest.fixture
def app_settings(tmp_path: Path) -> AppSettings:
    return fast_settings(tmp_path / "data")


@pytest.fixture
def store(app_settings: AppSettings) -> Store:
    return Store(app_settings.database_path)


@pytest.fixture
def app_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[AppSettings]:
    """Environment for an AppTest: a fresh data dir, the tiny model, no cookies."""
    from dashboard.ui import runtime

    data_dir = tmp_path / "app-data"
    monkeypatch.setenv("DFD_DATA_DIR", str(data_dir))
    monkeypatch.setattr(runtime, "ENGINE_FACTORY", tiny_engine_factory)
    set_browser_cookies(monkeypatch, {})
    yield AppSettings.from_env()
