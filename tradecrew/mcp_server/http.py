"""The streamable HTTP transport: where it binds, TLS, and the Host/Origin allow-list.

The allow-list is on for every bind address (a page in the user's browser must not reach the
server through DNS rebinding, whatever interface it listens on); a bind that other machines
can reach needs TLS, or an explicit opt-in to plain HTTP.
"""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from tradecrew.mcp_server.auth import HttpAuthError
from tradecrew.net import is_loopback

if TYPE_CHECKING:
    from mcp.server.fastmcp import FastMCP
    from mcp.server.transport_security import TransportSecuritySettings

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")


class HttpOptions(BaseModel):
    """How ``tradecrew mcp --transport http`` serves."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    host: str = Field("127.0.0.1", min_length=1)
    port: int = Field(8765, ge=1, le=65535)
    tls_certfile: Path | None = None
    tls_keyfile: Path | None = None
    insecure_network: bool = False
    allowed_hosts: tuple[str, ...] = ()

    @property
    def tls(self) -> bool:
        return self.tls_certfile is not None

    @property
    def scheme(self) -> str:
        return "https" if self.tls else "http"

    @property
    def host_header(self) -> str:
        """The bind host as it appears in a Host header (IPv6 in brackets)."""
        return f"[{self.host}]" if ":" in self.host and not self.host.startswith("[") else self.host

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://{self.host_header}:{self.port}"

    @property
    def plain_on_network(self) -> bool:
        """Plain HTTP on an address other machines may reach (allowed only when asked)."""
        return not self.tls and not is_loopback(self.host)


def check_options(options: HttpOptions) -> None:
    """Refuse, with what to do, a TLS half-configured or unreadable, or plain HTTP on a
    non-loopback address without ``--insecure-network``."""
    cert, key = options.tls_certfile, options.tls_keyfile
    if (cert is None) != (key is None):
        raise HttpAuthError("TLS needs both --tls-certfile and --tls-keyfile")
    if cert is not None and key is not None:
        for flag, path in (("--tls-certfile", cert), ("--tls-keyfile", key)):
            if not path.is_file():
                raise HttpAuthError(f"{flag} {path}: no such file")
        try:
            ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(cert, key)
        except (ssl.SSLError, OSError) as exc:
            raise HttpAuthError(
                f"cannot load the TLS certificate {cert} with key {key}: {exc}"
            ) from None
    if options.plain_on_network and not options.insecure_network:
        raise HttpAuthError(
            f"--host {options.host} is not a loopback address, so other machines can reach the "
            "server: give --tls-certfile and --tls-keyfile to serve HTTPS, or --insecure-network "
            "to serve plain HTTP anyway (the bearer token then crosses the network in clear)"
        )
    for name in options.allowed_hosts:
        if not name.strip() or any(c.isspace() or c in "/,*" for c in name):
            raise HttpAuthError(f"--allowed-host {name!r}: give a host name or address, no port")


def transport_security(options: HttpOptions) -> TransportSecuritySettings:
    """Host and Origin allow-list: the loopback names and the bind host, on this port."""
    from mcp.server.transport_security import TransportSecuritySettings

    names = [*LOOPBACK_NAMES, options.host_header, *options.allowed_hosts]
    hosts = list(dict.fromkeys(f"{name}:{options.port}" for name in names))
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=hosts,
        allowed_origins=[f"{options.scheme}://{host}" for host in hosts],
    )


def serve(server: FastMCP, options: HttpOptions) -> None:
    """Run the server's streamable HTTP app under uvicorn, over TLS when configured."""
    import anyio
    import uvicorn

    config = uvicorn.Config(
        server.streamable_http_app(),
        host=options.host.strip("[]"),
        port=options.port,
        log_level="warning",
        ssl_certfile=options.tls_certfile,
        ssl_keyfile=options.tls_keyfile,
    )
    anyio.run(uvicorn.Server(config).serve)
