"""Research: reports and charts of one symbol (backtests and the optimizer live beside them).

Names are imported on first use so that importing a sibling module stays light.
"""

from __future__ import annotations

from typing import Any

__all__ = ["build_report"]


def __getattr__(name: str) -> Any:
    if name == "build_report":
        from tradecrew.research.report import build_report

        return build_report
    raise AttributeError(f"module 'tradecrew.research' has no attribute {name!r}")
