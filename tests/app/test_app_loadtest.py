"""The short form of `make loadtest`: a few users sign up, log in and analyse at once against a real server."""

from __future__ import annotations

from tools.loadtest import run_load


def test_concurrent_users_each_get_only_their_own_results() -> None:
    figures = run_load(users=4, analyses=3, tiny_model=True, time_limit=400.0, timeout=200.0)
    assert figures["errors"] == 0, figures["error_samples"]
    assert figures["signed_up_and_logged_in"] == 4
    assert figures["analyses_done"] == 3
    assert figures["results_shown_to_the_wrong_user"] == 0
    assert figures["requests"] >= 4 * 3 + 3  # sign-up, login and cookie per user; an upload per analysis
