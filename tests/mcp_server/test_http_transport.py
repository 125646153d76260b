"""Streamable HTTP transport: a strong bearer token from the environment, the Host/Origin
allow-list on every bind address, and TLS (or an explicit opt-out) off loopback."""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import anyio
import httpx
import pytest
from mcp import ClientSession
from mcp.client.streamable_http import streamablehttp_client

from tests.mcp_server.mcp_client import server_env

TOKEN = "tc-test-token-0123456789abcdefghijklmnopqrstuvwxyz"
PING = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
ACCEPT = "application/json, text/event-stream"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serving(
    tmp_path: Path, *args: str, host: str = "127.0.0.1", reach: str | None = None
) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    """``tradecrew mcp --transport http --host HOST ARGS`` until it accepts connections."""
    port = _free_port()
    env = server_env(tmp_path / "home", TRADECREW_MCP_TOKEN=TOKEN)
    command = [sys.executable, "-m", "tradecrew", "mcp", "--transport", "http"]
    proc = subprocess.Popen(
        [*command, "--host", host, "--port", str(port), *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    target = reach or host
    deadline = time.monotonic() + 60
    try:
        while True:
            try:
                with socket.create_connection((target, port), timeout=0.2):
                    break
            except OSError:
                if proc.poll() is not None:
                    pytest.fail(f"server exited: {proc.stderr.read().decode()}")  # type: ignore[union-attr]
                if time.monotonic() > deadline:
                    pytest.fail("server did not start")
                time.sleep(0.1)
        yield port, proc
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def refused_at_start(tmp_path: Path, *args: str, token: str = TOKEN) -> subprocess.CompletedProcess:
    env = server_env(tmp_path / "home", TRADECREW_MCP_TOKEN=token)
    command = [sys.executable, "-m", "tradecrew", "mcp", "--transport", "http"]
    try:
        out = subprocess.run(
            [*command, "--port", str(_free_port()), *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("the server started instead of refusing")
    assert out.returncode == 2, out.stderr
    assert out.stderr.startswith("error: ") and out.stderr.count("\n") == 1, out.stderr
    return out


@pytest.fixture
def http_server(tmp_path: Path) -> Iterator[str]:
    with serving(tmp_path) as (port, _):
        yield f"http://127.0.0.1:{port}/mcp"


def test_requests_without_the_token_are_refused(http_server: str):
    r = httpx.post(http_server, json=PING)
    assert r.status_code == 401
    r = httpx.post(http_server, json={}, headers={"Authorization": "Bearer wrong-token-xxxxxx"})
    assert r.status_code == 401


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


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2"])
def test_a_foreign_host_or_origin_is_refused_on_every_loopback_address(tmp_path, host):
    # 127.0.0.2 is loopback too, but not one of the names the SDK protects by itself.
    with serving(tmp_path, host=host) as (port, _):
        url = f"http://{host}:{port}/mcp"
        auth = {"Authorization": f"Bearer {TOKEN}", "Accept": ACCEPT}
        foreign = httpx.post(url, json=PING, headers={**auth, "Host": "evil.example:80"})
        rebound = httpx.post(url, json=PING, headers={**auth, "Host": f"evil.example:{port}"})
        origin = httpx.post(url, json=PING, headers={**auth, "Origin": "http://evil.example"})
        own = httpx.post(url, json=PING, headers={**auth, "Host": f"localhost:{port}"})
    assert foreign.status_code in (403, 421)
    assert rebound.status_code in (403, 421)
    assert origin.status_code == 403
    assert own.status_code not in (401, 403, 421)


@pytest.mark.parametrize(
    "token",
    [" " * 16, "x" * 31, "abcdefghijklmnop qrstuvwxyz0123456789", "t\u00e9" * 20],
    ids=["16-spaces", "31-chars", "inner-space", "non-ascii"],
)
def test_a_weak_token_does_not_start(tmp_path: Path, token: str):
    out = refused_at_start(tmp_path, token=token)
    assert "TRADECREW_MCP_TOKEN" in out.stderr
    assert "secrets.token_urlsafe(32)" in out.stderr
    if token.strip():
        assert token not in out.stderr


@pytest.mark.parametrize("host", ["127.0.0.1", "0.0.0.0"])
def test_http_without_a_token_does_not_start(tmp_path: Path, host: str):
    out = refused_at_start(tmp_path, "--host", host, token="")
    assert "TRADECREW_MCP_TOKEN" in out.stderr


def test_a_network_bind_needs_tls_or_an_explicit_opt_in(tmp_path: Path):
    out = refused_at_start(tmp_path, "--host", "0.0.0.0")
    assert "--tls-certfile" in out.stderr and "--insecure-network" in out.stderr


@pytest.mark.parametrize(
    "args",
    [["--tls-certfile", "cert.pem"], ["--tls-certfile", "nope.pem", "--tls-keyfile", "nope.key"]],
    ids=["half", "missing"],
)
def test_incomplete_tls_settings_do_not_start(tmp_path: Path, args: list[str]):
    refused_at_start(tmp_path, *[str(tmp_path / a) if "." in a else a for a in args])


def test_plain_http_on_the_network_warns_and_keeps_the_allow_list(tmp_path: Path):
    with serving(tmp_path, "--insecure-network", host="0.0.0.0", reach="127.0.0.1") as (
        port,
        proc,
    ):
        url = f"http://127.0.0.1:{port}/mcp"
        auth = {"Authorization": f"Bearer {TOKEN}", "Accept": ACCEPT}
        foreign = httpx.post(url, json=PING, headers={**auth, "Host": f"evil.example:{port}"})
        proc.terminate()
        _, err = proc.communicate(timeout=10)
    assert "warning:" in err.decode() and "0.0.0.0" in err.decode()
    assert foreign.status_code in (403, 421)


def _self_signed(tmp_path: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def test_tls_settings_serve_https_on_the_network(tmp_path: Path):
    cert, key = _self_signed(tmp_path)
    args = ("--tls-certfile", str(cert), "--tls-keyfile", str(key))
    with serving(tmp_path, *args, host="0.0.0.0", reach="127.0.0.1") as (port, proc):
        trust = ssl.create_default_context(cafile=str(cert))
        unauthorised = httpx.post(f"https://127.0.0.1:{port}/mcp", json=PING, verify=trust)
        with pytest.raises(httpx.HTTPError):
            httpx.post(f"http://127.0.0.1:{port}/mcp", json=PING)
        proc.terminate()
        _, err = proc.communicate(timeout=10)
    assert unauthorised.status_code == 401
    assert "warning:" not in err.decode()
