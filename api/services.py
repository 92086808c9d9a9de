"""What the API's routes share: the store, the tokens, the results, the engine and the job queue."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from api.jobs import JobQueue
from dashboard.api_tokens import TokenStore
from dashboard.engine import Engine, load_engine
from dashboard.results_store import ResultStore
from dashboard.settings import AppSettings
from dashboard.store import Store


@dataclass
class Services:
    """Built once per app; the engine (the loaded model) is loaded on first use."""

    app: AppSettings
    engine_factory: Callable[[], Engine] = load_engine
    store: Store = field(init=False)
    tokens: TokenStore = field(init=False)
    results: ResultStore = field(init=False)
    jobs: JobQueue = field(init=False)
    _engine: Engine | None = field(init=False, default=None)
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.app.ensure_data_dir()
        self.store = Store(self.app.database_path)
        self.tokens = TokenStore(self.store)
        self.results = ResultStore(self.app.results_dir)
        self.jobs = JobQueue(self)

    @property
    def engine(self) -> Engine:
        with self._lock:
            if self._engine is None:
                self._engine = self.engine_factory()
            return self._engine
