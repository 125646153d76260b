from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import shared_file
from tradecrew.data import (
    BadDataError,
    DataError,
    DataNotAvailable,
    Provider,
    UnknownSymbolError,
    get_provider,
)
from tradecrew.data.csv import CsvProvider
from tradecrew.data.sample import SampleProvider


def test_sample_is_the_offline_provider() -> None:
    provider = get_provider("sample")
    assert isinstance(provider, SampleProvider) and isinstance(provider, Provider)


def test_csv_source_takes_a_path(tmp_path: Path) -> None:
    provider = get_provider(f"csv:{shared_file('GOOG_D1.csv')}")
    assert isinstance(provider, CsvProvider) and isinstance(provider, Provider)
    assert provider.bars("GOOG", "D1").attrs["source"] == "csv:GOOG_D1.csv"


@pytest.mark.parametrize("source", ["csv:", "csv:   ", "nope", "", "sample:extra", "mt5:x"])
def test_unknown_sources_name_the_valid_forms(source: str) -> None:
    with pytest.raises(DataError, match=r"'sample'.*'csv:PATH'"):
        get_provider(source)


@pytest.mark.parametrize(
    ("source", "name"),
    [("yfinance", "yfinance"), ("OpenBB", "openbb"), ("mt5", "mt5"), ("ccxt:kraken", "ccxt")],
)
def test_live_sources_are_providers_that_connect_only_when_asked(
    source: str, name: str, tradecrew_home: Path
) -> None:
    provider = get_provider(source)  # no extra, terminal or network needed to name one
    assert isinstance(provider, Provider) and provider.name == name


def test_alpaca_source_is_the_alpaca_provider(tradecrew_home: Path) -> None:
    from tradecrew.data.alpaca import AlpacaProvider

    provider = get_provider("Alpaca")
    assert isinstance(provider, AlpacaProvider) and isinstance(provider, Provider)


def test_csv_source_with_a_missing_path_is_a_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no such data file"):
        get_provider(f"csv:{tmp_path / 'missing.csv'}")


def test_error_family() -> None:
    for cls in (BadDataError, UnknownSymbolError, DataNotAvailable):
        assert issubclass(cls, DataError)
    assert issubclass(UnknownSymbolError, LookupError)
    err = BadDataError("a.csv", None, "the file is empty")
    assert str(err) == "bad data in a.csv: the file is empty"


def test_every_provider_result_is_canonical() -> None:
    for provider, symbol in (
        (get_provider("sample"), "SPX"),
        (get_provider(f"csv:{shared_file('GOOG_D1.csv')}"), "GOOG"),
    ):
        df = provider.bars(symbol, "D1")
        assert list(df.columns) == ["open", "high", "low", "close", "volume"]
        assert isinstance(df.index, pd.DatetimeIndex) and str(df.index.tz) == "UTC"
        assert (df.dtypes == "float64").all()
        assert df.index.dtype == "datetime64[ns, UTC]"
