"""Real bars for the backtest tests, read through the desk's own csv provider."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.conftest import shared_file
from tradecrew.data.csv import CsvProvider


@pytest.fixture(scope="session")
def xau() -> pd.DataFrame:
    return CsvProvider(shared_file("XAUUSD_D1_mt5.csv")).bars("XAUUSD", "D1")


@pytest.fixture(scope="session")
def goog() -> pd.DataFrame:
    return CsvProvider(shared_file("GOOG_D1.csv")).bars("GOOG", "D1")


@pytest.fixture(scope="session")
def eurusd() -> pd.DataFrame:
    return CsvProvider(shared_file("EURUSD_H1.csv")).bars("EURUSD", "H1")
