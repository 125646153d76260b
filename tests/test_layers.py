"""The layers are kept by machine: import-linter's contracts in pyproject.toml, the settings
singleton out of the pure tools and the risk engine, every package visible to the check, and
no module over 400 lines."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "tradecrew"

# Scripts Alembic loads by path, never imported.
NOT_PACKAGES = {"ledger/migrations", "ledger/migrations/versions"}


def test_import_linter_contracts_are_kept() -> None:
    run = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from importlinter.cli import lint_imports_command; "
            "sys.exit(lint_imports_command())",
            "--no-cache",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "0 broken" in run.stdout


def test_every_source_folder_is_a_package_the_contracts_see() -> None:
    """A folder without __init__.py is a namespace package: import-linter skips it, and a
    layer made of it would pass whatever it imports."""
    missing = [
        str(folder.relative_to(ROOT))
        for folder in PACKAGE.rglob("*")
        if folder.is_dir()
        and folder.name != "__pycache__"
        and any(folder.glob("*.py"))
        and not (folder / "__init__.py").exists()
        and str(folder.relative_to(PACKAGE)) not in NOT_PACKAGES
    ]
    assert not missing, f"add an __init__.py to {missing}"


def _names_used(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    names |= {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            names |= {alias.name for alias in node.names}
    return names


def test_risk_and_tools_never_call_the_settings_singleton() -> None:
    """Even a call hidden inside a function, which an ignored import would let through."""
    offenders = {
        str(path.relative_to(PACKAGE))
        for folder in ("risk", "tools")
        for path in (PACKAGE / folder).rglob("*.py")
        if "get_settings" in _names_used(path)
    }
    assert not offenders, sorted(offenders)


def test_no_module_is_over_400_lines() -> None:
    """Small modules with one job: a module past 400 lines is split along its jobs."""
    long = {
        str(path.relative_to(ROOT)): n
        for path in PACKAGE.rglob("*.py")
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > 400
    }
    assert long == {}, f"split these modules along their jobs: {long}"
