"""Loading the MetaTrader 5 terminal module: a bridge only on a loopback host."""

from __future__ import annotations

import sys

import pytest

from tradecrew.data.mt5_terminal import Mt5TerminalError, load_module


@pytest.mark.parametrize("host", ["10.0.0.5", "example.com", "0.0.0.0"])
def test_bridge_refuses_non_loopback_hosts(host: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "MetaTrader5", None)  # as off Windows: the bridge is tried
    with pytest.raises(Mt5TerminalError, match="loopback"):
        load_module(host, 18812)


def test_without_either_module_the_error_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "MetaTrader5", None)
    monkeypatch.setitem(sys.modules, "mt5linux", None)
    with pytest.raises(Mt5TerminalError, match=r"MetaTrader5 package .*mt5linux"):
        load_module("127.0.0.1", 18812)
