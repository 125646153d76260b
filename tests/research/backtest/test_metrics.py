"""Metrics recomputed by hand from the equity curve and the trade list."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from tests.research.backtest.helpers import RESULT_FIELDS, TRADE_FIELDS
from tradecrew.research.backtest import Costs, backtest

JSON_FIELDS = RESULT_FIELDS | {"calmar", "turnover"}


def test_metrics_match_their_definitions(xau):
    r = backtest(xau, "sma_cross", {"fast": 20, "slow": 50}, costs=Costs(commission=0.0005))
    eq = r.equity.to_numpy()
    rets = np.diff(np.r_[r.initial_equity, eq]) / np.r_[r.initial_equity, eq[:-1]]
    np.testing.assert_allclose(r.returns.to_numpy(), rets)
    years = (xau.index[-1] - xau.index[0]).days / 365.25
    per_year = (len(xau) - 1) / years
    assert 255 < per_year < 265  # gold trades about 260 days a year
    assert r.total_return == pytest.approx(eq[-1] / 1e5 - 1)
    assert r.annual_return == pytest.approx((eq[-1] / 1e5) ** (1 / years) - 1)
    assert r.sharpe == pytest.approx(rets.mean() / rets.std(ddof=1) * math.sqrt(per_year))
    down = math.sqrt(np.mean(np.minimum(rets, 0) ** 2))
    assert r.sortino == pytest.approx(rets.mean() / down * math.sqrt(per_year))
    curve = np.r_[1e5, eq]
    assert r.max_drawdown == pytest.approx(np.max(1 - curve / np.maximum.accumulate(curve)))
    assert r.calmar == pytest.approx(r.annual_return / r.max_drawdown)
    pnl = np.array([t.pnl for t in r.trade_list])
    assert r.win_rate == pytest.approx(np.mean(pnl > 0))
    assert r.profit_factor == pytest.approx(pnl[pnl > 0].sum() / -pnl[pnl < 0].sum())
    assert pnl.sum() == pytest.approx(eq[-1] - 1e5, rel=1e-9)
    held = sum(t.exit_index - t.entry_index for t in r.trade_list)
    assert r.exposure == pytest.approx(held / len(xau))
    assert not r.targets.met and not r.targets.sharpe_met


def test_json_has_the_issue_fields_and_no_series(goog):
    payload = json.loads(backtest(goog, "sma_cross").model_dump_json())
    assert set(payload) >= JSON_FIELDS
    assert "returns" not in payload and "equity" not in payload
    assert payload["trades"] == len(payload["trade_list"])
    assert set(payload["trade_list"][0]) >= TRADE_FIELDS
    assert isinstance(payload["total_return"], float)


def test_undefined_ratios_are_null_not_infinite(goog):
    flat = backtest(goog, _Never(), costs=Costs())
    assert flat.trades == 0 and flat.total_return == 0.0
    assert flat.sharpe is None and flat.profit_factor is None and flat.win_rate is None
    assert flat.max_drawdown == 0.0 and flat.calmar is None
    json.loads(flat.model_dump_json())


class _Never:
    name = "never"

    def target(self, bars, params):
        return bars["close"] * 0.0
