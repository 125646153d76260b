"""Streamable HTTP transport: bearer token from the environment, loopback, Host allow-list."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import anyio
import httpx
import pytest
from mcp import ClientSession
from mcp.client.streamable_http import streamablehttp_client

from tests.mcp_server.mcp_client import server_env

TOKEN = "test-token-0123456789abcdef"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def http_server(tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    env = server_env(tmp_path / "home", TRADECREW_MCP_TOKEN=TOKEN)
    proc = subprocess.Popen(
        [sys.executable, "-m", "tradecrew", "mcp", "--transport", "http", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}/mcp"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
        except OSError:
            if proc.poll() is not None:
                pytest.fail(f"server exited: {proc.stderr.read().decode()}")  # type: ignore[union-attr]
            time.sleep(0.1)
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_requests_without_the_token_are_refused(http_server: str):
    r = httpx.post(http_server, json={"jsonrpc": "2.0", "id": 1, "method": "ping"})
    assert r.status_code == 401
    r = httpx.post(http_server, json={}, headers={"Authorization": "Bearer wrong-token-xxxxxx"})
    assert r.status_code == 401


def test_a_foreign_host_header_is_refused(http_server: str):
    r = httpx.post(
        http_server,
        json={"jsonrpc": "2.0", "id": 1, "method": "ping"},
        headers={
            "Authorization": f"Bearer {TOKEN}",
            "Host": "evil.example:80",
            "Accept": "application/json, text/event-stream",
        },
    )
    assert r.status_code in (403, 421)


def test_the_token_opens_a_real_session(http_server: str):
    async def main() -> set[str]:
        headers = {"Authorization": f"Bearer {TOKEN}"}
        async with (
            streamablehttp_client(http_server, headers=headers) as (read, write, _),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            return {t.name for t in (await session.list_tools()).tools}

    assert "get_quote" in anyio.run(main)


@pytest.mark.parametrize("host", ["127.0.0.1", "0.0.0.0"])
def test_http_without_a_token_does_not_start(tmp_path: Path, host: str):
    env = server_env(tmp_path / "home")
    out = subprocess.run(
        [sys.executable, "-m", "tradecrew", "mcp", "--transport", "http", "--host", host],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2
    assert "TRADECREW_MCP_TOKEN" in out.stderr
