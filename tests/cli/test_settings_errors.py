"""Settings that name something unusable (a folder as the crew file, a file as the home, a
database URL no driver can open) end a command with one `error:` line and exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tradecrew.cli import app
from tradecrew.config import get_settings
from tradecrew.errors import EXIT_BAD_INPUT

runner = CliRunner()


def _one_error_line(args: list[str]) -> str:
    get_settings.cache_clear()
    out = runner.invoke(app, args, catch_exceptions=False)
    assert out.exit_code == EXIT_BAD_INPUT, (out.exit_code, out.output)
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), out.stderr
    return lines[0]


def test_a_folder_named_as_the_crew_file(
    tradecrew_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRADECREW_CREW_FILE", str(tmp_path))
    assert "a folder, not a crew file" in _one_error_line(["config", "check"])


def test_a_file_named_as_the_home(
    tradecrew_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a_file = tmp_path / "not-a-folder"
    a_file.write_text("")
    monkeypatch.setenv("TRADECREW_HOME", str(a_file))
    assert "is not a folder" in _one_error_line(["proposals", "list"])


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("bogus://user:hunter2@host/db", "no database driver for 'bogus'"),
        ("postgresql+psycopg://user:hunter2@127.0.0.1:1/db", "driver is not installed"),
        ("sqlite:////nonexistent-folder-a3/x.db", "folder /nonexistent-folder-a3 does not exist"),
        ("not a url", "malformed"),
    ],
)
def test_a_database_url_that_opens_nothing(
    tradecrew_home: Path, monkeypatch: pytest.MonkeyPatch, url: str, said: str
) -> None:
    if "psycopg" in url:
        try:
            import psycopg  # noqa: F401
        except ImportError:
            pass
        else:
            pytest.skip("psycopg is installed here")
    monkeypatch.setenv("TRADECREW_DATABASE_URL", url)
    line = _one_error_line(["proposals", "list"])
    assert said in line and "hunter2" not in line
