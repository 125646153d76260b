"""``python -m tests.mcp_server.live_server mcp``: the MCP server over stdio with a desk whose
broker reports a LIVE account (the embedded paper venue under a live label), so the MCP
layer's live-account rules run for real while nothing leaves the machine."""

from __future__ import annotations

from tradecrew.brokers.paper import PaperBroker
from tradecrew.config import get_settings
from tradecrew.desk import Desk
from tradecrew.ledger import Ledger
from tradecrew.mcp_server import build_server
from tradecrew.models import AccountMode


class LiveLabelledPaper(PaperBroker):
    @property
    def mode(self) -> AccountMode:
        return AccountMode.LIVE


def main() -> None:
    settings = get_settings()
    settings.ensure_home()
    desk = Desk(Ledger.from_settings(settings), LiveLabelledPaper(), settings)
    try:
        build_server(desk).run("stdio")
    finally:
        desk.close()


if __name__ == "__main__":
    main()
