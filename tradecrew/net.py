"""Network addresses the desk treats specially: loopback hosts, where plain HTTP and keys
may go without TLS and binds need no token (the servers, the MT5 bridge, the quote stream)."""

from __future__ import annotations

import ipaddress


def is_loopback(host: str | None) -> bool:
    """``localhost`` or a loopback address (``127.0.0.0/8``, ``::1``, bracketed or not)."""
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
