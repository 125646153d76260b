"""The real-data files beside the checkout: a missing one skips locally, fails in CI."""

from __future__ import annotations

from pathlib import Path

import pytest

import tests.conftest as shared


def test_missing_shared_data_fails_in_ci_and_skips_locally(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(shared, "SHARED_DATA", tmp_path)
    monkeypatch.setattr(shared, "_CI", True)
    with pytest.raises(pytest.fail.Exception, match="CI must provide it"):
        shared.shared_file("XAUUSD_D1_mt5.csv")
    monkeypatch.setattr(shared, "_CI", False)
    with pytest.raises(pytest.skip.Exception, match="not found"):
        shared.shared_file("XAUUSD_D1_mt5.csv")


def test_ci_runs_hypothesis_randomized_within_a_bounded_budget() -> None:
    from hypothesis import settings

    ci = settings.get_profile("ci")
    assert ci.derandomize is False and ci.deadline is None and ci.print_blob
    assert ci.max_examples <= 100
    assert settings.get_profile("derandomized").derandomize is True
