"""The lifecycle tables of proposals and orders.

Every state change of a proposal or an order is checked against one of these two tables,
so they live together in one module.
"""

from __future__ import annotations

from enum import StrEnum


class ProposalStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"
    VETOED = "vetoed"
    SUBMITTED = "submitted"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELLED = "cancelled"
    FAILED = "failed"


class OrderStatus(StrEnum):
    """NEW is persisted but not yet claimed for sending; SUBMITTED is claimed, so on its way
    or at the broker with the outcome not yet known (see ``ORDER_TRANSITIONS``)."""

    NEW = "new"
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELLED = "cancelled"
    REJECTED = "rejected"
    EXPIRED = "expired"


class IllegalTransition(ValueError):
    """A proposal or order was asked to move to a state its lifecycle forbids."""


PROPOSAL_TRANSITIONS: dict[ProposalStatus, frozenset[ProposalStatus]] = {
    ProposalStatus.PENDING: frozenset(
        {
            ProposalStatus.APPROVED,
            ProposalStatus.REJECTED,
            ProposalStatus.EXPIRED,
            ProposalStatus.VETOED,
        }
    ),
    ProposalStatus.APPROVED: frozenset(
        {
            ProposalStatus.SUBMITTED,
            ProposalStatus.EXPIRED,
            ProposalStatus.REJECTED,
            ProposalStatus.VETOED,
            ProposalStatus.FAILED,
        }
    ),
    ProposalStatus.SUBMITTED: frozenset(
        {
            ProposalStatus.PARTIALLY_FILLED,
            ProposalStatus.FILLED,
            ProposalStatus.CANCELLED,
            ProposalStatus.FAILED,
        }
    ),
    ProposalStatus.PARTIALLY_FILLED: frozenset(
        {ProposalStatus.PARTIALLY_FILLED, ProposalStatus.FILLED, ProposalStatus.CANCELLED}
    ),
    ProposalStatus.REJECTED: frozenset(),
    ProposalStatus.EXPIRED: frozenset(),
    ProposalStatus.VETOED: frozenset(),
    ProposalStatus.FILLED: frozenset(),
    ProposalStatus.CANCELLED: frozenset(),
    ProposalStatus.FAILED: frozenset(),
}

# An order's life, the one table every change goes through:
# - NEW: stored (with its approval consumed) but not claimed for sending: it has not left and
#   cannot leave under a halted desk. The kill switch closes it (CANCELLED); reconciliation
#   closes it once it is older than the submit grace period and unknown to the broker. A NEW
#   order that was closed is never sent: sending needs its claim (NEW -> SUBMITTED), which
#   happens under the ledger's write lock only while the desk is not halted.
# - SUBMITTED: claimed, so it may be on its way or at the broker. The kill switch cancels it at
#   the broker, or reports it in flight if the broker does not hold it yet (it is cancelled
#   when it arrives: by its sender, else by reconciliation under the halt). Reconciliation
#   adopts the broker's view of it, or closes it after the grace period as never sent; a
#   broker that later reports it alive makes it "contradicted" and the desk REDUCING.
# - ACCEPTED / PARTIALLY_FILLED: working at the broker. FILLED, CANCELLED, REJECTED, EXPIRED:
#   final (a fill arriving after a cancel is still booked; the status is kept).
# External orders (found at the broker, the venue's bracket legs among them) start ACCEPTED.
ORDER_TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.NEW: frozenset(
        {
            OrderStatus.SUBMITTED,
            OrderStatus.ACCEPTED,
            OrderStatus.REJECTED,
            OrderStatus.PARTIALLY_FILLED,
            OrderStatus.FILLED,
            OrderStatus.CANCELLED,
        }
    ),
    OrderStatus.SUBMITTED: frozenset(
        {
            OrderStatus.ACCEPTED,
            OrderStatus.PARTIALLY_FILLED,
            OrderStatus.FILLED,
            OrderStatus.CANCELLED,
            OrderStatus.REJECTED,
            OrderStatus.EXPIRED,
        }
    ),
    OrderStatus.ACCEPTED: frozenset(
        {
            OrderStatus.PARTIALLY_FILLED,
            OrderStatus.FILLED,
            OrderStatus.CANCELLED,
            OrderStatus.EXPIRED,
        }
    ),
    OrderStatus.PARTIALLY_FILLED: frozenset(
        {
            OrderStatus.PARTIALLY_FILLED,
            OrderStatus.FILLED,
            OrderStatus.CANCELLED,
            OrderStatus.EXPIRED,
        }
    ),
    OrderStatus.FILLED: frozenset(),
    OrderStatus.CANCELLED: frozenset(),
    OrderStatus.REJECTED: frozenset(),
    OrderStatus.EXPIRED: frozenset(),
}

TERMINAL_ORDER_STATUSES = frozenset(s for s, nxt in ORDER_TRANSITIONS.items() if not nxt)
TERMINAL_PROPOSAL_STATUSES = frozenset(s for s, nxt in PROPOSAL_TRANSITIONS.items() if not nxt)


def check_proposal_transition(current: ProposalStatus, new: ProposalStatus) -> None:
    """Raise IllegalTransition unless the proposal lifecycle allows current -> new."""
    if new not in PROPOSAL_TRANSITIONS[current]:
        raise IllegalTransition(f"proposal cannot go from {current.value} to {new.value}")


def check_order_transition(current: OrderStatus, new: OrderStatus) -> None:
    """Raise IllegalTransition unless the order lifecycle allows current -> new."""
    if new not in ORDER_TRANSITIONS[current]:
        raise IllegalTransition(f"order cannot go from {current.value} to {new.value}")
