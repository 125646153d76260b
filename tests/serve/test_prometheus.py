"""A real Prometheus scrapes ``tradecrew serve`` and answers every panel of the Grafana
dashboard, so the dashboard and the metrics cannot drift apart."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
import urllib.parse
from pathlib import Path
from typing import Any

import pytest

from tests.serve.helpers import ROOT, free_port, get, serve_env, serving
from tradecrew.serve import METRIC_NAMES

DASHBOARD = ROOT / "deploy" / "grafana" / "tradecrew.json"
_CI = os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _prometheus() -> str:
    found = shutil.which("prometheus")
    if found is None:
        message = "the prometheus binary is not on PATH (Debian: apt-get install prometheus)"
        if _CI:
            pytest.fail(f"{message}; CI must provide it", pytrace=False)
        pytest.skip(message)
    return found


def _exprs() -> list[tuple[str, str]]:
    board = json.loads(DASHBOARD.read_text())
    return [(p["title"], t["expr"]) for p in board["panels"] for t in p["targets"]]


def test_the_dashboard_covers_every_metric_and_every_view_the_issue_names() -> None:
    exprs = _exprs()
    used = {
        re.sub(r"_bucket$", "", name)
        for _, expr in exprs
        for name in re.findall(r"tradecrew_[a-z_]+", expr)
    }
    assert used == set(METRIC_NAMES)
    titles = " / ".join(title.lower() for title, _ in exprs)
    for view in (
        "state",
        "equity",
        "drawdown",
        "exposure",
        "orders",
        "vetoes",
        "data age",
        "cycle latency",
        "llm spend",
    ):
        assert view in titles, view


def _query(base: str, expr: str) -> dict[str, Any]:
    code, body = get(f"{base}/api/v1/query?query={urllib.parse.quote(expr)}")
    assert code == 200, body
    return json.loads(body)


def test_prometheus_scraping_serve_answers_each_panel_expression(tmp_path: Path) -> None:
    binary = _prometheus()
    env = serve_env(tmp_path / "home")
    with serving(env, "--watchlist", "XAUUSD,EURUSD") as served:
        config = tmp_path / "prometheus.yml"
        config.write_text(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
            "scrape_configs:\n  - job_name: tradecrew\n    static_configs:\n"
            f"      - targets: ['127.0.0.1:{served.port}']\n"
        )
        port = free_port()
        prom = subprocess.Popen(
            [
                binary,
                f"--config.file={config}",
                f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            # Three scrapes at least, so rates and increases have points to work on.
            while True:
                assert prom.poll() is None, prom.stderr.read()[-2000:] if prom.stderr else ""
                try:
                    found = _query(base, 'count_over_time(up{job="tradecrew"}[1m])')
                    result = found["data"]["result"]
                    if result and float(result[0]["value"][1]) >= 3:
                        break
                except OSError:
                    pass
                assert time.monotonic() < deadline, "prometheus never scraped serve"
                time.sleep(0.25)
            assert _query(base, 'up{job="tradecrew"}')["data"]["result"][0]["value"][1] == "1"
            for title, expr in _exprs():
                answer = _query(base, expr)
                assert answer["status"] == "success", (title, expr, answer)
                assert answer["data"]["result"], f"panel {title!r}: {expr} returned nothing"
        finally:
            prom.terminate()
            prom.wait(timeout=10)
        code, _, err = served.stop()
        assert code == 0, err[-2000:]
