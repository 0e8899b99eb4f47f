"""The working-day calendar: hand-worked time limits around real holidays."""

from __future__ import annotations

import datetime as dt
import time
import warnings

import chinese_calendar
import numpy as np
import pytest

from data_access import workcal
from data_access.workcal import add_working_days, add_working_days_array, is_workday

D = dt.date
T = dt.datetime


def test_the_package_knows_the_2025_holidays():
    # Spring Festival 2025: 28 Jan – 4 Feb off; Sunday 26 Jan and Saturday 8 Feb worked
    for day in range(28, 32):
        assert chinese_calendar.is_holiday(D(2025, 1, day))
    for day in range(1, 5):
        assert chinese_calendar.is_holiday(D(2025, 2, day))
    assert chinese_calendar.is_workday(D(2025, 1, 26)) and D(2025, 1, 26).weekday() == 6
    assert chinese_calendar.is_workday(D(2025, 2, 8)) and D(2025, 2, 8).weekday() == 5
    # National Day 2025: 1–8 Oct off; Sunday 28 Sep and Saturday 11 Oct worked
    for day in range(1, 9):
        assert chinese_calendar.is_holiday(D(2025, 10, day))
    assert chinese_calendar.is_workday(D(2025, 9, 28)) and D(2025, 9, 28).weekday() == 6
    assert chinese_calendar.is_workday(D(2025, 10, 11)) and D(2025, 10, 11).weekday() == 5


def test_is_workday():
    assert is_workday(D(2025, 1, 27))
    assert not is_workday(D(2025, 1, 29))  # 初一
    assert is_workday(D(2025, 1, 26))  # 调休 Sunday
    assert not is_workday(D(2025, 3, 15))  # plain Saturday
    assert is_workday(T(2025, 10, 11, 9, 0))  # a datetime works too


@pytest.mark.parametrize("start, n, expected", [
    # Spring Festival 2025
    (T(2025, 1, 24, 10, 30), 1, T(2025, 1, 26, 10, 30)),  # Fri -> the make-up Sunday
    (T(2025, 1, 26, 9, 0), 1, T(2025, 1, 27, 9, 0)),  # make-up Sunday -> Mon
    (T(2025, 1, 27, 10, 30), 1, T(2025, 2, 5, 10, 30)),  # over the whole holiday
    (T(2025, 1, 27, 10, 30), 5, T(2025, 2, 10, 10, 30)),  # 5, 6, 7, Sat 8, Mon 10 Feb
    (T(2025, 1, 30, 15, 0), 0, T(2025, 2, 5, 0, 0)),  # on a holiday: 00:00 of the next workday
    (T(2025, 1, 30, 15, 0), 1, T(2025, 2, 6, 0, 0)),
    # National Day 2025
    (T(2025, 9, 26, 16, 0), 1, T(2025, 9, 28, 16, 0)),  # Fri -> the make-up Sunday
    (T(2025, 9, 30, 14, 0), 1, T(2025, 10, 9, 14, 0)),
    (T(2025, 9, 30, 14, 0), 3, T(2025, 10, 11, 14, 0)),  # 9, 10, Sat 11 Oct
    (T(2025, 9, 30, 14, 0), 5, T(2025, 10, 14, 14, 0)),  # 9, 10, 11, 13, 14
    (T(2025, 9, 27, 20, 0), 1, T(2025, 9, 29, 0, 0)),  # off Saturday: clock starts Sun 28 00:00
    (T(2025, 10, 3, 9, 0), 5, T(2025, 10, 15, 0, 0)),  # from 9 Oct 00:00: 10, 11, 13, 14, 15
    # a plain weekend (March 2025 has no holidays)
    (T(2025, 3, 14, 17, 0), 1, T(2025, 3, 17, 17, 0)),
    (T(2025, 3, 14, 17, 0), 5, T(2025, 3, 21, 17, 0)),
    (T(2025, 3, 15, 10, 0), 1, T(2025, 3, 18, 0, 0)),  # Sat: from Mon 00:00, one day on
    (T(2025, 3, 16, 23, 59), 0, T(2025, 3, 17, 0, 0)),
    (T(2025, 3, 17, 8, 15, 30), 0, T(2025, 3, 17, 8, 15, 30)),
])
def test_add_working_days(start, n, expected):
    assert add_working_days(start, n) == expected
    got = add_working_days_array(np.array([start], dtype="datetime64[s]"), n)[0]
    assert got == np.datetime64(expected, "s")


def test_negative_n_is_refused():
    with pytest.raises(ValueError):
        add_working_days(T(2025, 3, 14), -1)
    with pytest.raises(ValueError):
        add_working_days_array(np.array(["2025-03-14T00:00"], dtype="datetime64[s]"), -1)


def test_array_equals_scalar_on_random_inputs():
    rng = np.random.default_rng(42)
    base = np.datetime64("2024-01-01T00:00:00")
    starts = base + rng.integers(0, 2 * 365 * 86400, 3000).astype("timedelta64[s]")
    ns = rng.choice([0, 1, 2, 3, 5, 10, 15], size=3000)
    got = add_working_days_array(starts, ns)
    for s, n, g in zip(starts.tolist(), ns.tolist(), got.tolist()):
        assert add_working_days(s, n) == g, (s, n)


def test_array_keeps_nat_and_accepts_other_units():
    starts = np.array(["2025-01-27T10:30", "NaT"], dtype="datetime64[m]")
    got = add_working_days_array(starts, 1)
    assert got.dtype == np.dtype("datetime64[s]")
    assert got[0] == np.datetime64("2025-02-05T10:30:00")
    assert np.isnat(got[1])


def test_array_is_fast():
    rng = np.random.default_rng(1)
    starts = (np.datetime64("2024-06-01T00:00:00")
              + rng.integers(0, 365 * 86400, 1_000_000).astype("timedelta64[s]"))
    t0 = time.perf_counter()
    add_working_days_array(starts, rng.choice([1, 5, 15], size=len(starts)))
    assert time.perf_counter() - t0 < 5.0


def test_unknown_year_falls_back_to_weekdays_and_warns_once(monkeypatch):
    monkeypatch.setattr(workcal, "_warned_years", set())
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(D(2031, 1, 1))
    with pytest.warns(RuntimeWarning, match="2031"):
        assert is_workday(D(2031, 1, 1))  # a Wednesday
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert not is_workday(D(2031, 1, 4))  # a Saturday, no second warning
        assert add_working_days(T(2031, 1, 3, 9, 0), 1) == T(2031, 1, 6, 9, 0)
