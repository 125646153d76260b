"""Component toggles over MCP: ``list_components`` (read-only) and ``set_component``.

A toggle is not an order, but it changes what the desk proposes, so it follows the rule of
the server's other state changes: the client asks the user to confirm (elicitation), and a
call nobody confirmed changes something only where the user allowed bare calls (paper, with
``mcp.approve_without_confirmation``). Every change is a new configuration version in the
ledger, audited with its actor, channel and reason.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from mcp.server.fastmcp import Context, FastMCP
from mcp.types import ToolAnnotations
from pydantic import Field

from tradecrew.mcp_server.confirm import actor_of, channel_of, confirm_with_user, needs_a_person
from tradecrew.mcp_server.schemas import envelope, mark_untrusted, untrusted

if TYPE_CHECKING:
    from tradecrew.desk import Desk

READS = ToolAnnotations(
    readOnlyHint=True, destructiveHint=False, idempotentHint=True, openWorldHint=False
)
# Changes the desk's analysis configuration (a new version; undone by a rollback).
TOGGLES = ToolAnnotations(
    readOnlyHint=False, destructiveHint=False, idempotentHint=True, openWorldHint=False
)


def register(mcp: FastMCP, desk: Desk, *, read_only: bool = False) -> None:
    @mcp.tool(annotations=READS, title="List components")
    def list_components() -> dict[str, Any]:
        """The analysis components (fusion votes and analyzers), on or off, with their fusion
        weights and thresholds, and the configuration version they come from."""
        from tradecrew.research.configs import components_view

        view = components_view(desk.settings, desk.ledger).model_dump(mode="json")
        # Who changed it and why are a person's (or a model's) words.
        if view.get("reason") is not None:
            view["reason"] = untrusted(view["reason"])
        return envelope(desk.mode, view)

    if read_only:
        return

    @mcp.tool(annotations=TOGGLES, title="Set component")
    async def set_component(
        name: Annotated[str, Field(min_length=1, max_length=32, description="component name")],
        enabled: bool,
        reason: Annotated[str, Field(max_length=500)] = "",
        ctx: Context[Any, Any, Any] | None = None,
    ) -> dict[str, Any]:
        """Turn an analysis component on or off (a new configuration version, reversible with
        `tradecrew components rollback`). The client asks the user to confirm."""
        from tradecrew.research.configs import COMPONENTS, ConfigChange, components_view
        from tradecrew.research.configs import set_component as toggle

        key = name.strip().lower()
        if key not in COMPONENTS:
            raise ValueError(f"unknown component {name!r}; known: {', '.join(COMPONENTS)}")
        word = "enable" if enabled else "disable"
        view = components_view(desk.settings, desk.ledger)
        current = {c.name: c.enabled for c in view.components}
        if current[key] == enabled:
            # Said, never written: a bare call must not write even if a person changed it
            # since this look.
            change = ConfigChange(
                changed=False,
                version=view.version,
                previous=view.version,
                kind="toggle",
                message=f"{key} is already {word}d (version {view.version}); nothing changed",
            )
            return envelope(desk.mode, change)
        answer = await confirm_with_user(
            ctx, f"{word.capitalize()} the {key} component? It changes what the desk proposes."
        )
        if answer is False:
            return envelope(
                desk.mode, {"status": "declined", "changed": False, "message": "the user declined"}
            )
        channel = channel_of(answer)
        if channel not in desk.accepted_channels:
            return needs_a_person(
                desk.mode,
                f"turning the {key} component {'on' if enabled else 'off'}",
                f"tradecrew components {word} {key}",
                paper_opt_in=True,
            )
        change = toggle(
            desk.ledger,
            desk.settings,
            key,
            enabled,
            actor=actor_of(answer),
            channel=channel.value,
            reason=reason,
        )
        return mark_untrusted(envelope(desk.mode, change))
