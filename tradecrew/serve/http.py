"""``--http``: ``/healthz``, ``/readyz`` and ``/metrics`` on a stdlib threading server.

The house rules of the MCP HTTP transport hold here too: the Host header must name this
server (loopback names or the bind host, on this port, or a configured name), so a web page
cannot reach it through DNS rebinding; and an address other machines can reach needs an
explicit opt-in (``TRADECREW_SERVE__ALLOW_NETWORK=true``). Nothing here changes the desk.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST

from tradecrew.config import ServeSettings
from tradecrew.net import is_loopback

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")

Ready = Callable[[], list[str]]


class HttpRefused(ValueError):
    """The HTTP endpoint cannot start with these settings."""


def parse_bind(value: str, cfg: ServeSettings) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:PORT`` for IPv6); refused off loopback unless allowed."""
    host, sep, port_text = value.strip().rpartition(":")
    if not sep or not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise HttpRefused(f"--http takes HOST:PORT, e.g. 127.0.0.1:9108, not {value!r}")
    if not is_loopback(host) and not cfg.allow_network:
        raise HttpRefused(
            f"--http {host} is not a loopback address, so other machines could read the desk's "
            "state: bind 127.0.0.1, or set TRADECREW_SERVE__ALLOW_NETWORK=true"
        )
    return host, int(port_text)


def allowed_hosts(host: str, port: int, cfg: ServeSettings) -> frozenset[str]:
    bind = f"[{host}]" if ":" in host and not host.startswith("[") else host
    names = [*LOOPBACK_NAMES, bind, *cfg.allowed_hosts]
    return frozenset(n for name in names for n in (f"{name}:{port}".lower(), name.lower()))


class HealthServer:
    """Serves until ``close``; the handler threads only read."""

    def __init__(
        self, host: str, port: int, render: Callable[[], bytes], ready: Ready, cfg: ServeSettings
    ) -> None:
        hosts: set[str] = set()
        self.server = ThreadingHTTPServer((host.strip("[]"), port), _handler(render, ready, hosts))
        self.server.daemon_threads = True
        self.port = int(self.server.server_address[1])
        # On the port actually bound (port 0 picks one).
        hosts.update(allowed_hosts(host, self.port, cfg))
        self._thread = threading.Thread(target=self.server.serve_forever, name="http", daemon=True)

    def start(self) -> HealthServer:
        self._thread.start()
        return self

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _handler(
    render: Callable[[], bytes], ready: Ready, hosts: set[str]
) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "tradecrew"
        sys_version = ""

        def do_GET(self) -> None:
            if (self.headers.get("Host") or "").lower() not in hosts:
                self._send(421, b"unknown Host\n", "text/plain")
                return
            path = self.path.split("?", 1)[0]
            if path == "/healthz":
                self._send(200, b'{"status":"ok"}\n', "application/json")
            elif path == "/readyz":
                reasons = ready()
                body = {"ready": not reasons, "reasons": reasons}
                code = 200 if not reasons else 503
                self._send(code, (json.dumps(body) + "\n").encode(), "application/json")
            elif path == "/metrics":
                self._send(200, render(), CONTENT_TYPE_LATEST)
            else:
                self._send(404, b"not found\n", "text/plain")

        def _send(self, code: int, body: bytes, kind: str) -> None:
            self.send_response(code)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return  # scrapes every second would drown the desk's own log

    return Handler
