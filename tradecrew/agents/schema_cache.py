"""JSON schemas of the crew's pydantic models, generated once per model.

CrewAI renders the JSON schema of every tool's arguments and of every task's output model
again for each task and each LLM call, and pydantic builds it from scratch every time. The
models do not change while the process runs, so the first schema is kept and each caller
gets its own deep copy (callers may edit what they get).
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Any, TypeVar

from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)

_SCHEMAS: dict[tuple[Any, ...], dict[str, Any]] = {}


class CachedJsonSchema:
    """Mixin for pydantic models: ``model_json_schema`` computed once per class and arguments.

    Put it before ``BaseModel`` in the bases. The answer equals pydantic's own.
    """

    @classmethod
    def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:
        key = (cls, args, tuple(sorted(kwargs.items())))
        try:
            schema = _SCHEMAS.get(key)
        except TypeError:  # an unhashable argument: nothing to look up, compute it
            return super().model_json_schema(*args, **kwargs)  # type: ignore[misc]
        if schema is None:
            # Two threads may both compute it the first time; they get equal answers.
            schema = super().model_json_schema(*args, **kwargs)  # type: ignore[misc]
            _SCHEMAS[key] = schema
        return copy.deepcopy(schema)


@cache
def cached_schema_model(model: type[M]) -> type[M]:
    """A subclass of ``model`` (same name, fields, validation) whose JSON schema is cached."""
    namespace = {
        "__module__": model.__module__,
        "__qualname__": model.__qualname__,
        "__doc__": model.__doc__,
    }
    return type(model.__name__, (CachedJsonSchema, model), namespace)
