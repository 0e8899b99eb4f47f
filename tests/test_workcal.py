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


# ------------------------------------------------------------ working time ---
# A working day counts whole (00:00–24:00), a non-working day not at all.

H = 3600.0
WS = workcal.working_seconds_between


@pytest.mark.parametrize("a, b, hours", [
    # plain weekend (March 2025): Fri 16:00 → Mon 10:00 = 8 h of Friday + 10 h of Monday
    (T(2025, 3, 14, 16, 0), T(2025, 3, 17, 10, 0), 18),
    (T(2025, 3, 15, 9, 0), T(2025, 3, 16, 23, 0), 0),          # inside a weekend
    (T(2025, 3, 17, 10, 0), T(2025, 3, 14, 16, 0), -18),       # backwards: negative
    # Spring Festival 2025: Mon 27 Jan 18:00 → Fri 7 Feb 10:00 = 6 h + holiday 28 Jan–4 Feb (0)
    # + 5 Feb 24 h + 6 Feb 24 h + 10 h = 64 h
    (T(2025, 1, 27, 18, 0), T(2025, 2, 7, 10, 0), 64),
    # Fri 24 Jan 10:00 → Sat 8 Feb 10:00 (the 调休 Saturday): 14 + Sun 26 (调休) 24 + Mon 27 24
    # + 5, 6, 7 Feb 72 + 10 = 144 h = 6 working days
    (T(2025, 1, 24, 10, 0), T(2025, 2, 8, 10, 0), 144),
    # National Day 2025: Tue 30 Sep 14:00 → Thu 9 Oct 14:00: 10 h + 1–8 Oct (0) + 14 h = 24 h
    (T(2025, 9, 30, 14, 0), T(2025, 10, 9, 14, 0), 24),
])
def test_working_seconds_between(a, b, hours):
    assert WS(a, b) == hours * H
    got = workcal.working_seconds_between_array(np.array([a], dtype="datetime64[us]"),
                                                np.array([b], dtype="datetime64[us]"))
    assert got[0] == hours * H


def test_adding_ends_at_the_start_of_the_next_working_day():
    # Friday 14 Mar 2025 00:00 + 24 working hours: Friday's own 24 h end at Friday 24:00, but the latest
    # moment with that working time is Monday 00:00, which is what add_working_days says too
    assert workcal.add_working_seconds(T(2025, 3, 14, 0, 0), 24 * H) == T(2025, 3, 17, 0, 0)
    assert workcal.add_working_seconds(T(2025, 3, 14, 16, 0), 18 * H) == T(2025, 3, 17, 10, 0)
    # from a Saturday, 0 s is Monday 00:00 (the clock starts there), like add_working_days(start, 0)
    assert workcal.add_working_seconds(T(2025, 3, 15, 10, 0), 0) == T(2025, 3, 17, 0, 0)
    # over the Spring Festival: Mon 27 Jan 2025 20:00 + 10 h = 4 h of 27 Jan, then 6 h of Wed 5 Feb
    assert workcal.add_working_seconds(T(2025, 1, 27, 20, 0), 10 * H) == T(2025, 2, 5, 6, 0)


def test_subtracting_ends_at_the_end_of_the_previous_working_day():
    # Tuesday 18 Mar 2025 00:00 − 24 working hours: Monday 00:00 is 24 h back, and so is every moment
    # back to Friday 24:00: the earliest is Saturday 00:00, when 1 working day remains
    assert workcal.subtract_working_seconds(T(2025, 3, 18, 0, 0), 24 * H) == T(2025, 3, 15, 0, 0)
    assert workcal.subtract_working_seconds(T(2025, 3, 17, 10, 0), 18 * H) == T(2025, 3, 14, 16, 0)
    # Fri 7 Feb 2025 10:00 − 72 h: 10 h (7 Feb) + 24 (6 Feb) + 24 (5 Feb) = 58, then the holiday (0),
    # and the last 14 h of Mon 27 Jan → 27 Jan 10:00
    assert workcal.subtract_working_seconds(T(2025, 2, 7, 10, 0), 72 * H) == T(2025, 1, 27, 10, 0)


def test_working_days_are_86400_working_seconds():
    """add_working_days(start, n) == add_working_seconds(start, n × 86 400), for every start."""
    rng = np.random.default_rng(7)
    base = np.datetime64("2024-01-01T00:00:00")
    starts = base + rng.integers(0, 2 * 365 * 86400, 3000).astype("timedelta64[s]")
    starts[:200] = starts[:200].astype("datetime64[D]")  # exactly at midnight too
    ns = rng.choice([0, 1, 2, 3, 5, 10, 15], size=3000)
    by_seconds = workcal.add_working_seconds_array(starts, ns * 86400.0)
    assert (by_seconds == add_working_days_array(starts, ns).astype("datetime64[us]")).all()
    for s, n in list(zip(starts.tolist(), ns.tolist()))[:300]:
        assert workcal.add_working_seconds(s, n * 86400.0) == add_working_days(s, n)


def test_working_time_round_trips_and_arrays_equal_scalars():
    rng = np.random.default_rng(3)
    base = np.datetime64("2024-06-01T00:00:00")
    a = base + rng.integers(0, 365 * 86400, 2000).astype("timedelta64[s]")
    secs = rng.integers(0, 20 * 86400, 2000).astype(float)
    later = workcal.add_working_seconds_array(a, secs)
    assert np.allclose(workcal.working_seconds_between_array(a, later), secs)
    back = workcal.subtract_working_seconds_array(later, secs)
    assert np.allclose(workcal.working_seconds_between_array(back, later), secs)
    for x, s, y, z in list(zip(a.tolist(), secs.tolist(), later.tolist(), back.tolist()))[:200]:
        assert workcal.add_working_seconds(x, s) == y
        assert workcal.subtract_working_seconds(y, s) == z
        assert WS(x, y) == s


def test_working_time_keeps_microseconds_and_nat():
    start = T(2025, 3, 14, 16, 0, 0, 250_000)
    assert workcal.add_working_seconds(start, 8 * H) == T(2025, 3, 17, 0, 0, 0, 250_000)
    assert WS(start, T(2025, 3, 14, 16, 0, 1)) == 0.75
    got = workcal.working_seconds_between_array(np.array(["2025-03-14T16:00", "NaT"], dtype="datetime64[m]"),
                                                np.array(["2025-03-17T10:00", "2025-03-17T10:00"],
                                                         dtype="datetime64[m]"))
    assert got[0] == 18 * H and np.isnan(got[1])
    assert np.isnat(workcal.add_working_seconds_array(np.array(["NaT"], dtype="datetime64[s]"), 5.0)[0])
    with pytest.raises(ValueError):
        workcal.add_working_seconds(start, -1)


def test_working_time_in_an_unknown_year_uses_weekdays(monkeypatch):
    monkeypatch.setattr(workcal, "_warned_years", set())
    monkeypatch.setattr(workcal, "_table", workcal._DayTable())  # nothing cached
    with pytest.warns(RuntimeWarning, match="2031"):
        # Fri 3 Jan 2031 12:00 → Mon 6 Jan 12:00: 12 + 12 h (no holiday data: Saturday and Sunday off)
        assert WS(T(2031, 1, 3, 12, 0), T(2031, 1, 6, 12, 0)) == 24 * H
    assert workcal.add_working_seconds(T(2031, 1, 3, 12, 0), 5 * 86400.0) == T(2031, 1, 10, 12, 0)
