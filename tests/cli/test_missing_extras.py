"""A command whose optional extra is not installed: one line naming the extra, exit 2.

The package is hidden the way a missing install looks to Python (``sys.modules[name] =
None`` makes ``import name`` raise ModuleNotFoundError), and the real entry point runs.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

_USERS = {"mcp": "tradecrew.mcp_server"}


def _run(monkeypatch: pytest.MonkeyPatch, hidden: list[str], *args: str) -> int:
    from tradecrew.cli import main

    for name in hidden:
        # Submodules other tests imported would still be found by their full names, and so
        # would our modules that imported them: forget both for this test.
        for loaded in list(sys.modules):
            if loaded.startswith(f"{name}.") or loaded.startswith(_USERS.get(name, "\0")):
                monkeypatch.delitem(sys.modules, loaded)
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setattr(sys, "argv", ["tradecrew", *args])
    with pytest.raises(SystemExit) as exited:
        main()
    code = exited.value.code
    return code if isinstance(code, int) else 1


@pytest.mark.parametrize(
    ("hidden", "args", "extra"),
    [
        (["matplotlib"], ["report", "XAUUSD", "--out", "{tmp}/report.html"], "research"),
        (["chromadb"], ["memory", "search", "gold trending"], "crew"),
        (["mcp"], ["mcp"], "mcp"),
    ],
)
def test_a_missing_extra_is_one_line_naming_it(
    tradecrew_home: Path, tmp_path: Path, monkeypatch, capsys, hidden, args, extra
):
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    code = _run(monkeypatch, hidden, *args)
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.count("\n") == 1 and err.startswith("error:"), err
    assert f"tradecrew[{extra}]" in err and hidden[0] in err
    assert "Traceback" not in err


def test_metatrader_without_its_package_names_the_mt5_extra(
    tradecrew_home: Path, monkeypatch, capsys
):
    from tradecrew.config import get_settings

    monkeypatch.setenv("TRADECREW_BROKER__NAME", "mt5")
    get_settings.cache_clear()
    code = _run(monkeypatch, ["MetaTrader5", "mt5linux"], "account")
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.count("\n") == 1 and err.startswith("error:") and "tradecrew[mt5]" in err


def test_other_import_errors_are_not_dressed_up_as_extras():
    from tradecrew.cli.extras import missing_extra

    assert missing_extra(ModuleNotFoundError("x", name="tradecrew.nothere")) is None
    wrapped = RuntimeError("charts need matplotlib")
    wrapped.__cause__ = ModuleNotFoundError("no", name="matplotlib.pyplot")
    assert "tradecrew[research]" in (missing_extra(wrapped) or "")
