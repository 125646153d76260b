"""Loopback hosts: where keys may travel without TLS and the servers bind without a token."""

from __future__ import annotations

import pytest

from tradecrew.net import is_loopback


@pytest.mark.parametrize(
    "host", ["localhost", "LOCALHOST", "127.0.0.1", "127.8.9.10", "::1", "[::1]"]
)
def test_loopback_hosts(host: str) -> None:
    assert is_loopback(host)


@pytest.mark.parametrize(
    "host", [None, "", "0.0.0.0", "10.0.0.1", "example.com", "localhost.example.com", "[::2]"]
)
def test_other_hosts_are_not_loopback(host: str | None) -> None:
    assert not is_loopback(host)
