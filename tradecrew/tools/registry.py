"""One registry describing every desk tool: name, description, typed input and output.

The entries themselves are built in catalog.py (``build_registry``); CrewAI, LangChain and MCP
adapters wrap them elsewhere; nothing here imports a framework. A tool takes a pydantic input
model and returns a pydantic output model.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, create_model

In = TypeVar("In", bound=BaseModel)
Out = TypeVar("Out", bound=BaseModel)

# Arguments that reach the file system or pick the data: the run fixes them (settings, CLI),
# a model never sees nor sets them (``csv:/any/path`` would read any file).
RUN_BOUND: frozenset[str] = frozenset({"source"})


@cache
def _model_facing(model: type[BaseModel], bound: frozenset[str]) -> type[BaseModel]:
    hidden = bound & model.model_fields.keys()
    if not hidden:
        return model
    fields: dict[str, Any] = {
        name: (info.annotation, info)
        for name, info in model.model_fields.items()
        if name not in hidden
    }
    return create_model(  # type: ignore[call-overload, no-any-return]
        model.__name__,
        __config__=ConfigDict(extra="forbid"),
        __doc__=model.__doc__,
        __module__=model.__module__,
        **fields,
    )


@dataclass(frozen=True)
class ToolSpec(Generic[In, Out]):
    """A deterministic tool as frameworks see it.

    ``input_model`` is what code calls it with; ``args_model`` is what a model may send:
    the same fields without the ``bound`` ones, which only the run sets.
    """

    name: str
    description: str
    input_model: type[In]
    output_model: type[Out]
    func: Callable[[In], Out]
    read_only: bool = True
    bound: frozenset[str] = RUN_BOUND

    @property
    def args_model(self) -> type[BaseModel]:
        """The arguments a model may send (``input_model`` without the run-bound fields)."""
        return _model_facing(self.input_model, self.bound)

    def json_schema(self) -> dict[str, Any]:
        """JSON schema of a model's arguments, as function-calling LLMs and MCP expect."""
        return self.args_model.model_json_schema()

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
