"""What every model shares: the desk's clock, its ids and the strict pydantic base."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict


def utcnow() -> datetime:
    """The desk's clock: always timezone-aware UTC."""
    return datetime.now(UTC)


def new_id(prefix: str) -> str:
    """Short, sortable-enough, collision-safe ids such as ``prp_3f2a9c...``."""
    return f"{prefix}_{uuid.uuid4().hex[:16]}"


class Model(BaseModel):
    """Base for boundary models: strict field names, enums serialised by value."""

    model_config = ConfigDict(extra="forbid", use_enum_values=False, frozen=False)
