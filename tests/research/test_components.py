"""Component toggles and configuration versions: the CLI, the desk's analysis reading the
active version, the risk limits a version can never loosen, rollback, and the audit log."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.invoke import cli
from tradecrew.config import Settings
from tradecrew.ledger import Ledger
from tradecrew.research import configs


def _json(result) -> dict:  # type: ignore[no-untyped-def]
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _states(view: dict) -> dict[str, bool]:
    return {c["name"]: c["enabled"] for c in view["components"]}


def _audit(home: Path) -> list:  # type: ignore[type-arg]
    with Ledger.from_settings(Settings(home=home)) as ledger:
        return [r for r in ledger.audit_log(50) if r.entity == "config_version"]


def test_disable_and_enable_are_versions_in_the_audit_log(tradecrew_home: Path) -> None:
    assert _states(_json(cli("components", "list", "--json")))["regime"] is True
    off = _json(cli("components", "disable", "regime", "--reason", "noisy", "--json"))
    assert off["changed"] is True and off["version"] == 1
    view = _json(cli("components", "list", "--json"))
    assert view["version"] == 1 and view["source"] == "ledger"
    assert _states(view)["regime"] is False
    again = _json(cli("components", "disable", "regime", "--json"))
    assert again["changed"] is False and again["version"] == 1
    on = _json(cli("components", "enable", "REGIME", "--json"))
    assert on["version"] == 2 and _states(_json(cli("components", "list", "--json")))["regime"]
    rows = _audit(tradecrew_home)
    assert [(r.actor, r.after["channel"], r.after["reason"]) for r in rows] == [
        ("cli", "cli", "regime enabled"),
        ("cli", "cli", "noisy"),
    ]


def test_the_desk_analysis_reads_the_active_version(tradecrew_home: Path) -> None:
    from tradecrew.agents.runner import run_crew

    settings = Settings(home=tradecrew_home)
    before = run_crew(["SPX"], dry_run=True, settings=settings, remember=False).outcomes[0]
    assert before.regime is not None
    assert cli("components", "disable", "regime").exit_code == 0
    after = run_crew(["SPX"], dry_run=True, settings=settings, remember=False).outcomes[0]
    assert after.regime is None  # the regime analyzer did not run
    assert after.analysis_sha256 != before.analysis_sha256
    assert cli("components", "rollback").exit_code == 0
    back = run_crew(["SPX"], dry_run=True, settings=settings, remember=False).outcomes[0]
    assert back.regime == before.regime and back.analysis_sha256 == before.analysis_sha256


def test_a_component_the_risk_gate_reads_cannot_be_turned_off(tradecrew_home: Path) -> None:
    result = cli("components", "disable", "calendar")
    assert result.exit_code == 2
    assert "risk gate reads it" in result.stderr and "Traceback" not in result.output
    assert _json(cli("components", "list", "--json"))["version"] == 0
    assert _audit(tradecrew_home) == []


def test_no_version_touches_a_risk_limit() -> None:
    settings = Settings()
    weights = {"trend": 5.0, "momentum": 0.0, "regime": 3.0}
    content = configs.ConfigContent(
        weights=weights, neutral_band=0.0, enabled={"correlation": False, "session": False}
    )
    applied = configs.effective_settings(settings, content, strict=True)
    assert applied.risk == settings.risk
    assert applied.fusion.weights["trend"] == 5.0 and applied.fusion.neutral_band == 0.0
    with pytest.raises(ValueError, match="extra"):
        configs.ConfigContent.model_validate({"risk": {"max_drawdown_pct": 0.9}})
    # A looser blackout is refused when made, and never applied when read.
    loose = configs.ConfigContent(thresholds={"calendar": {"minutes_before": 0}})
    with pytest.raises(ValueError, match="minutes_before"):
        configs.effective_settings(settings, loose, strict=True)
    kept = configs.effective_settings(settings, loose)
    assert kept.components.calendar.minutes_before == settings.components.calendar.minutes_before


def test_bad_component_names_and_an_empty_rollback_are_bad_input(tradecrew_home: Path) -> None:
    unknown = cli("components", "disable", "astrology")
    assert unknown.exit_code == 2 and "unknown component" in unknown.stderr
    nothing = cli("components", "rollback")
    assert nothing.exit_code == 2 and "nothing to roll back" in nothing.stderr


def test_rollback_walks_back_one_version_at_a_time(tradecrew_home: Path) -> None:
    for name in ("regime", "session"):
        assert cli("components", "disable", name).exit_code == 0
    first = _json(cli("components", "rollback", "--reason", "undo", "--json"))
    states = _states(_json(cli("components", "list", "--json")))
    assert first["version"] == 3 and states["regime"] is False and states["session"] is True
    assert _json(cli("components", "rollback", "--json"))["version"] == 4
    assert all(_states(_json(cli("components", "list", "--json"))).values())
    refused = cli("components", "rollback")
    assert refused.exit_code == 2 and "nothing to roll back" in refused.stderr
    versions = _json(cli("components", "versions", "--json"))
    assert [v["kind"] for v in versions] == ["rollback", "rollback", "toggle", "toggle"]
    assert versions[1]["reason"] == "undo"


def test_turning_every_vote_off_is_refused(tradecrew_home: Path) -> None:
    settings = Settings(home=tradecrew_home)
    with Ledger.from_settings(settings) as ledger:
        for name in ("trend", "momentum", "volume", "mtf", "regime"):
            configs.set_component(ledger, settings, name, False, actor="cli", channel="cli")
    last = cli("components", "disable", "sentiment")
    assert last.exit_code == 2 and "keep at least one" in last.stderr
