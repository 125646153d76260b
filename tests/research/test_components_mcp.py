"""``list_components`` and ``set_component`` through a real MCP client over stdio: a toggle
changes what the desk proposes, so only a confirmed elicitation (or the paper opt-in for
bare calls) changes it, and the audit log says who and through which channel."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import ClientSession

from tests.mcp_server.mcp_client import (
    accept,
    decline,
    error_text,
    mcp_session,
    payload,
    server_env,
)
from tradecrew.config import Settings
from tradecrew.ledger import Ledger


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


async def call(s: ClientSession, tool: str, **args: Any) -> dict[str, Any]:
    return payload(await s.call_tool(tool, args))


def _enabled(view: dict[str, Any], name: str) -> bool:
    return next(c["enabled"] for c in view["components"] if c["name"] == name)


def _version_rows(home: Path) -> list[Any]:
    with Ledger.from_settings(Settings(home=home)) as ledger:
        return [r for r in ledger.audit_log(50) if r.entity == "config_version"]


def test_a_bare_call_changes_nothing_and_says_what_a_person_can_do(home: Path) -> None:
    async def main():
        async with mcp_session(home) as s:
            refused = await call(s, "set_component", name="regime", enabled=False)
            return refused, await call(s, "list_components")

    refused, view = anyio.run(main)
    assert refused["status"] == "person_required" and refused["changed"] is False
    assert "tradecrew components disable regime" in refused["next_step"]
    assert view["account_mode"] == "paper" and _enabled(view, "regime") is True
    assert _version_rows(home) == []


def test_a_declined_toggle_changes_nothing_and_a_confirmed_one_is_the_users(home: Path) -> None:
    answers = iter([decline, accept])

    async def elicit(context: Any, params: Any) -> Any:
        return await next(answers)(context, params)

    async def main():
        async with mcp_session(home, elicitation=elicit) as s:
            declined = await call(s, "set_component", name="regime", enabled=False)
            changed = await call(s, "set_component", name="regime", enabled=False, reason="ok")
            bad = await s.call_tool("set_component", {"name": "astrology", "enabled": False})
            return declined, changed, error_text(bad), await call(s, "list_components")

    declined, changed, bad, view = anyio.run(main)
    assert declined["status"] == "declined" and declined["changed"] is False
    assert changed["changed"] is True and changed["version"] == 1
    assert "unknown component" in bad
    assert view["version"] == 1 and _enabled(view, "regime") is False
    (row,) = _version_rows(home)
    assert (row.actor, row.after["channel"], row.after["reason"]) == ("mcp-user", "mcp_ok", "ok")


def test_bare_calls_toggle_on_paper_only_when_the_user_allowed_them(home: Path) -> None:
    env = server_env(home, TRADECREW_MCP__APPROVE_WITHOUT_CONFIRMATION="true")

    async def main():
        async with mcp_session(home, env=env) as s:
            return await call(s, "set_component", name="session", enabled=False)

    changed = anyio.run(main)
    assert changed["changed"] is True
    (row,) = _version_rows(home)
    assert (row.actor, row.after["channel"]) == ("mcp-client", "mcp_tool")


def test_a_read_only_server_lists_but_cannot_toggle(home: Path) -> None:
    from tradecrew.desk import Desk
    from tradecrew.mcp_server.server import build_server

    settings = Settings(home=home)
    settings.ensure_home()
    desk = Desk.from_settings(settings)
    try:
        names = {t.name for t in anyio.run(build_server(desk, read_only=True).list_tools)}
    finally:
        desk.close()
    assert "list_components" in names and "set_component" not in names


def test_a_bare_call_that_finds_nothing_to_change_never_writes(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A person turns regime back on just after the tool read "already off": the model's
    unconfirmed call must not then turn it off again as a version of its own."""
    from mcp.server.fastmcp import FastMCP

    from tests.desk.helpers import build_desk, make_settings
    from tradecrew.mcp_server import governance_tools
    from tradecrew.research import configs

    desk = build_desk(home, make_settings(home))
    configs.set_component(desk.ledger, desk.settings, "regime", False, actor="cli", channel="cli")
    real = configs.components_view
    calls = []

    def view_then_a_person_acts(settings: Any, ledger: Any) -> Any:
        seen = real(settings, ledger)
        calls.append(1)
        if len(calls) == 1:  # between the tool's look and anything it does
            configs.set_component(ledger, settings, "regime", True, actor="cli", channel="cli")
        return seen

    monkeypatch.setattr(configs, "components_view", view_then_a_person_acts)
    server = FastMCP("t")
    governance_tools.register(server, desk)
    anyio.run(server.call_tool, "set_component", {"name": "regime", "enabled": False})
    versions = desk.ledger.config_versions()
    assert [v.channel for v in versions] == ["cli", "cli"]  # nothing by the bare call
    states = {c.name: c.enabled for c in real(desk.settings, desk.ledger).components}
    assert states["regime"] is True
    desk.close()
