from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.conftest import shared_file
from tradecrew.data import BadDataError, DataError, DataNotAvailable, UnknownSymbolError
from tradecrew.data.csv import CsvProvider, symbol_from_filename
from tradecrew.models import Timeframe

SHARED = [
    ("XAUUSD_D1_mt5.csv", "XAUUSD", Timeframe.D1, 5391),
    ("EURUSD_H1.csv", "EURUSD", Timeframe.H1, 5000),
    ("GOOG_D1.csv", "GOOG", Timeframe.D1, 2148),
    ("BTCUSD_MN1.csv", "BTCUSD", Timeframe.MN1, 156),
]


def _same_values(ours: pd.DataFrame, theirs: pd.DataFrame) -> None:
    assert np.array_equal(ours.index.as_unit("ns").asi8, theirs.index.as_unit("ns").asi8)
    assert np.array_equal(ours.to_numpy(), theirs.to_numpy())


@pytest.mark.parametrize(("name", "symbol", "tf", "rows"), SHARED)
def test_shared_files_load_with_symbol_timeframe_and_rows(
    name: str, symbol: str, tf: Timeframe, rows: int
) -> None:
    provider = CsvProvider(shared_file(name))
    assert provider.symbols == [symbol]
    assert provider.native_timeframes(symbol) == [tf]
    df = provider.bars(symbol, tf)
    assert len(df) == rows
    assert list(df.columns) == ["open", "high", "low", "close", "volume"]
    assert str(df.index.tz) == "UTC" and df.index.name == "timestamp"
    assert df.index.is_monotonic_increasing and not df.index.has_duplicates
    assert df.attrs["symbol"] == symbol and df.attrs["synthetic"] is False


def test_metatrader_export_matches_an_independent_parse(xauusd_d1: pd.DataFrame) -> None:
    df = CsvProvider(shared_file("XAUUSD_D1_mt5.csv")).bars("XAUUSD", "D1")
    _same_values(df, xauusd_d1)
    assert df.index[0] == pd.Timestamp("2004-06-11", tz="UTC")


def test_unnamed_first_column_files_match_an_independent_parse(
    eurusd_h1: pd.DataFrame, goog_d1: pd.DataFrame
) -> None:
    _same_values(CsvProvider(shared_file("EURUSD_H1.csv")).bars("EURUSD", "H1"), eurusd_h1)
    _same_values(CsvProvider(shared_file("GOOG_D1.csv")).bars("GOOG", "D1"), goog_d1)


def test_coarser_timeframe_is_resampled_and_finer_is_refused(xauusd_d1: pd.DataFrame) -> None:
    provider = CsvProvider(shared_file("XAUUSD_D1_mt5.csv"))
    weekly = provider.bars("gold", "W1")
    assert weekly["volume"].sum() == xauusd_d1["volume"].sum()
    assert weekly["high"].max() == xauusd_d1["high"].max()
    with pytest.raises(DataError, match=r"XAUUSD H1 bars cannot be made from coarser data"):
        provider.bars("XAUUSD", "H1")


def test_start_end_filter_is_inclusive_and_empty_range_is_explained() -> None:
    provider = CsvProvider(shared_file("GOOG_D1.csv"))
    df = provider.bars("GOOG", "D1", start="2010-01-04", end="2010-01-08")
    assert len(df) == 5 and df.index[0] == pd.Timestamp("2010-01-04", tz="UTC")
    with pytest.raises(DataError, match="the data covers 2004-08-19"):
        provider.bars("GOOG", "D1", start="2020-01-01")
    with pytest.raises(DataError, match="after end"):
        provider.bars("GOOG", "D1", start="2011-01-01", end="2010-01-01")
    with pytest.raises(DataError, match="cannot read start"):
        provider.bars("GOOG", "D1", start="soon")


def test_returned_frames_are_copies() -> None:
    provider = CsvProvider(shared_file("GOOG_D1.csv"))
    df = provider.bars("GOOG", "D1")
    df.iloc[0, 0] = -5.0
    df.attrs["symbol"] = "XXX"
    again = provider.bars("GOOG", "D1")
    assert again.iloc[0, 0] != -5.0 and again.attrs["symbol"] == "GOOG"


def test_quote_brackets_the_last_close_with_the_typical_spread() -> None:
    provider = CsvProvider(shared_file("XAUUSD_D1_mt5.csv"))
    q = provider.quote("XAUUSD")
    assert q.last == 3368.94 and q.bid < q.last < q.ask
    assert (q.ask - q.bid) / q.last == pytest.approx(0.0001, rel=0.05)  # XAUUSD typical spread
    assert q.timestamp == pd.Timestamp("2025-06-06", tz="UTC") and q.synthetic is False


def test_unknown_symbol_lists_what_the_file_holds() -> None:
    provider = CsvProvider(shared_file("GOOG_D1.csv"))
    with pytest.raises(UnknownSymbolError, match="known symbols: GOOG"):
        provider.bars("AAPL", "D1")


def test_csv_has_no_order_book_or_tape() -> None:
    provider = CsvProvider(shared_file("GOOG_D1.csv"))
    with pytest.raises(DataNotAvailable, match="order book not available from the csv source"):
        provider.order_book("GOOG")
    with pytest.raises(DataNotAvailable, match="not available from the csv source"):
        provider.trades("GOOG")


def test_symbol_comes_from_the_file_name() -> None:
    assert symbol_from_filename("XAUUSD_D1_mt5.csv") == "XAUUSD"
    assert symbol_from_filename("/x/EURUSD.parquet") == "EURUSD"
    assert symbol_from_filename("gold-daily.csv") == "XAUUSD"


# ----------------------------------------------------------------------------- formats


MT5_TAB = (
    "<DATE>\t<TIME>\t<OPEN>\t<HIGH>\t<LOW>\t<CLOSE>\t<TICKVOL>\t<VOL>\t<SPREAD>\n"
    "2024.01.02\t00:00:00\t2062.95\t2064.10\t2061.50\t2063.40\t812\t0\t12\n"
    "2024.01.02\t01:00:00\t2063.40\t2066.00\t2062.80\t2065.70\t955\t0\t11\n"
    "2024.01.02\t02:00:00\t2065.70\t2065.90\t2060.10\t2061.00\t1204\t0\t14\n"
)


def test_mt5_tab_export_with_separate_date_and_time_uses_tick_volume(tmp_path: Path) -> None:
    path = tmp_path / "XAUUSD_H1_202401020000_202401020200.csv"
    path.write_text(MT5_TAB)
    df = CsvProvider(path).bars("XAUUSD", "H1")
    assert list(df.index.hour) == [0, 1, 2]
    assert df["volume"].tolist() == [812.0, 955.0, 1204.0]  # VOL is all zero
    assert df["close"].iloc[-1] == 2061.0


def test_mt5_utf16_export_is_read(tmp_path: Path) -> None:
    path = tmp_path / "XAUUSD_H1.csv"
    path.write_bytes(MT5_TAB.encode("utf-16"))
    assert len(CsvProvider(path).bars("XAUUSD", "H1")) == 3


def test_headerless_mt4_history_file(tmp_path: Path) -> None:
    path = tmp_path / "EURUSD60.csv"
    path.write_text(
        "2024.01.02,00:00,1.10350,1.10400,1.10300,1.10380,512\n"
        "2024.01.02,01:00,1.10380,1.10420,1.10310,1.10330,488\n"
    )
    df = CsvProvider(path, symbol="EURUSD").bars("EURUSD", "H1")
    assert df.index[1] == pd.Timestamp("2024-01-02 01:00", tz="UTC")
    assert df["open"].tolist() == [1.1035, 1.1038]


def test_any_case_columns_and_a_semicolon_separator(tmp_path: Path) -> None:
    path = tmp_path / "spy.csv"
    path.write_text(
        "DATE;OPEN;high;Low;CLOSE;VoLuMe\n2024-01-02;1;2;0.5;1.5;10\n2024-01-03;1.5;2;1;1.8;11\n"
    )
    df = CsvProvider(path).bars("SPY", "D1")
    assert df["close"].tolist() == [1.5, 1.8]


def test_naive_times_in_a_named_zone_are_converted_to_utc(tmp_path: Path) -> None:
    path = tmp_path / "EURUSD_H1.csv"
    path.write_text(
        "time,open,high,low,close,volume\n2024-01-02 10:00,1,1,1,1,1\n2024-01-02 11:00,1,1,1,1,1\n"
    )
    df = CsvProvider(path, tz="Europe/Athens").bars("EURUSD", "H1")  # EET, UTC+2 in winter
    assert df.index[0] == pd.Timestamp("2024-01-02 08:00", tz="UTC")


def test_offsets_in_the_text_are_honoured(tmp_path: Path) -> None:
    path = tmp_path / "EURUSD_H1.csv"
    path.write_text(
        "timestamp,open,high,low,close,volume\n"
        "2024-01-02T10:00:00+02:00,1,1,1,1,1\n2024-01-02T09:00:00+00:00,1,1,1,1,1\n"
    )
    df = CsvProvider(path, timeframe="H1").bars("EURUSD", "H1")
    assert list(df.index) == [
        pd.Timestamp("2024-01-02 08:00", tz="UTC"),
        pd.Timestamp("2024-01-02 09:00", tz="UTC"),
    ]


def test_missing_volume_becomes_zero_with_a_note(tmp_path: Path) -> None:
    path = tmp_path / "VIX.csv"
    path.write_text("Date,Open,High,Low,Close\n2024-01-02,1,2,0.5,1.5\n2024-01-03,1,2,0.5,1.5\n")
    df = CsvProvider(path).bars("VIX", "D1")
    assert (df["volume"] == 0).all() and "no volume" in df.attrs["note"]


def test_parquet_with_a_datetime_index(tmp_path: Path, goog_d1: pd.DataFrame) -> None:
    path = tmp_path / "GOOG_D1.parquet"
    goog_d1.iloc[:50].to_parquet(path)
    _same_values(CsvProvider(path).bars("GOOG", "D1"), goog_d1.iloc[:50])


def test_epoch_seconds_timestamps(tmp_path: Path) -> None:
    path = tmp_path / "BTCUSD.csv"
    path.write_text("time,open,high,low,close,volume\n1704153600,1,1,1,1,1\n1704157200,1,1,1,1,1\n")
    df = CsvProvider(path).bars("BTCUSD", "H1")
    assert df.index[0] == pd.Timestamp("2024-01-02 00:00", tz="UTC")


def test_a_folder_serves_each_symbol_from_its_best_file(tmp_path: Path) -> None:
    for name in ("EURUSD_H1.csv", "GOOG_D1.csv"):
        (tmp_path / name).write_bytes(shared_file(name).read_bytes())
    (tmp_path / "notes.md").write_text("not data")
    provider = CsvProvider(tmp_path)
    assert provider.symbols == ["EURUSD", "GOOG"]
    assert len(provider.bars("EURUSD", "H4")) > 1000
    assert provider.bars("GOOG", "D1").attrs["symbol"] == "GOOG"


def test_a_changed_file_is_read_again(tmp_path: Path) -> None:
    path = tmp_path / "SPY.csv"
    path.write_text("date,open,high,low,close,volume\n2024-01-02,1,2,0.5,1.5,10\n")
    provider = CsvProvider(path, timeframe="D1")
    assert provider.bars("SPY", "D1")["close"].iat[-1] == 1.5
    path.write_text(
        "date,open,high,low,close,volume\n2024-01-02,1,2,0.5,1.5,10\n2024-01-03,1,2,0.5,1.7,10\n"
    )
    assert provider.bars("SPY", "D1")["close"].iat[-1] == 1.7


# ----------------------------------------------------------------------------- bad files

HEADER = "Date;Open;High;Low;Close;Volume\n"
ROWS = [
    "2024.01.02 00:00;10;11;9;10.5;100",
    "2024.01.03 00:00;10.5;12;10;11;120",
    "2024.01.04 00:00;11;11.5;10.2;10.4;90",
    "2024.01.05 00:00;10.4;10.9;10.1;10.8;95",
]


def _write(tmp_path: Path, lines: list[str], name: str = "XAUUSD_D1.csv") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + "\n".join(lines) + "\n")
    return path


def _bad(path: Path) -> BadDataError:
    with pytest.raises(BadDataError) as err:
        CsvProvider(path).bars("XAUUSD", "D1")
    return err.value


@pytest.mark.parametrize(
    ("index", "line", "problem"),
    [
        (2, "2024.01.04 00:00;11;11.5;10.2;;90", "close is missing (NaN)"),
        (1, "2024.01.03 00:00;10.5;9;10;9.5;120", "high 9.0 is below low 10.0"),
        (3, "2024.01.05 00:00;10.4;10.9;10.1;11.8;95", "close 11.8 is outside"),
        (3, "2024.01.04 00:00;10.4;10.9;10.1;10.8;95", "duplicate timestamp 2024-01-04"),
        (3, "2024.01.01 00:00;10.4;10.9;10.1;10.8;95", "timestamps are not sorted"),
        (2, "2024.01.04 00:00;11;11.5;10.2;10.4;-3", "volume -3.0 is negative"),
        (2, "yesterday;11;11.5;10.2;10.4;90", "cannot read the timestamp"),
        (1, "2024.01.03 00:00;abc;12;10;11;120", "open is not a number"),
    ],
)
def test_bad_rows_are_named_by_file_line_and_problem(
    tmp_path: Path, index: int, line: str, problem: str
) -> None:
    rows = list(ROWS)
    rows[index] = line
    err = _bad(_write(tmp_path, rows))
    assert err.row == index + 2  # header is line 1
    assert "XAUUSD_D1.csv" in str(err) and f"row {index + 2}" in str(err)
    assert problem in str(err)


def test_blank_lines_do_not_shift_the_reported_line(tmp_path: Path) -> None:
    rows = [ROWS[0], "", ROWS[1], "2024.01.04 00:00;11;9;10.2;10.4;90"]
    assert _bad(_write(tmp_path, rows)).row == 5


def test_empty_file_and_header_only_file(tmp_path: Path) -> None:
    empty = tmp_path / "XAUUSD_D1.csv"
    empty.write_text("")
    assert "empty" in str(_bad(empty))
    header_only = tmp_path / "GOLD.csv"
    header_only.write_text(HEADER)
    with pytest.raises(BadDataError, match=r"GOLD\.csv.*no bars"):
        CsvProvider(header_only).bars("XAUUSD", "D1")


def test_missing_columns_are_named(tmp_path: Path) -> None:
    path = tmp_path / "XAUUSD_D1.csv"
    path.write_text("Date;Open;High;Close\n2024.01.02 00:00;10;11;10.5\n")
    err = _bad(path)
    assert err.row == 1 and "missing column(s): low" in str(err)


def test_ragged_row_is_reported_with_its_line(tmp_path: Path) -> None:
    rows = [*ROWS[:2], "2024.01.04 00:00;11;11.5;10.2;10.4;90;7;8"]
    err = _bad(_write(tmp_path, rows))
    assert err.row == 4 and "columns" in str(err)


def test_binary_garbage_is_not_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "XAUUSD.csv"
    path.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(DataError):
        CsvProvider(path).bars("XAUUSD", "D1")


def test_unknown_file_folder_and_type_are_data_errors(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no such data file"):
        CsvProvider(tmp_path / "nope.csv")
    with pytest.raises(DataError, match=r"holds no \.csv"):
        CsvProvider(tmp_path)
    odd = tmp_path / "XAUUSD.xlsx"
    odd.write_text("x")
    with pytest.raises(DataError, match="unsupported file type"):
        CsvProvider(odd).bars("XAUUSD", "D1")
    broken = tmp_path / "XAUUSD.parquet"
    broken.write_text("not parquet")
    with pytest.raises(BadDataError, match="not a readable Parquet"):
        CsvProvider(broken).bars("XAUUSD", "D1")


def test_single_bar_without_timeframe_in_the_name_asks_for_one(tmp_path: Path) -> None:
    path = tmp_path / "XAUUSD.csv"
    path.write_text(HEADER + ROWS[0] + "\n")
    with pytest.raises(DataError, match="pass timeframe="):
        CsvProvider(path).bars("XAUUSD", "D1")
    assert len(CsvProvider(path, timeframe="D1").bars("XAUUSD", "D1")) == 1
    named = tmp_path / "XAUUSD_D1.csv"
    named.write_text(HEADER + ROWS[0] + "\n")
    assert len(CsvProvider(named).bars("XAUUSD", "D1")) == 1


SECRET = "sk-live-4f9a2b7c8d1e0f3a6b5c"


@pytest.mark.parametrize(
    "text",
    [
        f"{SECRET}\n",  # one line: the header is the secret
        f"{SECRET}\n1;2;3\n",
        f"Date;Open;High;Low;Close\n2024.01.02 00:00;{SECRET};11;9;10\n",
        f"Date;Open;High;Low;Close\n{SECRET};10;11;9;10\n",
        f"{SECRET};{SECRET};{SECRET}\n",
        f"Date;Open;High;Low;Close\n2024.01.02 00:00;10;11;9;10\n{SECRET};1;2;3;4;5;6;7;8\n",
    ],
)
def test_errors_never_quote_the_files_contents(tmp_path: Path, text: str) -> None:
    path = tmp_path / "XAUUSD.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataError) as err:
        CsvProvider(path).bars("XAUUSD", "D1")
    message = str(err.value)
    assert "XAUUSD.csv" in message  # the file's name (and line) are fine
    for part in (SECRET, SECRET[:8], SECRET[-8:]):
        assert part not in message
