"""Rows to models and back. Enums go in as their values; models validate on the way out."""

from __future__ import annotations

from enum import Enum
from typing import Any, TypeVar

from pydantic import BaseModel

from tradecrew.ledger._orm import Base
from tradecrew.ledger.audit import json_safe

M = TypeVar("M", bound=BaseModel)


def columns(model: BaseModel, *, drop: tuple[str, ...] = ()) -> dict[str, Any]:
    """The model's fields as column values: enums as plain strings, JSON made finite."""
    out: dict[str, Any] = {}
    for name, value in model.model_dump().items():
        if name in drop:
            continue
        if isinstance(value, Enum):
            value = value.value
        elif isinstance(value, dict | list):
            value = json_safe(value)
        out[name] = value
    return out


def row_values(row_cls: type[Base], model: BaseModel, **extra: Any) -> dict[str, Any]:
    """Column values for a new row of ``row_cls``: every field of ``model`` the table has,
    plus ``extra``."""
    wanted = row_cls.__table__.columns.keys()
    values = {k: v for k, v in columns(model).items() if k in wanted}
    values.update(extra)
    return values


def to_model(model_cls: type[M], row: Any, **extra: Any) -> M:
    """The model read back from ``row`` (a result row or an ORM object): each model field
    taken from the column of its name."""
    values = {name: getattr(row, name) for name in model_cls.model_fields if hasattr(row, name)}
    values.update(extra)
    return model_cls.model_validate(values)


def image(model: BaseModel) -> dict[str, Any]:
    """The JSON image of a model kept in audit rows."""
    return model.model_dump(mode="json")
