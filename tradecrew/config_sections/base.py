"""The base of every settings section: unknown keys and non-finite numbers are errors."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Section(BaseModel):
    # A NaN limit compares false with everything, so it would pass every check; no setting
    # has a use for NaN or infinity.
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
