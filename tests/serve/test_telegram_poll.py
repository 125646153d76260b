"""Telegram's approve/reject buttons as an approval channel: only the configured approver
chat's signed, unexpired, unused buttons for a proposal's current terms open anything."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from tests.alerts.fake_telegram import ALERT_CHAT, FakeTelegram
from tests.alerts.helpers import GOLD, alert_desk
from tests.desk.helpers import build_desk, make_settings
from tradecrew.alerts import AlertEvent, AlertKind
from tradecrew.alerts.signing import CallbackKey, sign
from tradecrew.data.audit_key import AuditKey
from tradecrew.desk import Desk, DeskError
from tradecrew.desk.gate import GateRefusal
from tradecrew.ledger import Grant
from tradecrew.models import AgentVerdict, ApprovalChannel, ProposalStatus, utcnow
from tradecrew.serve.telegram_poll import poll_once

OTHER_CHAT = "7770001"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path


def _propose(desk: Desk) -> str:
    made = desk.propose(GOLD)
    assert made.status is ProposalStatus.PENDING
    assert desk.alerts.flush(10)
    return made.proposal_id


def _signed(desk: Desk, home: Path, proposal_id: str, action: str = "y", **change: object) -> str:
    """Callback data for ``proposal_id`` as the desk would sign it (``change``: other terms)."""
    decision = desk.ledger.latest_decision(proposal_id)
    assert decision is not None
    key = change.get("key") or CallbackKey.for_home(home)
    order_hash = str(change.get("order_hash", decision.order_hash))
    expires = int(change.get("expires", int(decision.expires_at.timestamp())))
    return sign(key, action, proposal_id, order_hash, expires)  # type: ignore[arg-type]


def _nothing_opened(desk: Desk, proposal_id: str) -> None:
    assert desk.ledger.get_proposal(proposal_id).status is ProposalStatus.PENDING
    assert desk.ledger.approvals(proposal_id) == []
    assert desk.ledger.orders(proposal_id=proposal_id) == []
    assert desk.broker.orders() == []


def test_the_approve_button_of_the_approver_chat_sends_the_order_as_telegram(
    home: Path, telegram: FakeTelegram
) -> None:
    desk = alert_desk(home, telegram)
    proposal_id = _propose(desk)
    (message,) = [m for m in telegram.messages if "reply_markup" in m]
    assert str(message["chat_id"]) == ALERT_CHAT and proposal_id in message["text"]
    telegram.press(ALERT_CHAT, telegram.buttons()["approve"])
    (result,) = poll_once(desk, wait=0).results
    assert result.accepted, result.reason
    assert desk.ledger.get_proposal(proposal_id).status is ProposalStatus.FILLED
    (approval,) = desk.ledger.approvals(proposal_id)
    assert approval.channel is ApprovalChannel.TELEGRAM
    assert approval.actor == f"telegram:{ALERT_CHAT}" and approval.consumed_at is not None
    assert telegram.answers[-1]["text"] == "approved"
    assert desk.ledger.verify_audit_chain().ok
    desk.close()


def test_the_reject_button_rejects(home: Path, telegram: FakeTelegram) -> None:
    desk = alert_desk(home, telegram)
    proposal_id = _propose(desk)
    telegram.press(ALERT_CHAT, telegram.buttons()["reject"])
    (result,) = poll_once(desk, wait=0).results
    assert result.accepted and result.status == "rejected"
    assert desk.ledger.approvals(proposal_id) == [] and desk.broker.orders() == []
    desk.close()


def test_a_press_in_another_chat_opens_nothing(home: Path, telegram: FakeTelegram) -> None:
    desk = alert_desk(home, telegram)
    proposal_id = _propose(desk)
    telegram.press(OTHER_CHAT, telegram.buttons()["approve"])
    (result,) = poll_once(desk, wait=0).results
    assert not result.accepted and "configured alert chat" in result.reason
    _nothing_opened(desk, proposal_id)
    desk.close()


@pytest.mark.parametrize("approver", [None, OTHER_CHAT])
def test_a_chat_not_configured_as_the_approver_opens_nothing(
    home: Path, telegram: FakeTelegram, approver: str | None
) -> None:
    """No approver chat at all, or the user's approver chat is another one: the alert chat's
    buttons (validly signed) are refused, and carry no buttons in the first place."""
    desk = alert_desk(home, telegram, approver=approver)
    proposal_id = _propose(desk)
    assert all("reply_markup" not in m for m in telegram.messages)
    telegram.press(ALERT_CHAT, _signed(desk, home, proposal_id))
    (result,) = poll_once(desk, wait=0).results
    assert not result.accepted and "approver chat" in result.reason
    _nothing_opened(desk, proposal_id)
    desk.close()


@pytest.mark.parametrize(
    "forgery",
    ["mac_edited", "other_key", "other_proposal", "reject_turned_approve"],
)
def test_a_forged_button_opens_nothing(home: Path, telegram: FakeTelegram, forgery: str) -> None:
    desk = alert_desk(home, telegram)
    proposal_id = _propose(desk)
    good = telegram.buttons()
    if forgery == "mac_edited":
        head, mac = good["approve"].rsplit("|", 1)
        data = f"{head}|{('A' if mac[0] != 'A' else 'B') + mac[1:]}"
    elif forgery == "other_key":
        data = _signed(desk, home, proposal_id, key=CallbackKey(AuditKey(b"k" * 32, "attacker")))
    elif forgery == "other_proposal":
        other = _propose(desk)
        _, _, expires, mac = telegram.buttons()["approve"].split("|")
        data = f"y|{proposal_id}|{expires}|{mac}"  # another proposal's MAC
        assert other != proposal_id
    else:
        _, pid, expires, mac = good["reject"].split("|")
        data = f"y|{pid}|{expires}|{mac}"
    telegram.press(ALERT_CHAT, data)
    (result,) = poll_once(desk, wait=0).results
    assert not result.accepted and "signature" in result.reason
    _nothing_opened(desk, proposal_id)
    desk.close()


def test_a_button_for_other_terms_opens_nothing(home: Path, telegram: FakeTelegram) -> None:
    """Signed with the right key, but over another order hash: the terms the person saw are
    not the ones the risk engine approved now."""
    desk = alert_desk(home, telegram)
    proposal_id = _propose(desk)
    telegram.press(ALERT_CHAT, _signed(desk, home, proposal_id, order_hash="0" * 64))
    (result,) = poll_once(desk, wait=0).results
    assert not result.accepted and "signature" in result.reason
    _nothing_opened(desk, proposal_id)
    desk.close()


def test_a_press_racing_a_new_decision_approves_nothing(
    home: Path, telegram: FakeTelegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The button checks out against the terms in the message; another process shrinks the
    proposal before the approval reaches the gate: the person never approved those terms."""
    desk = alert_desk(home, telegram)
    proposal_id = _propose(desk)
    telegram.press(ALERT_CHAT, telegram.buttons()["approve"])
    approve = desk.approve

    def shrunk_meanwhile(*args: object, **kwargs: object) -> object:
        desk.record_agent_verdict(proposal_id, AgentVerdict(verdict="shrink", quantity=0.4))
        return approve(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(desk, "approve", shrunk_meanwhile)
    (result,) = poll_once(desk, wait=0).results
    assert not result.accepted and "changed" in result.reason, result.reason
    assert telegram.answers[-1]["text"].startswith("refused")
    assert desk.ledger.get_proposal(proposal_id).status is ProposalStatus.PENDING
    assert desk.ledger.approvals(proposal_id) == [] and desk.broker.orders() == []
    desk.close()


def test_an_expired_button_opens_nothing(home: Path, telegram: FakeTelegram) -> None:
    desk = alert_desk(home, telegram)
    proposal_id = _propose(desk)
    past = int((utcnow() - timedelta(seconds=1)).timestamp())
    telegram.press(ALERT_CHAT, _signed(desk, home, proposal_id, expires=past))
    (result,) = poll_once(desk, wait=0).results
    assert not result.accepted and "expired" in result.reason
    _nothing_opened(desk, proposal_id)
    desk.close()


def test_a_replayed_button_is_refused_as_used(home: Path, telegram: FakeTelegram) -> None:
    """The same press delivered again (a new update with the same data, even after a
    restart of the poller): refused as used, nothing more is opened."""
    desk = alert_desk(home, telegram)
    proposal_id = _propose(desk)
    reject = telegram.buttons()["reject"]
    telegram.press(ALERT_CHAT, reject)
    assert poll_once(desk, wait=0).results[0].accepted
    desk.close()
    desk = alert_desk(home, telegram)
    telegram.press(ALERT_CHAT, reject)
    (result,) = poll_once(desk, wait=0).results
    assert not result.accepted and result.reason == "this button was already used"
    assert desk.ledger.get_proposal(proposal_id).status is ProposalStatus.REJECTED
    desk.close()


def test_each_press_is_read_once(home: Path, telegram: FakeTelegram) -> None:
    desk = alert_desk(home, telegram)
    _propose(desk)
    telegram.press(ALERT_CHAT, telegram.buttons()["reject"])
    assert len(poll_once(desk, wait=0).results) == 1
    assert poll_once(desk, wait=0).results == []  # the offset moved past it
    desk.close()


def test_without_an_approver_chat_the_desk_and_the_gate_refuse_the_telegram_channel(
    home: Path,
) -> None:
    """Behind the poller: the desk does not take the channel, and the gate (the one path to
    the broker) refuses a telegram grant even when the desk is bypassed."""
    desk = build_desk(home, make_settings(home))
    proposal_id = _propose(desk)
    with pytest.raises(DeskError, match="telegram"):
        desk.approve(proposal_id, actor="telegram:1", channel=ApprovalChannel.TELEGRAM)
    decision = desk.ledger.latest_decision(proposal_id)
    assert decision is not None
    grant = Grant(
        actor="telegram:1",
        channel=ApprovalChannel.TELEGRAM,
        expires_at=decision.expires_at,
        order_hash=decision.order_hash,
    )
    with pytest.raises(GateRefusal) as refused:
        desk.gate.submit(proposal_id, "telegram:1", grant)
    assert refused.value.rule == "human"
    assert all(a.consumed_at is None for a in desk.ledger.approvals(proposal_id))
    assert desk.ledger.orders(proposal_id=proposal_id) == [] and desk.broker.orders() == []
    desk.close()


def test_an_alert_from_anyone_but_the_desk_never_carries_buttons(
    home: Path, telegram: FakeTelegram
) -> None:
    """A caller of ``send`` (a serve job, a tool) naming a proposal gets no buttons: only the
    desk binds them to the terms it stored, so no other text can front a real button."""
    desk = alert_desk(home, telegram)
    proposal_id = _propose(desk)
    before = len(telegram.messages)
    desk.alerts.send(
        AlertEvent(
            kind=AlertKind.PROPOSAL,
            title="approve? buy 1 XAUUSD (really a much bigger order)",
            proposal_id=proposal_id,
            key="elsewhere",
        )
    )
    assert desk.alerts.flush(10)
    assert len(telegram.messages) == before + 1
    assert "reply_markup" not in telegram.messages[-1]
    desk.close()


def test_the_serve_job_acts_on_presses_and_counts_an_outage(
    home: Path, telegram: FakeTelegram
) -> None:
    from tradecrew.serve.telegram_poll import poll_job

    desk = alert_desk(home, telegram)
    _propose(desk)
    telegram.press(ALERT_CHAT, telegram.buttons()["reject"])
    report = poll_job(desk)
    assert report is not None and report.results[0].accepted
    telegram.fail_with = 502
    assert poll_job(desk) is None
    assert desk.alerts.stats().failed["telegram_poll"] == 1
    desk.close()
    unconfigured = alert_desk(home / "other", telegram, approver=None)
    assert poll_job(unconfigured) is None
    unconfigured.close()


def test_hostile_updates_neither_break_the_poll_nor_open_anything(
    home: Path, telegram: FakeTelegram
) -> None:
    """A Bot API stand-in (or a client crafting callback data) sends junk before a real press:
    each junk update is refused on its own and the real press in the same batch still counts."""
    desk = alert_desk(home, telegram)
    proposal_id = _propose(desk)
    _, pid, expires, mac = telegram.buttons()["approve"].split("|")
    for data in (
        f"y|{pid}|\u00b2|{mac}",  # a digit to str.isdigit, not to int()
        f"y|{pid}|{expires}\u0662|{mac}",  # an Arabic-Indic digit: another number
        "y|" + "x" * 5000,
    ):
        telegram.press(ALERT_CHAT, data)
    with telegram.lock:
        telegram.updates.append({"update_id": 10**6, "callback_query": ["not", "a", "dict"]})
    real = telegram.press(ALERT_CHAT, telegram.buttons()["approve"])
    telegram.updates[-1]["update_id"] = real + 10**6  # after the junk ones
    report = poll_once(desk, wait=0)
    *junk, last = report.results
    assert [r.accepted for r in junk] == [False, False, False]
    assert last.accepted, last.reason
    assert desk.ledger.get_proposal(proposal_id).status is ProposalStatus.FILLED
    desk.close()


def test_a_link_planted_as_the_state_files_temporary_is_not_written_through(
    home: Path, telegram: FakeTelegram
) -> None:
    import os

    desk = alert_desk(home, telegram)
    victim = home.parent / "victim.txt"
    victim.write_text("precious\n")
    (home / f".telegram-state.json.{os.getpid()}").symlink_to(victim)
    telegram.press(ALERT_CHAT, "junk")
    poll_once(desk, wait=0)
    assert victim.read_text() == "precious\n"
    assert (home / "telegram-state.json").stat().st_mode & 0o777 == 0o600
    desk.close()
