"""A command that needs an optional extra which is not installed: one line naming the extra.

``pip install 'tradecrew[research]'`` tells a person what to do; a ModuleNotFoundError
traceback from deep inside a report does not.
"""

from __future__ import annotations

# top-level module -> (what needs it, the extra that installs it)
EXTRAS: dict[str, tuple[str, str]] = {
    "matplotlib": ("reports and charts", "research"),
    "optuna": ("tuning", "research"),
    "chromadb": ("the desk's memory (memory search, crew memory)", "crew"),
    "crewai": ("the LLM crew", "crew"),
    "langchain_core": ("the LangChain tools", "crew"),
    "mcp": ("the MCP server", "mcp"),
    "alpaca": ("Alpaca", "alpaca"),
    "MetaTrader5": ("MetaTrader 5", "mt5"),
    "mt5linux": ("MetaTrader 5", "mt5"),
    "transformers": ("FinBERT sentiment", "finbert"),
    "feedparser": ("RSS news", "news"),
    "pyarrow": ("Parquet files", "parquet"),
    "yfinance": ("Yahoo Finance data", "yfinance"),
    "ccxt": ("crypto exchange data", "ccxt"),
    "openbb": ("OpenBB data", "openbb"),
    "openbb_core": ("OpenBB data", "openbb"),
    "psycopg": ("PostgreSQL", "postgres"),
    "gymnasium": ("the RL environment", "rl"),
}


def missing_extra(exc: BaseException) -> str | None:
    """The one-line message for an exception caused by a missing optional package, else
    None. Follows the cause chain (a wrapper may re-raise the ImportError as its own)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ImportError) and current.name:
            top = current.name.split(".", 1)[0]
            if top in EXTRAS:
                what, extra = EXTRAS[top]
                return (
                    f"{what}: {top} is not installed; install the optional extra '{extra}': "
                    f"pip install 'tradecrew[{extra}]'"
                )
        current = current.__cause__ or current.__context__
    return None
