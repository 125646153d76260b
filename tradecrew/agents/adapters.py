"""The tool registry as CrewAI and LangChain tools, every call recorded.

A tool answers with its output model's JSON, or with a short JSON error (never an exception)
so an agent can read what went wrong and try again. The frameworks are imported only when
these functions run, so ``import tradecrew`` stays light.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from tradecrew.agents.recorder import RunRecorder
from tradecrew.agents.schema_cache import cached_schema_model
from tradecrew.agents.schemas import ToolCallRecord
from tradecrew.tools.catalog import build_registry
from tradecrew.tools.registry import ToolSpec

if TYPE_CHECKING:
    from tradecrew.config import Settings

_ERROR_CHARS = 300


class UnknownToolError(KeyError):
    """A crew file names a tool the registry does not have."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown tool"


@dataclass
class ToolContext:
    """Where a tool call belongs (symbol, agent, recorder) and the run's argument policy.

    ``defaults`` fill arguments the model left out; ``pinned`` override what it sent, so a
    run at ``asof`` never sees a bar that closed later. ``answers`` holds the outputs already
    computed in this symbol's run, by call (see ``call_key``): the tools are pure, so the same
    call is answered again without running it again.
    """

    symbol: str = ""
    agent: str | None = None
    recorder: RunRecorder | None = None
    defaults: dict[str, Any] = field(default_factory=dict)
    pinned: dict[str, Any] = field(default_factory=dict)
    answers: dict[str, str] = field(default_factory=dict)


def call_key(spec: ToolSpec[Any, Any], args: Mapping[str, Any]) -> str | None:
    """One text per distinct call of ``spec`` (its validated arguments), or None when the
    arguments do not validate (that call reports its own error)."""
    try:
        query = spec.input_model.model_validate(dict(args))
    except ValidationError:
        return None
    return f"{spec.name}:{query.model_dump_json()}"


def _short_error(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        text = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'arguments'}: {err['msg']}"
            for err in exc.errors()
        )
        text = f"invalid arguments: {text}"
    else:
        text = f"{type(exc).__name__}: {exc}"
    return text[:_ERROR_CHARS]


def _arguments(
    spec: ToolSpec[Any, Any], raw: Mapping[str, Any], ctx: ToolContext
) -> dict[str, Any]:
    fields = spec.input_model.model_fields
    sent = sorted(k for k, v in raw.items() if k in spec.bound and v is not None)
    if sent:
        # The run fixed these (the data source): a model naming a path reads nothing.
        raise ValueError(f"{', '.join(sent)}: set by the run, not a tool argument")
    args = {k: v for k, v in raw.items() if v is not None}
    for key, value in ctx.defaults.items():
        if key in fields and key not in args and value is not None:
            args[key] = value
    for key, value in ctx.pinned.items():
        if key in fields and value is not None:
            args[key] = value
    return args


def invoke_tool(
    spec: ToolSpec[Any, Any], raw: Mapping[str, Any] | None, ctx: ToolContext | None = None
) -> str:
    """Run ``spec`` on the model's arguments; the output model's JSON or ``{"error": ...}``."""
    ctx = ctx or ToolContext()
    start = time.perf_counter()
    args: dict[str, Any] = dict(raw or {})
    try:
        args = _arguments(spec, args, ctx)
        key = call_key(spec, args)
        known = ctx.answers.get(key) if key is not None else None
        output = known if known is not None else spec.run(args).model_dump_json()
        if key is not None:
            ctx.answers[key] = output
        ok = True
    except Exception as exc:  # a tool failure is an answer the agent can read
        output = json.dumps({"error": _short_error(exc), "tool": spec.name})
        ok = False
    if ctx.recorder is not None:
        ctx.recorder.add_tool_call(
            ToolCallRecord(
                symbol=ctx.symbol,
                agent=ctx.agent,
                tool=spec.name,
                arguments=json.loads(json.dumps(args, default=str)),
                output=output,
                ok=ok,
                latency_ms=round((time.perf_counter() - start) * 1000, 3),
            )
        )
    return output


def desk_registry(settings: Settings | None = None) -> dict[str, ToolSpec[Any, Any]]:
    """The registry run with ``settings`` (the process settings when None): their data
    source, components and fusion, and the economic calendar they select."""
    from tradecrew.config import get_settings
    from tradecrew.data.calendars import calendar_loader

    settings = settings or get_settings()
    return build_registry(settings, calendar=calendar_loader(settings))


def select_specs(
    names: Iterable[str] | None = None, settings: Settings | None = None
) -> list[ToolSpec[Any, Any]]:
    """Registry entries by name (all when ``names`` is None), run with ``settings`` (the
    process settings when None); an unknown name is an error."""
    registry = desk_registry(settings)
    if names is None:
        return list(registry.values())
    specs = []
    for name in names:
        if name not in registry:
            raise UnknownToolError(
                f"unknown tool {name!r}; available: {', '.join(sorted(registry))}"
            )
        specs.append(registry[name])
    return specs


@lru_cache(maxsize=1)
def _crewai_tool_class() -> type[Any]:
    from tradecrew.agents.llm import prepare_crewai_environment

    prepare_crewai_environment()
    from crewai.tools import BaseTool
    from pydantic import PrivateAttr

    class DeskTool(BaseTool):  # type: ignore[misc]
        """One registry entry as a CrewAI tool."""

        _spec: Any = PrivateAttr(default=None)
        _ctx: Any = PrivateAttr(default=None)

        # CrewAI validates arguments before ``_run`` and raises on a mistake; the desk's
        # tools validate themselves so that a mistake is recorded and answered as JSON.
        def run(self, *args: Any, **kwargs: Any) -> str:
            return self._run(**kwargs)

        async def arun(self, *args: Any, **kwargs: Any) -> str:
            import asyncio

            return await asyncio.to_thread(self._run, **kwargs)

        def _run(self, **kwargs: Any) -> str:
            return invoke_tool(self._spec, kwargs, self._ctx)

    return DeskTool


def crewai_tools(
    names: Iterable[str] | None = None,
    *,
    context: ToolContext | None = None,
    settings: Settings | None = None,
) -> list[Any]:
    """CrewAI ``BaseTool`` instances for the named registry tools (all when None), run with
    ``settings`` (the process settings when None)."""
    cls = _crewai_tool_class()
    tools = []
    for spec in select_specs(names, settings):
        # The arguments' JSON schema is rendered for every task and LLM call: cache it.
        args = cached_schema_model(spec.args_model)
        tool = cls(name=spec.name, description=spec.description, args_schema=args)
        tool._spec = spec
        tool._ctx = context or ToolContext()
        tools.append(tool)
    return tools


def langchain_tools(
    names: Iterable[str] | None = None,
    *,
    context: ToolContext | None = None,
    settings: Settings | None = None,
) -> list[Any]:
    """LangChain ``StructuredTool``s for the named registry tools, for LangChain/LangGraph,
    run with ``settings`` (the process settings when None)."""
    from langchain_core.tools import StructuredTool

    ctx = context or ToolContext()
    tools = []
    for spec in select_specs(names, settings):

        def call(_spec: ToolSpec[Any, Any] = spec, **kwargs: Any) -> str:
            return invoke_tool(_spec, _plain(kwargs), ctx)

        def on_invalid(exc: Exception, _spec: ToolSpec[Any, Any] = spec) -> str:
            return json.dumps({"error": _short_error(exc), "tool": _spec.name})

        tools.append(
            StructuredTool.from_function(
                func=call,
                name=spec.name,
                description=spec.description,
                args_schema=spec.args_model,
                handle_validation_error=on_invalid,
            )
        )
    return tools


def _plain(kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """LangChain may hand over nested models; the registry wants plain values."""
    return {k: v.model_dump() if isinstance(v, BaseModel) else v for k, v in kwargs.items()}
