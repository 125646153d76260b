"""Removed settings: an old crew file, environment or stored configuration version that still
sets one keeps working, and the user is told the key does nothing and can go."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.helpers import crew_cwd
from tradecrew.cli import app
from tradecrew.config import SessionComponent, Settings, get_settings
from tradecrew.config_sections.retired import RetiredSettingWarning
from tradecrew.crewfile import CrewFileError, load_crew_file
from tradecrew.ledger import Ledger
from tradecrew.research import configs

OLD_CREW = """\
version: 1
hybrid_ai:
  components:
    session: {enabled: false, min_activity: 0.3}
agents:
  risk_manager:
    role: Risk manager
    goal: Veto or shrink.
    can_veto: true
tasks:
  risk_review:
    description: Review.
    expected_output: Verdict.
    agent: risk_manager
"""


@pytest.fixture
def here(tradecrew_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return crew_cwd(tmp_path, monkeypatch, "TRADECREW_COMPONENTS__SESSION__MIN_ACTIVITY")


def test_an_old_crew_file_loads_and_each_retired_key_is_named_at_its_line(here: Path) -> None:
    path = here / "crew.yaml"
    path.write_text(OLD_CREW, encoding="utf-8")
    with pytest.warns(RetiredSettingWarning) as caught:
        crew = load_crew_file(path)
    seen = {(str(w.message).split(" ")[0], w.filename, w.lineno) for w in caught}
    assert seen == {
        ("hybrid_ai.components.session.min_activity", str(path), 4),
        ("agents.risk_manager.can_veto", str(path), 9),
    }
    assert all("ignored" in str(w.message) and "remove it" in str(w.message) for w in caught)
    assert "can_veto" not in crew.agents["risk_manager"].model_dump()
    with pytest.warns(RetiredSettingWarning):
        settings = Settings()
    # What the file sets beside the retired key still applies.
    assert settings.components.session.enabled is False
    assert "min_activity" not in settings.components.session.model_dump()


def test_config_check_passes_on_an_old_crew_file_and_warns(here: Path) -> None:
    (here / "crew.yaml").write_text(OLD_CREW, encoding="utf-8")
    get_settings.cache_clear()
    with pytest.warns(RetiredSettingWarning):
        result = CliRunner().invoke(app, ["config", "check", "--json"])
    assert result.exit_code == 0, result.output
    assert "min_activity" not in result.stdout


def test_the_retired_session_floor_in_the_environment_is_ignored_with_a_warning(
    here: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRADECREW_COMPONENTS__SESSION__MIN_ACTIVITY", "0.2")
    with pytest.warns(RetiredSettingWarning, match=r"components\.session\.min_activity"):
        settings = Settings()
    assert settings.components.session == SessionComponent()


def test_an_unknown_key_is_still_an_error_beside_a_retired_one() -> None:
    with pytest.warns(RetiredSettingWarning), pytest.raises(ValueError, match="min_activty"):
        SessionComponent.model_validate({"min_activity": 0.1, "min_activty": 0.1})


@pytest.mark.parametrize("version", ["2", "true", '"1"'])
def test_a_crew_file_of_another_format_version_is_refused(here: Path, version: str) -> None:
    path = here / "crew.yaml"
    path.write_text(f"version: {version}\n", encoding="utf-8")
    with pytest.raises(CrewFileError, match=r"line 1: version: Input should be 1"):
        load_crew_file(path)
    path.write_text("version: 1\n", encoding="utf-8")
    assert load_crew_file(path).version == 1


def test_a_stored_version_holding_the_retired_session_floor_still_applies(
    tradecrew_home: Path,
) -> None:
    settings = Settings()
    tradecrew_home.mkdir(parents=True, exist_ok=True)
    with Ledger(f"sqlite:///{tradecrew_home / 'old.db'}", home=tradecrew_home) as ledger:
        ledger.add_config_version(
            {"enabled": {"regime": False}, "thresholds": {"session": {"min_activity": 0.4}}},
            kind="toggle",
            actor="old-desk",
            channel="cli",
            reason="written before the floor was removed",
        )
        live, version = configs.active_settings(settings, ledger)
    assert version == 1 and live.components.regime.enabled is False
    # A new version may not set it: no threshold of that name exists.
    with pytest.raises(ValueError, match="not a tunable threshold"):
        configs.ConfigContent(thresholds={"session": {"min_activity": 0.4}})
