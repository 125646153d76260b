"""Safety first: anything ambiguous, missing or out of range becomes a ParseFailure saying why."""

from __future__ import annotations

import pytest

from tradecrew.instruments import CATALOGUE
from tradecrew.mcp_server.intent import ParseFailure, TradeIntent, parse_command
from tradecrew.mcp_server.intent_trade import example


def failure(text: str) -> ParseFailure:
    got = parse_command(text)
    assert isinstance(got, ParseFailure), f"{text!r} parsed to {got!r}"
    return got


def test_missing_quantity_names_what_was_understood_and_gives_an_example() -> None:
    got = failure("buy gold")
    assert got.missing == ["quantity"]
    assert got.partial["symbol"] == "XAUUSD" and got.partial["side"] == "buy"
    assert got.message == (
        "I understood buy XAUUSD but not the quantity: say e.g. 'buy 2 ounces of gold'"
    )


@pytest.mark.parametrize(
    ("text", "missing"),
    [
        ("10 AAPL", ["side"]),
        ("buy 2 ounces", ["symbol"]),
        ("sell eurusd", ["quantity"]),
        ("go long", ["symbol", "quantity"]),
        ("sell all my gold", ["quantity"]),
        ("buy one hundred shares of AAPL", ["quantity"]),
        ("buy 1/2 lot of gold", ["quantity"]),
        ("buy 1,5 lots of gold", ["quantity"]),
        ("buy 1e400 AAPL", ["quantity"]),
    ],
)
def test_failure_lists_exactly_what_is_missing(text: str, missing: list[str]) -> None:
    got = failure(text)
    assert got.missing == missing
    wording = {"side": "buy or sell", "symbol": "instrument", "quantity": "quantity"}
    for item in missing:
        assert wording[item] in got.message


def test_selling_everything_points_to_the_close_command() -> None:
    assert "close half my XAUUSD" in failure("sell all my gold").message


@pytest.mark.parametrize(
    "text",
    [
        "buy gold sell silver",
        "buy 1 gold and 2 silver",
        "buy 10 AAPL and 20 MSFT",
        "buy 10 AAPL 20",
        "buy 10 AAPL sl 180 sl 185",
        "buy 10 AAPL at market limit 190",
        "close all positions and cancel all orders",
        "halt trading and resume trading",
        "close gold and silver",
        "cancel order ord_a1 and order ord_b2",
        "what's my exposure to EUR and USD",
        "buy 10 aapl gtc ioc",
    ],
)
def test_ambiguous_commands_are_refused(text: str) -> None:
    assert failure(text).problem == "ambiguous"


@pytest.mark.parametrize(
    "text",
    [
        "buy -5 AAPL",
        "buy 0 AAPL",
        "sell 0.0 lots of eurusd",
        "buy 10 AAPL at -190",
        "buy 10 AAPL sl 0",
        "close -20% of gold",
        "close 150% of gold",
        "buy 10 shares of EURUSD",
        "buy 2 ounces of AAPL",
        "close 0 oz of gold",
        "buy 99999999999999999999 AAPL",
    ],
)
def test_zero_negative_or_unfit_amounts_are_refused(text: str) -> None:
    assert failure(text).problem in ("invalid", "unsupported")


def test_unknown_symbol_is_named_with_close_matches() -> None:
    got = failure("buy 10 EURUDS")
    assert got.problem == "unknown_symbol" and got.quoted == "EURUDS"
    assert "EURUDS" not in got.message  # the user's word is only ever in quoted
    assert "EURUSD" in got.suggestions and got.missing == ["symbol"]


def test_misspelt_alias_suggests_the_instrument_it_names() -> None:
    got = failure("buy 2 ounces of glod")
    assert got.quoted == "glod" and got.suggestions[0] == "XAUUSD"


def test_unknown_word_without_a_near_match_still_says_which_word() -> None:
    got = failure("buy 10 zzqx")
    assert got.quoted == "zzqx" and got.suggestions == []


@pytest.mark.parametrize(
    "text",
    [
        "buy 10 AAPL if it drops",
        "close everything except gold",
        "buy 1 gold when RSI < 30",
    ],
)
def test_conditions_are_not_silently_dropped(text: str) -> None:
    assert failure(text).problem == "unsupported"


@pytest.mark.parametrize(
    "text",
    [
        "buy 5000 worth of gold",
        "buy 5 grand of gold",
        "buy 2 percent of gold",
        "close gold at 2400",
        "cancel my stop orders",
        "halt trading on gold",
    ],
)
def test_sizes_and_scopes_we_cannot_read_exactly_are_refused(text: str) -> None:
    assert failure(text).problem in ("missing", "unsupported")


@pytest.mark.parametrize(
    "text", ["", "   ", "\n\t", "please", "hello there", "cancel", "close", "flatten", "what?"]
)
def test_empty_or_vague_commands_ask_for_more(text: str) -> None:
    got = failure(text)
    assert got.problem in ("empty", "missing") and got.missing


def test_very_long_text_is_refused_before_parsing() -> None:
    assert failure("buy 1 gold " + "x" * 5000).problem == "too_long"


def test_non_text_input_is_a_failure_not_an_exception() -> None:
    assert isinstance(parse_command(None), ParseFailure)  # type: ignore[arg-type]
    assert isinstance(parse_command(b"buy 1 gold"), ParseFailure)  # type: ignore[arg-type]


@pytest.mark.parametrize("symbol", sorted(CATALOGUE))
@pytest.mark.parametrize("side", ["buy", "sell"])
def test_every_example_in_a_message_parses_as_the_advertised_trade(symbol: str, side) -> None:
    from tradecrew.models import Side

    got = parse_command(example(Side(side), symbol))
    assert isinstance(got, TradeIntent)
    assert got.symbol == symbol and got.side.value == side


@pytest.mark.parametrize(
    "text",
    [
        "don't buy 1 gold",
        "do not sell 10 AAPL",
        "never buy EURUSD",
        "please don\u2019t buy 2 ounces of gold",
        "let's not sell 1 XAUUSD",
        "I dont want to buy 2 gold",
        "avoid buying 1 gold",
        "buy 1 gold, no wait, sell 1 gold",
        "don't halt trading",
        "do not resume trading",
        "halt trading? no, resume trading",
        "don't close my XAUUSD",
        "don't cancel all orders",
        "never mind",
    ],
)
def test_negated_commands_are_refused_not_read_without_their_not(text: str) -> None:
    got = failure(text)
    assert got.problem == "negated" and "nothing was done" in got.message


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("is trading not halted?", "query"),
        ("cancel order ab-no-12", "cancel"),
        ("cancel all orders", "cancel"),
        ("stop trading", "kill_switch"),
    ],
)
def test_questions_and_plain_commands_are_not_taken_for_negations(text: str, kind: str) -> None:
    assert parse_command(text).kind == kind
