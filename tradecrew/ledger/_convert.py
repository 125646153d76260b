"""Rows to models and back. Enums go in as their values; models validate on the way out."""

from __future__ import annotations

from enum import Enum
from typing import Any, TypeVar

from pydantic import BaseModel

from tradecrew.ledger._orm import Base
from tradecrew.ledger.audit import json_safe

M = TypeVar("M", bound=BaseModel)
R = TypeVar("R", bound=Base)


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


def to_row(row_cls: type[R], model: BaseModel, **extra: Any) -> R:
    """A new row holding every field of ``model`` that the table has, plus ``extra``."""
    wanted = set(row_cls.__table__.columns.keys())
    values = {k: v for k, v in columns(model).items() if k in wanted}
    values.update(extra)
    return row_cls(**values)


def to_model(model_cls: type[M], row: Base, **extra: Any) -> M:
    """The model read back from ``row``: each model field taken from the column of its name."""
    values = {name: getattr(row, name) for name in model_cls.model_fields if hasattr(row, name)}
    values.update(extra)
    return model_cls.model_validate(values)


def image(model: BaseModel) -> dict[str, Any]:
    """The JSON image of a model kept in audit rows."""
    return model.model_dump(mode="json")
