"""One registry describing every desk tool: name, description, typed input and output.

CrewAI, LangChain and MCP adapters are built from this dict elsewhere; nothing here imports
a framework. A tool takes a pydantic input model and returns a pydantic output model.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

In = TypeVar("In", bound=BaseModel)
Out = TypeVar("Out", bound=BaseModel)


@dataclass(frozen=True)
class ToolSpec(Generic[In, Out]):
    """A deterministic tool as frameworks see it."""

    name: str
    description: str
    input_model: type[In]
    output_model: type[Out]
    func: Callable[[In], Out]
    read_only: bool = True

    def json_schema(self) -> dict[str, Any]:
        """JSON schema of the arguments, as function-calling LLMs and MCP expect."""
        return self.input_model.model_json_schema()

    def run(self, arguments: In | dict[str, Any] | None = None) -> Out:
        """Validate the arguments and call the tool."""
        if isinstance(arguments, self.input_model):
            params = arguments
        else:
            params = self.input_model.model_validate(arguments or {})
        return self.func(params)

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "parameters": self.json_schema(),
            "read_only": self.read_only,
        }


def tool_registry() -> dict[str, ToolSpec[Any, Any]]:
    """Every desk tool by name (built on first use so importing stays cheap)."""
    from tradecrew.tools.catalog import build_registry

    return build_registry()


def get_tool(name: str) -> ToolSpec[Any, Any]:
    registry = tool_registry()
    try:
        return registry[name]
    except KeyError:
        raise KeyError(f"unknown tool {name!r}; available: {', '.join(sorted(registry))}") from None
