"""``tradecrew instruments search``: the catalogue (aliases, names, any case) and Alpaca's
assets API, served by the fake trading API on 127.0.0.1."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import Result

from tests.brokers.fake_alpaca import FakeAlpaca, _asset
from tests.cli.invoke import cli
from tradecrew.errors import EXIT_BAD_INPUT, EXIT_UNAVAILABLE

KEY = "PKASSETSCANARY0001"
SECRET = "assets-secret-Zp4kQ9"


def _rows(out: Result) -> list[dict]:
    assert out.exit_code == 0, out.output
    return json.loads(out.stdout)


def _one_line_error(out: Result, code: int) -> str:
    assert out.exit_code == code, out.output
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), out.stderr
    assert "Traceback" not in out.output
    return lines[0]


# ---------------------------------------------------------------- catalogue


def test_gold_finds_xauusd_through_its_alias_with_its_conventions() -> None:
    rows = _rows(cli("instruments", "search", "gold", "--json"))
    top = rows[0]
    assert top["symbol"] == "XAUUSD" and top["source"] == "catalogue"
    assert top["asset_class"] == "metal" and top["currency"] == "USD"
    assert top["contract_size"] == 100 and top["tick_size"] == 0.01
    assert top["fractional"] is True and top["shortable"] is True
    assert "GOLD" in top["aliases"]


def test_eur_finds_the_euro_pairs_eurusd_first() -> None:
    symbols = [r["symbol"] for r in _rows(cli("instruments", "search", "eur", "--json"))]
    assert symbols[0] == "EURUSD"
    assert {"EURUSD", "EURGBP", "EURJPY"} <= set(symbols)
    eurusd = _rows(cli("instruments", "search", "EURUSD", "--json"))[0]
    assert eurusd["contract_size"] == 100_000 and eurusd["fractional"] is False


@pytest.mark.parametrize(
    ("text", "symbol"),
    [("Bitcoin", "BTCUSD"), ("apple", "AAPL"), ("XAU/USD", "XAUUSD"), ("  aapl ", "AAPL")],
)
def test_symbol_alias_and_name_match_in_any_case(text: str, symbol: str) -> None:
    rows = _rows(cli("instruments", "search", text, "--json"))
    assert rows[0]["symbol"] == symbol


def test_sample_source_is_the_catalogue_and_limit_caps_the_list() -> None:
    rows = _rows(cli("instruments", "search", "usd", "--source", "sample", "--json"))
    assert len(rows) > 3
    capped = _rows(cli("instruments", "search", "usd", "--source", "SAMPLE", "-n", "2", "--json"))
    assert capped == rows[:2]


def test_the_table_names_the_instruments() -> None:
    out = cli("instruments", "search", "gold")
    assert out.exit_code == 0, out.output
    assert "XAUUSD" in out.stdout and "metal" in out.stdout


def test_no_match_is_a_friendly_line_or_an_empty_json_list() -> None:
    out = cli("instruments", "search", "zzzz")
    assert out.exit_code == 0, out.output
    assert out.stdout.strip() == "no instrument in catalogue matches 'zzzz'"
    assert _rows(cli("instruments", "search", "zzzz", "--json")) == []


@pytest.mark.parametrize(
    "args",
    [
        ("gold", "--source", "bloomberg"),
        ("gold", "--limit", "0"),
        ("   ",),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args: tuple[str, ...]) -> None:
    _one_line_error(cli("instruments", "search", *args), EXIT_BAD_INPUT)


# ---------------------------------------------------------------- alpaca


@pytest.fixture
def server() -> Iterator[FakeAlpaca]:
    srv = FakeAlpaca(KEY, SECRET).start()
    srv.assets += [
        _asset(
            "AMD",
            "Advanced Micro Devices, Inc. Common Stock",
            shortable=False,
            fractionable=False,
        ),
        _asset(
            "BTC/USD",
            "Bitcoin  / US Dollar",
            **{"class": "crypto", "exchange": "CRYPTO", "shortable": False},
            min_order_size="0.0001",
            min_trade_increment="0.000000001",
            price_increment="1",
        ),
        _asset("OLDCO", "Old Company Delisted", status="inactive", tradable=False),
    ]
    yield srv
    srv.stop()


@pytest.fixture
def alpaca_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    from tradecrew.config import get_settings

    monkeypatch.setenv("TRADECREW_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("TRADECREW_BROKER__ALPACA_API_KEY", KEY)
    monkeypatch.setenv("TRADECREW_BROKER__ALPACA_SECRET_KEY", SECRET)
    monkeypatch.setenv("TRADECREW_DATA__MAX_ATTEMPTS", "1")  # an outage fails at once
    monkeypatch.setenv("TRADECREW_DATA__TIMEOUT_SECONDS", "2")
    monkeypatch.delenv("APCA_API_KEY_ID", raising=False)
    monkeypatch.delenv("APCA_API_SECRET_KEY", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def alpaca(server: FakeAlpaca, alpaca_env: None, monkeypatch: pytest.MonkeyPatch) -> FakeAlpaca:
    from tradecrew.config import get_settings

    monkeypatch.setenv("TRADECREW_BROKER__ALPACA_BASE_URL", server.url)
    get_settings.cache_clear()
    return server


def test_alpaca_search_finds_a_served_asset_with_its_metadata(alpaca: FakeAlpaca) -> None:
    rows = _rows(cli("instruments", "search", "amd", "--source", "alpaca", "--json"))
    assert [r["symbol"] for r in rows] == ["AMD"]  # found by symbol only in Alpaca's list
    amd = rows[0]
    assert amd["source"] == "alpaca" and amd["asset_class"] == "equity"
    assert amd["name"].startswith("Advanced Micro Devices")
    assert (amd["tradable"], amd["fractional"], amd["shortable"]) == (True, False, False)
    assert amd["exchange"] == "NASDAQ" and amd["currency"] == "USD"
    assert ("GET", "/v2/assets") in alpaca.log


def test_alpaca_crypto_found_by_alias_with_its_increments(alpaca: FakeAlpaca) -> None:
    rows = _rows(cli("instruments", "search", "bitcoin", "--source", "alpaca", "--json"))
    btc = rows[0]
    assert btc["symbol"] == "BTC/USD" and btc["asset_class"] == "crypto"
    assert btc["currency"] == "USD" and btc["tick_size"] == 1.0
    assert btc["min_quantity"] == 0.0001 and btc["quantity_step"] == 1e-9
    assert btc["trading_hours"] == "24/7"


def test_alpaca_lists_only_active_assets_and_shows_a_table(alpaca: FakeAlpaca) -> None:
    assert _rows(cli("instruments", "search", "oldco", "--source", "alpaca", "--json")) == []
    out = cli("instruments", "search", "oldco", "--source", "alpaca")
    assert out.exit_code == 0 and out.stdout.strip() == "no instrument in alpaca matches 'oldco'"
    table = cli("instruments", "search", "apple", "--source", "alpaca")
    assert table.exit_code == 0 and "AAPL" in table.stdout and "NASDAQ" in table.stdout


def test_alpaca_server_errors_are_an_outage_exit_3(alpaca: FakeAlpaca) -> None:
    alpaca.fail_next(5, 503, path="/v2/assets")
    line = _one_line_error(cli("instruments", "search", "amd", "--source", "alpaca"), 3)
    assert "503" in line and SECRET not in line and KEY not in line


def test_alpaca_unreachable_is_an_outage_exit_3(
    alpaca_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tradecrew.config import get_settings

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("TRADECREW_BROKER__ALPACA_BASE_URL", f"http://127.0.0.1:{port}")
    get_settings.cache_clear()
    out = cli("instruments", "search", "amd", "--source", "alpaca", "--json")
    _one_line_error(out, EXIT_UNAVAILABLE)
    assert out.stdout == ""


def test_alpaca_refused_keys_never_print_them(alpaca: FakeAlpaca) -> None:
    alpaca.secret_key = "another-secret"
    out = cli("instruments", "search", "amd", "--source", "alpaca")
    line = _one_line_error(out, EXIT_UNAVAILABLE)
    assert "401" in line and SECRET not in out.output and KEY not in out.output


def test_alpaca_without_keys_is_bad_input(
    alpaca: FakeAlpaca, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tradecrew.config import get_settings

    monkeypatch.delenv("TRADECREW_BROKER__ALPACA_API_KEY")
    get_settings.cache_clear()
    line = _one_line_error(cli("instruments", "search", "amd", "--source", "alpaca"), 2)
    assert "keys are not set" in line
    assert ("GET", "/v2/assets") not in alpaca.log


def test_an_error_body_echoing_the_key_is_redacted(alpaca: FakeAlpaca) -> None:
    alpaca.reject_next(403, 40310000, f"key {KEY} / {SECRET} is forbidden", "GET", "/v2/assets")
    out = cli("instruments", "search", "amd", "--source", "alpaca")
    line = _one_line_error(out, EXIT_UNAVAILABLE)
    assert "403" in line and KEY not in out.output and SECRET not in out.output


def test_asset_names_from_the_server_are_shown_as_text(alpaca: FakeAlpaca) -> None:
    alpaca.assets.append(_asset("EVIL", "Evil [bold]Corp[/bold]\x1b[2J\nINJECTED"))
    out = cli("instruments", "search", "evil", "--source", "alpaca")
    assert out.exit_code == 0, out.output
    assert "[bold]" in out.stdout and "\x1b" not in out.stdout
