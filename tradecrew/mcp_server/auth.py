"""Bearer-token auth for the streamable HTTP transport; the token comes from the environment."""

from __future__ import annotations

import hmac
import os

from mcp.server.auth.provider import AccessToken

TOKEN_ENV = "TRADECREW_MCP_TOKEN"
MIN_TOKEN_LENGTH = 32
GENERATE_TOKEN = 'python -c "import secrets; print(secrets.token_urlsafe(32))"'


class HttpAuthError(ValueError):
    """The HTTP transport cannot start safely with the given settings."""


class StaticTokenVerifier:
    """Accepts exactly one bearer token, compared in constant time."""

    def __init__(self, token: str) -> None:
        self._token = token.encode()

    async def verify_token(self, token: str) -> AccessToken | None:
        if hmac.compare_digest(token.encode(), self._token):
            return AccessToken(token="redacted", client_id="tradecrew-user", scopes=[])
        return None


def token_from_env() -> str:
    """The bearer token the HTTP transport requires; refuses to start without a strong one:
    at least MIN_TOKEN_LENGTH visible ASCII characters (no spaces, which pad a weak one)."""
    token = os.environ.get(TOKEN_ENV, "")
    if len(token) < MIN_TOKEN_LENGTH or not all("!" <= c <= "~" for c in token):
        raise HttpAuthError(
            f"the http transport needs a bearer token of at least {MIN_TOKEN_LENGTH} visible "
            f"characters, without whitespace, in the environment variable {TOKEN_ENV}; "
            f"generate one with: {GENERATE_TOKEN}"
        )
    return token
