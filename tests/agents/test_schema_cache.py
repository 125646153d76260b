"""JSON schemas generated once: the same answer as pydantic's, and callers cannot spoil it."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError
from pydantic.json_schema import GenerateJsonSchema

from tradecrew.agents.adapters import desk_registry
from tradecrew.agents.schema_cache import CachedJsonSchema, cached_schema_model
from tradecrew.agents.schemas import OUTPUT_MODELS, TradePlan
from tradecrew.config import Settings

# The input models are the same whatever the settings: a fresh Settings leaves the cached
# process settings alone at collection time.
TOOL_MODELS = {spec.name: spec.input_model for spec in desk_registry(Settings()).values()}
VARIANTS: list[dict[str, Any]] = [
    {},
    {"ref_template": "#/$defs/{model}"},
    {"mode": "serialization"},
    {"by_alias": False},
]


def _fresh(model: type[BaseModel], **kwargs: Any) -> dict[str, Any]:
    """What pydantic itself generates, bypassing any cache."""
    return BaseModel.model_json_schema.__func__(model, **kwargs)  # type: ignore[attr-defined]


@pytest.mark.parametrize("kwargs", VARIANTS)
@pytest.mark.parametrize("name", sorted(TOOL_MODELS))
def test_tool_argument_schema_is_pydantics(name: str, kwargs: dict[str, Any]) -> None:
    model = TOOL_MODELS[name]
    cached = cached_schema_model(model)
    assert cached.model_json_schema(**kwargs) == _fresh(model, **kwargs)
    assert cached.model_json_schema(**kwargs) == cached.model_json_schema(**kwargs)


@pytest.mark.parametrize("kwargs", VARIANTS)
@pytest.mark.parametrize("name", sorted(OUTPUT_MODELS))
def test_output_model_schema_is_pydantics(name: str, kwargs: dict[str, Any]) -> None:
    model = OUTPUT_MODELS[name]
    assert issubclass(model, CachedJsonSchema)
    assert model.model_json_schema(**kwargs) == _fresh(model, **kwargs)


def test_editing_a_returned_schema_does_not_change_the_next_one() -> None:
    first = TradePlan.model_json_schema()
    first["properties"].clear()
    first["title"] = "spoiled"
    again = TradePlan.model_json_schema()
    assert again == _fresh(TradePlan) and again["properties"]


def test_cached_model_is_built_once_and_keeps_the_original_name_and_fields() -> None:
    model = TOOL_MODELS["indicators"]
    cached = cached_schema_model(model)
    assert cached_schema_model(model) is cached
    assert issubclass(cached, model) and cached.__name__ == model.__name__
    assert cached.model_fields.keys() == model.model_fields.keys()


def test_each_schema_generator_gets_its_own_answer() -> None:
    class Titled(GenerateJsonSchema):
        def generate(self, schema: Any, mode: Any = "validation") -> dict[str, Any]:
            return {**super().generate(schema, mode), "x-desk": True}

    plain = TradePlan.model_json_schema()
    titled = TradePlan.model_json_schema(schema_generator=Titled)
    assert titled == _fresh(TradePlan, schema_generator=Titled) and titled["x-desk"] is True
    assert "x-desk" not in plain and TradePlan.model_json_schema() == plain


@settings(max_examples=60, deadline=None)
@given(
    payload=st.dictionaries(
        st.sampled_from(["symbol", "timeframe", "max_bars", "asof", "source", "other"]),
        st.one_of(st.none(), st.integers(-5, 5000), st.text(max_size=12), st.floats()),
        max_size=5,
    )
)
def test_cached_model_validates_exactly_like_the_original(payload: dict[str, Any]) -> None:
    model = TOOL_MODELS["indicators"]
    cached = cached_schema_model(model)
    try:
        want: Any = model.model_validate(payload).model_dump()
    except ValidationError as exc:
        want = [(e["loc"], e["type"]) for e in exc.errors()]
    try:
        got: Any = cached.model_validate(payload).model_dump()
    except ValidationError as exc:
        got = [(e["loc"], e["type"]) for e in exc.errors()]
    assert got == want
