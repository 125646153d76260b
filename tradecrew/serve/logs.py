"""Structured logs for the daemon: JSON lines when stderr is not a terminal, every secret the
desk knows replaced by ``***`` in every field, our own events and libraries' alike."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterable, Mapping, MutableMapping
from typing import Any

import structlog
from pydantic import BaseModel, SecretStr

from tradecrew.config import Settings
from tradecrew.text import redacted

# Secrets that live only in the environment, outside the settings object.
SECRET_ENV = (
    "TRADECREW_MCP_TOKEN",
    "TRADECREW_AUDIT_KEY",
    "OPENAI_API_KEY",
    "APCA_API_KEY_ID",
    "APCA_API_SECRET_KEY",
)
_SECRET_WORDS = ("KEY", "SECRET", "TOKEN", "PASSWORD")
FIELD_LIMIT = 2000


def known_secrets(settings: Settings, environ: Mapping[str, str] | None = None) -> list[str]:
    """Every secret value in the settings and the environment (short ones are not secrets
    worth masking: ``***`` over every ``1`` would ruin the logs and hide nothing)."""
    env = os.environ if environ is None else environ
    found = set(_secret_values(settings))
    for name, value in env.items():
        wanted = name in SECRET_ENV or (
            name.startswith("TRADECREW_") and any(w in name for w in _SECRET_WORDS)
        )
        if wanted and value:
            found.add(value)
    from sqlalchemy.engine import make_url

    if settings.database_url:
        try:
            password = make_url(settings.database_url).password
        except Exception:  # an unparsable URL: the ledger refuses it with its own message
            password = None
        if password:
            found.add(str(password))
    return sorted((s for s in found if len(s) >= 6), key=len, reverse=True)


def _secret_values(model: BaseModel) -> Iterable[str]:
    for name in type(model).model_fields:
        value = getattr(model, name, None)
        if isinstance(value, SecretStr):
            yield value.get_secret_value()
        elif isinstance(value, BaseModel):
            yield from _secret_values(value)


class Redactor:
    """A structlog processor: every string in the event, keys' values nested included."""

    def __init__(self, secrets: list[str]) -> None:
        self.secrets = secrets

    def clean(self, value: Any) -> Any:
        if isinstance(value, str):
            return redacted(value, self.secrets, FIELD_LIMIT)
        if isinstance(value, dict):
            return {k: self.clean(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.clean(v) for v in value]
        if value is None or isinstance(value, bool | int | float):
            return value
        return redacted(str(value), self.secrets, FIELD_LIMIT)

    def __call__(
        self, _logger: Any, _name: str, event: MutableMapping[str, Any]
    ) -> Mapping[str, Any]:
        return {k: self.clean(v) for k, v in event.items()}


def configure(settings: Settings, *, json_logs: bool | None = None) -> None:
    """Route structlog and the standard library's loggers to stderr through one redactor."""
    as_json = (not sys.stderr.isatty()) if json_logs is None else json_logs
    redact = Redactor(known_secrets(settings))
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if as_json
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*shared, structlog.stdlib.ExtraAdder()],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            redact,
            renderer,
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    # The scheduler reports every run at INFO; the daemon's own events say what matters.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)


def get_logger(name: str = "tradecrew.serve") -> Any:
    return structlog.get_logger(name)
