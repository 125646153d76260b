"""Building blocks for the news tests."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from tradecrew.news import Headline

REPO = Path(__file__).resolve().parents[2]


def deterministic_crew_home(home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``home`` with the repository's crew.yaml and no LLM named in the environment, so a
    crew run there is the deterministic one."""
    for key in ("TRADECREW_LLM__MODEL", "TRADECREW_LLM__BASE_URL", "OPENAI_API_KEY"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("TRADECREW_CREW_FILE", str(REPO / "crew.yaml"))
    return home


def spx_headline(
    n: int, at: datetime, text: str, source: str = "wire", provider: str = "alpaca"
) -> Headline:
    """Headline number ``n`` about SPX, published at ``at``."""
    return Headline(
        provider=provider,
        provider_id=str(n),
        source=source,
        headline=text,
        symbols=["SPX"],
        published_at=at,
    )
