"""The paper venue, keeping every order the gate hands it: what the gate tests check."""

from __future__ import annotations

from typing import Any

from tradecrew.brokers.paper import PaperBroker
from tradecrew.models import Order


class RecordingBroker(PaperBroker):
    """The paper venue, keeping every order the gate hands it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sent: list[Order] = []

    def submit(self, order: Order) -> Order:
        self.sent.append(order)
        return super().submit(order)
