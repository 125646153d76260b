"""The order path's check that a proposal's rows are what the keyed audit log says.

Before an order is stored, the proposal's terms must equal its creation image, its risk
decisions and agent verdicts must be exactly the audited ones (none deleted, none added, the
latest decision the last one audited), and every audit row relied on must check under the
key and be linked into the chain (``_trust``). The rows come from one indexed look-up by
subject, so the cost grows with the proposal's own history, never with the ledger's.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import bindparam, or_, select

from tradecrew.ledger._convert import image, to_model
from tradecrew.ledger._crosscheck import DECISIONS, PROPOSALS, VERDICTS, Images, Spec, compare
from tradecrew.ledger._orm import AuditRow, ProposalRow
from tradecrew.ledger._queries import DECISIONS_OF, VERDICTS_OF
from tradecrew.ledger._trust import untrusted
from tradecrew.ledger.records import AgentVerdictRecord
from tradecrew.models import Proposal, RiskDecision

if TYPE_CHECKING:
    from tradecrew.ledger._tx import Tx
    from tradecrew.ledger.records import ProposalRecord

_log = AuditRow.__table__
_RELEVANT = tuple(a for spec in (PROPOSALS, DECISIONS, VERDICTS) for a in spec.actions)
#: A proposal's audited rows, by the subject index.
_OF_SUBJECT = (
    select(_log)
    .where(_log.c.subject == bindparam("subject"), _log.c.action.in_(_RELEVANT))
    .order_by(_log.c.seq)
)
#: Rows written before audit rows named their subject (schema 0003): by entity and id.
_LEGACY = (
    select(_log)
    .where(
        or_(
            (_log.c.entity == "proposal") & (_log.c.entity_id == bindparam("proposal_id")),
            (_log.c.entity == "risk_decision")
            & _log.c.entity_id.in_(bindparam("decision_ids", expanding=True)),
            (_log.c.entity == "agent_verdict")
            & _log.c.entity_id.in_(bindparam("verdict_ids", expanding=True)),
        ),
        _log.c.action.in_(_RELEVANT),
    )
    .order_by(_log.c.seq)
)


class ProposalRows(NamedTuple):
    """A proposal's table rows, read once for both checks of the order path."""

    proposal: Any
    decisions: Sequence[Any]
    verdicts: Sequence[Any]


def proposal_rows(tx: Tx, proposal_id: str) -> ProposalRows:
    """The proposal's row, its risk decisions and its agent verdicts (NotFound: no such)."""
    conn = tx.conn
    return ProposalRows(
        tx.get(ProposalRow, proposal_id, "proposal"),
        conn.execute(DECISIONS_OF, {"proposal_id": proposal_id}).all(),
        conn.execute(VERDICTS_OF, {"proposal_id": proposal_id}).all(),
    )


def proposal_mismatch(tx: Tx, table: ProposalRows) -> str | None:
    """Why the proposal's rows are not what the audit log records; None when they are."""
    conn = tx.conn
    proposal, decisions, verdicts = table
    proposal_id = str(proposal.id)
    rows: Sequence[Any] = conn.execute(_OF_SUBJECT, {"subject": proposal_id}).all()
    if not any(r.action == PROPOSALS.actions[0] for r in rows):
        # Created before subjects: what the tables name can be checked, a row deleted
        # together with its table row only by `audit verify`.
        legacy = conn.execute(
            _LEGACY,
            {
                "proposal_id": proposal_id,
                "decision_ids": [d.id for d in decisions],
                "verdict_ids": [v.id for v in verdicts],
            },
        ).all()
        by_seq = {r.seq: r for r in (*legacy, *rows)}
        rows = [by_seq[s] for s in sorted(by_seq)]
    problem = untrusted(tx, rows)
    if problem:
        return problem
    images: dict[tuple[str, str], Images] = {}
    for r in rows:
        spec = _SPECS[r.entity]
        images.setdefault((r.entity, r.entity_id), Images()).add(spec, r.seq, r.action, r.after)
    problem = compare(PROPOSALS, proposal_id, proposal, images.get(("proposal", proposal_id)))
    if problem:
        return problem
    for spec, table_rows in ((DECISIONS, decisions), (VERDICTS, verdicts)):
        problem = _same_set(spec, table_rows, images)
        if problem:
            return problem
    audited = [k[1] for k in images if k[0] == DECISIONS.entity]  # in seq order
    if decisions and audited and decisions[-1].id != audited[-1]:
        return (
            f"the latest risk decision of proposal {proposal_id} is {decisions[-1].id} but the "
            f"audit log's is {audited[-1]}"
        )
    return None


def changed_since(seen: ProposalRecord, table: ProposalRows) -> str | None:
    """Why the proposal's rows are no longer ``seen``, what the caller read before this
    transaction (another process decided it again, or an agent's verdict came in); None
    when they are the same."""
    return _seen_differs(seen, *table)


_SPECS = {spec.entity: spec for spec in (PROPOSALS, DECISIONS, VERDICTS)}


def _same_set(
    spec: Spec, table_rows: Iterable[Any], images: dict[tuple[str, str], Images]
) -> str | None:
    """Every row of the table has its audit record and agrees with it, and every audited
    row is still there."""
    audited = {k[1]: v for k, v in images.items() if k[0] == spec.entity}
    for row in table_rows:
        key = str(row.id)
        problem = compare(spec, key, row, audited.pop(key, None))
        if problem:
            return problem
    for key, seen in audited.items():
        return (
            f"{spec.table.name} row {key} is missing; the audit log records it "
            f"(seq {seen.created_seq or seen.latest_seq})"
        )
    return None


def _seen_differs(
    seen: ProposalRecord, proposal: Any, decisions: Sequence[Any], verdicts: Sequence[Any]
) -> str | None:
    """The rows the caller read before this transaction are the ones checked here."""
    fixed = (*PROPOSALS.immutable, "id")
    mine = seen.proposal.model_dump(include=set(fixed), mode="json")
    now = image(to_model(Proposal, proposal))
    if any(mine[f] != now[f] for f in mine):
        return f"proposal {seen.proposal.id} changed while it was being checked"
    if [image(d) for d in seen.decisions] != [image(to_model(RiskDecision, d)) for d in decisions]:
        return f"the risk decisions of proposal {seen.proposal.id} changed while it was checked"
    if [image(v) for v in seen.verdicts] != [
        image(to_model(AgentVerdictRecord, v)) for v in verdicts
    ]:
        return f"the agent verdicts of proposal {seen.proposal.id} changed while it was checked"
    return None
