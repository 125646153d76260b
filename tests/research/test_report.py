"""The research report: sections, embedded charts, escaping of untrusted text, both formats."""

from __future__ import annotations

import base64
import re
import struct
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import shared_file
from tests.tools.front_end import analyze
from tradecrew.models import Proposal, RiskCheck, RiskDecision, Side, utcnow
from tradecrew.research import build_report
from tradecrew.tools.catalog import AnalyzeQuery

SECTIONS = (
    "summary",
    "signal",
    "price",
    "indicators",
    "regime",
    "sentiment",
    "correlation",
    "notes",
)
EVIL = '<script>alert("x")</script> Gold | rallies <img src=x onerror=alert(1)>'
HEADLINES = ["Gold surges to record as the dollar slumps", EVIL]


def _png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk; AssertionError unless it is a PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG signature"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def _embedded_pngs(html: str) -> list[bytes]:
    return [base64.b64decode(m) for m in re.findall(r'src="data:image/png;base64,([^"]+)"', html)]


@pytest.fixture(scope="module")
def proposal() -> Proposal:
    return Proposal(
        symbol="XAUUSD",
        side=Side.BUY,
        quantity=10.0,
        stop_loss=2150.0,
        rationale="Breakout with the trend <b>confirmed</b>",
    )


@pytest.fixture(scope="module")
def decision(proposal: Proposal) -> RiskDecision:
    return RiskDecision(
        proposal_id=proposal.id,
        approved=True,
        requested_quantity=10.0,
        approved_quantity=6.0,
        checks=[
            RiskCheck(
                name="max_order_notional",
                passed=True,
                max_quantity=6.0,
                reason="shrunk to the notional limit",
            )
        ],
        order_hash="0" * 64,
        expires_at=utcnow() + timedelta(minutes=5),
    )


@pytest.fixture(scope="module")
def sample_html(
    tmp_path_factory: pytest.TempPathFactory, proposal: Proposal, decision: RiskDecision
) -> str:
    out = tmp_path_factory.mktemp("report") / "xauusd.html"
    path = build_report(
        "XAUUSD",
        "D1",
        "sample",
        out=out,
        headlines=HEADLINES,
        proposal=proposal,
        risk_decision=decision,
    )
    assert path == out and out.is_file()
    return out.read_text("utf-8")


def test_html_report_has_every_section_and_the_synthetic_banner(sample_html: str) -> None:
    for anchor in (*SECTIONS, "proposal"):
        assert f'<section id="{anchor}">' in sample_html
    assert "SYNTHETIC DATA" in sample_html
    assert "XAUUSD research report (D1)" in sample_html


def test_the_report_labels_the_sample_calendar_synthetic(sample_html: str) -> None:
    context = sample_html[sample_html.index('<section id="context">') :]
    context = context[: context.index("</section>")]
    assert "Calendar source" in context and "sample calendar (synthetic)" in context


def test_embedded_charts_decode_as_png_images(sample_html: str) -> None:
    images = _embedded_pngs(sample_html)
    assert len(images) == 3  # price, indicators, regime
    for data in images:
        width, height = _png_size(data)
        assert width >= 600 and height >= 200


def test_untrusted_headlines_and_rationale_are_escaped(sample_html: str) -> None:
    assert "<script>" not in sample_html and "<img src=x" not in sample_html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in sample_html
    assert "&lt;b&gt;confirmed&lt;/b&gt;" in sample_html
    # The page forbids scripts outright, as a second line of defence.
    assert "default-src 'none'" in sample_html


def test_numbers_in_the_report_are_the_tools_numbers(sample_html: str) -> None:
    analysis = analyze(AnalyzeQuery(symbol="XAUUSD", source="sample", headlines=HEADLINES))
    assert f"{analysis.signal.score:+.3f}" in sample_html
    assert f"{analysis.last_price:,.2f}" in sample_html
    assert analysis.regime is not None
    assert f"confidence {analysis.regime.confidence:.0%}" in sample_html
    for comp in analysis.signal.components:
        assert f"<td>{comp.name}</td><td>{comp.score:+.3f}</td>" in sample_html


def test_proposal_and_risk_review_are_shown(sample_html: str, proposal: Proposal) -> None:
    assert proposal.id in sample_html
    assert "Risk review: APPROVED, 6.0000 of 10.0000 requested" in sample_html
    assert "max_order_notional" in sample_html and "shrunk to the notional limit" in sample_html


def test_report_on_the_real_gold_csv_quotes_its_last_close(tmp_path: Path) -> None:
    csv = shared_file("XAUUSD_D1_mt5.csv")
    raw = pd.read_csv(csv, sep=";")
    out = build_report("XAUUSD", source=f"csv:{csv}", out=tmp_path / "gold.html")
    html = out.read_text("utf-8")
    assert "SYNTHETIC DATA" not in html
    assert f"<td>{float(raw['Close'].iloc[-1]):,.2f}</td>" in html
    assert all(f'<section id="{a}">' in html for a in SECTIONS)
    assert "No headlines were supplied." in html
    assert len(_embedded_pngs(html)) == 3


def test_markdown_report_writes_pngs_beside_it(tmp_path: Path) -> None:
    out = build_report(
        "XAUUSD", source="sample", out=tmp_path / "md" / "gold.md", headlines=HEADLINES
    )
    text = out.read_text("utf-8")
    pngs = sorted((tmp_path / "md").glob("*.png"))
    assert [p.name for p in pngs] == ["gold_indicators.png", "gold_price.png", "gold_regime.png"]
    for png in pngs:
        _png_size(png.read_bytes())
        assert f"]({png.name})" in text
    assert "SYNTHETIC DATA" in text and "## Market regime" in text
    assert "<script>" not in text and "&lt;script&gt;" in text
    # The pipe inside the headline must not add a column to the headline table.
    row = next(line for line in text.splitlines() if "&lt;script&gt;" in line)
    assert row.count(" | ") == 4


def test_too_few_bars_for_a_regime_still_gives_a_report(tmp_path: Path) -> None:
    out = build_report("XAUUSD", source="sample", out=tmp_path / "short.html", max_bars=120)
    html = out.read_text("utf-8")
    assert "No regime at the last bar" in html and "regime: needs 280 bars" in html
    assert len(_embedded_pngs(html)) == 2


@pytest.mark.parametrize("name", ["report.pdf", "report", "report.html.txt"])
def test_unknown_file_type_is_refused_before_anything_is_written(tmp_path: Path, name: str) -> None:
    with pytest.raises(ValueError, match=r"\.html or \.md"):
        build_report("XAUUSD", source="sample", out=tmp_path / name)
    assert list(tmp_path.iterdir()) == []


def test_mismatched_proposal_or_decision_is_refused(
    tmp_path: Path, proposal: Proposal, decision: RiskDecision
) -> None:
    with pytest.raises(ValueError, match="is for XAUUSD"):
        build_report("EURUSD", source="sample", out=tmp_path / "r.html", proposal=proposal)
    other = decision.model_copy(update={"proposal_id": "prp_other"})
    with pytest.raises(ValueError, match="reviews prp_other"):
        build_report(
            "XAUUSD",
            source="sample",
            out=tmp_path / "r.html",
            proposal=proposal,
            risk_decision=other,
        )
    assert not (tmp_path / "r.html").exists()


def test_bad_symbol_or_timeframe_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="symbol"):
        build_report("  ", source="sample", out=tmp_path / "r.html")
    with pytest.raises(ValueError, match="timeframe"):
        build_report("XAUUSD", "H7", source="sample", out=tmp_path / "r.html")
    with pytest.raises(TypeError, match="headlines"):
        build_report("XAUUSD", source="sample", out=tmp_path / "r.html", headlines="Gold up")
    with pytest.raises(LookupError):
        build_report("NOSUCHTHING", source="sample", out=tmp_path / "r.html")
    assert not (tmp_path / "r.html").exists()


def test_a_vetoed_signal_is_headlined_as_vetoed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tradecrew_home: Path
) -> None:
    from tradecrew.config import get_settings

    # A zero correlation limit makes every peer a breach, so the fusion must carry a veto.
    monkeypatch.setenv("TRADECREW_COMPONENTS__CORRELATION__MAX_CORRELATION", "0")
    get_settings.cache_clear()
    analysis = analyze(AnalyzeQuery(symbol="XAUUSD", source="sample"))
    assert analysis.signal.vetoes
    html = build_report("XAUUSD", source="sample", out=tmp_path / "v.html").read_text("utf-8")
    assert re.search(r'<p class="bad">Fused signal: [A-Z]+ .*, VETOED: correlation above', html)
