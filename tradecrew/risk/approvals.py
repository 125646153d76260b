"""Which approval channels count on an account: the human part of the one rule.

Pure: the caller passes the account's mode and the user's settings in.
"""

from __future__ import annotations

from tradecrew.models import HUMAN_CHANNELS, ApprovalChannel


def is_human_channel(channel: ApprovalChannel | str | None) -> bool:
    """True only for a channel on the allow-list of channels a person drives."""
    if channel is None:
        return False
    try:
        return ApprovalChannel(channel) in HUMAN_CHANNELS
    except ValueError:
        return False


def accepted_channels(
    *,
    live: bool,
    auto_approve_paper: bool,
    unconfirmed_mcp: bool,
    telegram_approver: bool = False,
) -> frozenset[ApprovalChannel]:
    """Channels whose approval may send an order: a person's always; on a paper account also
    the auto-approver and bare MCP tool calls, each only when the user turned it on.
    ``telegram_approver``: the user configured the Telegram alert chat as their own, so its
    signed buttons are a person's too (on any account); otherwise they count nowhere."""
    person = HUMAN_CHANNELS | {ApprovalChannel.TELEGRAM} if telegram_approver else HUMAN_CHANNELS
    if live:
        return person
    extra = set()
    if auto_approve_paper:
        extra.add(ApprovalChannel.AUTO)
    if unconfirmed_mcp:
        extra.add(ApprovalChannel.MCP_UNCONFIRMED)
    return person | extra
