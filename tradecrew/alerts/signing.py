"""Approve/reject buttons whose callback data is signed and bound to one proposal's terms.

Callback data (at most 64 bytes, Telegram's limit): ``y|<proposal id>|<expiry>|<mac>`` (``n``
to reject). The MAC covers the action, the proposal id, the risk decision's order hash and
the expiry, under a key derived from the ledger's audit key (``data.audit_key``: an
environment variable or a 0600 file, never in the database), so a forged button, one for
other terms, or one past its expiry is refused. The hash is not in the data: the verifier
takes it from the ledger, so a button signed for terms that have since changed no longer
verifies.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel

from tradecrew.data.audit_key import AuditKey, load_key

MAX_DATA = 64
_MAC_BYTES = 15  # 120 bits: forging one by guessing is out of reach
_ACTIONS = {"y": "approve", "n": "reject"}


class CallbackKey:
    """The signing key of Telegram buttons; its bytes never print."""

    __slots__ = ("_secret",)

    def __init__(self, audit_key: AuditKey) -> None:
        # Domain-separated from the audit chain: a button MAC is never an audit hash.
        self._secret = audit_key.mac(b"tradecrew telegram callback key v1").encode("ascii")

    @classmethod
    def for_home(cls, home: Path | None) -> CallbackKey:
        return cls(load_key(home))

    def mac(self, action: str, proposal_id: str, order_hash: str, expires: int) -> str:
        message = f"{action}|{proposal_id}|{order_hash}|{expires}".encode()
        digest = hmac.new(self._secret, message, hashlib.sha256).digest()[:_MAC_BYTES]
        return base64.urlsafe_b64encode(digest).decode("ascii")

    def __repr__(self) -> str:
        return "CallbackKey(***)"


class Callback(BaseModel):
    """Parsed callback data, not yet verified."""

    action: str
    proposal_id: str
    expires: int
    mac: str

    @property
    def verb(self) -> str:
        return _ACTIONS[self.action]

    @property
    def expires_at(self) -> datetime:
        return datetime.fromtimestamp(self.expires, UTC)


def sign(key: CallbackKey, action: str, proposal_id: str, order_hash: str, expires: int) -> str:
    """The callback data of one button; ValueError if it would not fit Telegram's limit."""
    if action not in _ACTIONS:
        raise ValueError(f"unknown button action {action!r}")
    data = f"{action}|{proposal_id}|{expires}|{key.mac(action, proposal_id, order_hash, expires)}"
    if len(data.encode("utf-8")) > MAX_DATA:
        raise ValueError("the proposal id is too long for a Telegram button")
    return data


def parse(data: object) -> Callback | None:
    """The callback's parts, or None when it is not one of ours."""
    if not isinstance(data, str) or len(data) > MAX_DATA:
        return None
    parts = data.split("|")
    # ASCII digits only: str.isdigit also takes "²" (int() fails) and other scripts' digits.
    if len(parts) != 4 or parts[0] not in _ACTIONS or not re.fullmatch(r"[0-9]{1,12}", parts[2]):
        return None
    return Callback(action=parts[0], proposal_id=parts[1], expires=int(parts[2]), mac=parts[3])


def verify(key: CallbackKey, callback: Callback, order_hash: str) -> bool:
    """True when the MAC covers exactly this action, proposal, order hash and expiry."""
    expected = key.mac(callback.action, callback.proposal_id, order_hash, callback.expires)
    return hmac.compare_digest(expected, callback.mac)


def buttons(
    key: CallbackKey, proposal_id: str, order_hash: str, expires_at: datetime
) -> list[dict[str, str]]:
    """The approve and reject buttons of a pending proposal's message."""
    expires = int(expires_at.timestamp())
    return [
        {"text": "Approve", "callback_data": sign(key, "y", proposal_id, order_hash, expires)},
        {"text": "Reject", "callback_data": sign(key, "n", proposal_id, order_hash, expires)},
    ]
