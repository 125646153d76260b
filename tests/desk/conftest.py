"""The gate tests' desk: real ledger, a paper venue that records what it is sent, and a clock
the test moves."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.desk.helpers import Clock, build_desk, make_settings
from tests.desk.recording_broker import RecordingBroker
from tradecrew.desk import Desk


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def desk(tmp_path: Path, clock: Clock) -> Iterator[Desk]:
    desk = build_desk(tmp_path, make_settings(tmp_path), clock=clock, broker_cls=RecordingBroker)
    yield desk
    desk.close()
