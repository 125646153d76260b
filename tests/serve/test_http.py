"""``--http``: loopback unless allowed, a Host allow-list, and readiness with reasons."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.brokers.csv_feed import Feed
from tests.serve.conftest import make_desk
from tests.serve.helpers import get
from tradecrew.brokers.base import BrokerUnavailable
from tradecrew.config import ServeSettings
from tradecrew.desk import Desk
from tradecrew.serve.http import HealthServer, HttpRefused, parse_bind
from tradecrew.serve.jobs import Jobs
from tradecrew.serve.metrics import DeskMetrics
from tradecrew.serve.ready import reasons


@pytest.mark.parametrize("value", ["nonsense", "127.0.0.1:", ":9108", "127.0.0.1:70000", "x:y"])
def test_a_malformed_bind_is_refused(value: str) -> None:
    with pytest.raises(HttpRefused, match="HOST:PORT"):
        parse_bind(value, ServeSettings())


def test_only_loopback_binds_unless_the_network_is_allowed() -> None:
    assert parse_bind("127.0.0.1:9108", ServeSettings()) == ("127.0.0.1", 9108)
    assert parse_bind("[::1]:9108", ServeSettings()) == ("[::1]", 9108)
    with pytest.raises(HttpRefused, match="not a loopback address"):
        parse_bind("0.0.0.0:9108", ServeSettings())
    allowed = ServeSettings(allow_network=True)
    assert parse_bind("0.0.0.0:9108", allowed) == ("0.0.0.0", 9108)


def test_a_request_naming_another_host_is_refused_dns_rebinding() -> None:
    cfg = ServeSettings(allowed_hosts=["tradecrew"])
    server = HealthServer("127.0.0.1", 0, lambda: b"x 1\n", lambda: ["data: stale"], cfg).start()
    base = f"http://127.0.0.1:{server.port}"
    try:
        assert get(base + "/healthz", host="attacker.example")[0] == 421
        assert get(base + "/metrics", host=f"attacker.example:{server.port}")[0] == 421
        assert get(base + "/healthz")[0] == 200
        assert get(base + "/healthz", host=f"localhost:{server.port}")[0] == 200
        assert get(base + "/metrics", host=f"tradecrew:{server.port}") == (200, "x 1\n")
        code, body = get(base + "/readyz")
        assert code == 503 and json.loads(body) == {"ready": False, "reasons": ["data: stale"]}
        assert get(base + "/other")[0] == 404
    finally:
        server.close()


def test_readiness_names_an_unreachable_broker_and_missing_data(
    tmp_path: Path, desk: Desk, log: Any
) -> None:
    jobs = Jobs(desk, DeskMetrics(), log, ["AAPL"])
    assert "broker: not checked yet" in reasons(jobs)
    jobs.refresh()
    jobs.watch()
    assert reasons(jobs) == []

    class Unreachable(type(desk.broker)):  # type: ignore[misc]
        def account_and_positions(self) -> Any:
            raise BrokerUnavailable("connection refused")

        def quote(self, symbol: str) -> Any:
            raise BrokerUnavailable("connection refused")

    desk.broker.__class__ = Unreachable
    jobs.refresh()
    jobs.watch()
    found = reasons(jobs)
    assert "broker: not reachable (BrokerUnavailable: connection refused)" in found
    assert any(r.startswith("data: AAPL: BrokerUnavailable") for r in found)
    assert jobs.metrics.errors.labels(kind="broker")._value.get() == 1


def test_a_fresh_desk_is_not_ready_before_its_first_look(tmp_path: Path, feed: Feed) -> None:
    home = tmp_path / "h2"
    home.mkdir(mode=0o700)
    other = make_desk(home, feed)
    try:
        jobs = Jobs(other, DeskMetrics(), None, ["AAPL", "EURUSD"])
        found = reasons(jobs)
        assert "data: AAPL: no quote read yet" in found and "broker: not checked yet" in found
    finally:
        other.close()
