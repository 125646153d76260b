"""Natural-language trading commands to typed intents, for the MCP ``trade_command`` tool.

``parse_command("sell 0.5 lots of EURUSD at 1.0850 with stop 1.0800")`` returns a
TradeIntent (50,000 units, limit 1.0850, stop loss 1.0800); anything it cannot read safely
comes back as a ParseFailure saying what is missing. Parsing never places an order.
"""

from __future__ import annotations

from tradecrew.mcp_server.intent_models import (
    INTENT_ADAPTER,
    CancelIntent,
    CloseIntent,
    Intent,
    KillSwitchIntent,
    ParseFailure,
    QueryIntent,
    TradeIntent,
    describe,
)
from tradecrew.mcp_server.intent_parser import parse_command
from tradecrew.mcp_server.intent_trade import QuoteLookup

__all__ = [
    "INTENT_ADAPTER",
    "CancelIntent",
    "CloseIntent",
    "Intent",
    "KillSwitchIntent",
    "ParseFailure",
    "QueryIntent",
    "QuoteLookup",
    "TradeIntent",
    "describe",
    "parse_command",
]
