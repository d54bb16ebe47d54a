"""The workload forecast: known series in, known forecasts, bands and backtest numbers out."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from station_portal.analytics.forecast import (
    BASELINE,
    BASELINE_METHOD,
    METHOD,
    MODEL,
    POISSON_METHOD,
    Forecast,
    forecast_daily,
    weekly,
)

WEEKDAY_SHAPE = np.array([1.3, 1.2, 1.1, 1.1, 1.0, 0.7, 0.6])  # Monday first


def daily(values, start: str = "2025-01-06") -> pd.Series:
    """`values` on consecutive days from `start` (2025-01-06 is a Monday)."""
    return pd.Series(np.asarray(values, dtype=float),
                     index=pd.date_range(start, periods=len(values), freq="D"))


def seasonal_year(seed: int) -> pd.Series:
    """A year with a summer and a winter peak and a strong weekday shape, Poisson counts."""
    index = pd.date_range("2025-01-01", periods=365, freq="D")
    t = np.arange(365)
    rate = (20 + 8 * np.cos(2 * np.pi * t / 182.5)) * WEEKDAY_SHAPE[index.day_of_week]
    return pd.Series(np.random.default_rng(seed).poisson(rate), index=index)


def trending_year(seed: int) -> pd.Series:
    """A year whose workload grows from 10 to about 100 a day, strong weekday shape, Poisson."""
    index = pd.date_range("2025-01-01", periods=365, freq="D")
    rate = (10 + 0.25 * np.arange(365)) * WEEKDAY_SHAPE[index.day_of_week]
    return pd.Series(np.random.default_rng(seed).poisson(rate), index=index)


def test_constant_series_forecasts_the_constant_with_a_tight_band():
    result = forecast_daily(daily([10] * 365))
    assert result.mean == pytest.approx([10.0] * 28)
    assert result.low == pytest.approx([10.0] * 28)
    assert result.high == pytest.approx([10.0] * 28)
    assert result.weekly_mape == pytest.approx(0.0, abs=1e-9)
    assert result.naive_mape == pytest.approx(0.0, abs=1e-9)
    assert result.coverage == 1.0
    assert result.holdout_weeks == 8
    assert result.method == METHOD


def test_weekly_pattern_is_reproduced_on_the_horizon():
    pattern = [10, 10, 10, 10, 10, 4, 4]                        # Monday .. Sunday
    history = daily(pattern * 20)                               # 20 weeks, ends on a Sunday
    result = forecast_daily(history)
    assert result.days[0].weekday() == 0
    assert result.mean == pytest.approx(pattern * 4)
    assert result.weekly_mape == pytest.approx(0.0, abs=1e-9)


def test_linear_ramp_is_continued_upward_damped():
    t = np.arange(120)
    history = daily(5 + 0.5 * t)                                # last day 64.5, slope 0.5 a day
    result = forecast_daily(history)                            # damping 0.5
    h = np.arange(1, 29)
    level = 64.5 - 0.5 * 13.5                                   # mean of the last 28 days: 57.75
    assert result.mean == pytest.approx(level + 0.5 * 0.5 * h)
    mean = np.array(result.mean)
    assert (np.diff(mean) > 0).all()                            # still rising
    assert (mean > level).all()                                 # above the last level ...
    assert (mean < 64.5 + 0.5 * h).all()                        # ... below the undamped ramp
    undamped = np.array(forecast_daily(history, damping=1.0).mean)
    assert undamped == pytest.approx(level + 0.5 * h)
    assert (mean < undamped).all()


@pytest.mark.parametrize("days", [10, 60, 365])
def test_band_brackets_the_mean_and_is_never_negative(days):
    result = forecast_daily(seasonal_year(seed=1).iloc[:days])
    low, mean, high = np.array(result.low), np.array(result.mean), np.array(result.high)
    assert len(low) == len(mean) == len(high) == 28
    assert (low >= 0).all()
    assert (low <= mean).all()
    assert (mean <= high).all()
    assert (high - low > 0).all()                               # noisy counts: a real band


def test_short_history_falls_back_to_a_poisson_band():
    result = forecast_daily(daily([9] * 10))
    assert result.method == POISSON_METHOD
    assert result.mean == pytest.approx([9.0] * 28)
    assert result.low == pytest.approx([9 - 1.2816 * 3] * 28)
    assert result.high == pytest.approx([9 + 1.2816 * 3] * 28)
    assert (result.weekly_mape, result.naive_mape, result.coverage) == (None, None, None)
    assert result.holdout_weeks == 0


def test_seasonal_noise_coverage_and_accuracy():
    result = forecast_daily(seasonal_year(seed=0))
    assert result.holdout_weeks == 8
    assert result.coverage is not None
    assert 0.6 <= result.coverage <= 0.95
    assert result.weekly_mape is not None and result.naive_mape is not None
    assert result.weekly_mape < result.naive_mape


def test_trend_with_weekly_shape_beats_the_naive_week():
    result = forecast_daily(trending_year(seed=0))
    assert result.weekly_mape is not None and result.naive_mape is not None
    assert result.weekly_mape < result.naive_mape
    assert result.weekly_mape < 10.0
    assert result.drawn == MODEL and result.method == METHOD  # the model won: the model is drawn


def flat_years(seed: int, years: int = 1, rate: float = 20.0) -> pd.Series:
    """Poisson counts around one constant rate, no weekday shape, no trend, from a Monday."""
    index = pd.date_range("2021-01-04", periods=365 * years, freq="D")
    return pd.Series(np.random.default_rng(seed).poisson(rate, len(index)), index=index)


def test_where_the_plain_average_did_better_the_plain_average_is_drawn():
    # Nothing to model: the trend and weekday factors only chase noise, the average wins.
    history = flat_years(seed=0)
    result = forecast_daily(history)
    assert result.naive_mape < result.weekly_mape
    assert result.drawn == BASELINE and result.method == BASELINE_METHOD
    average = history.iloc[-28:].mean()
    assert result.mean == pytest.approx([average] * 28)  # a flat line at the last four weeks' day
    low, mean, high = np.array(result.low), np.array(result.mean), np.array(result.high)
    assert (low < mean).all() and (mean < high).all()


def test_on_a_tie_the_model_is_drawn():
    # Weekly totals equal every week: both are perfect; the model keeps the weekday shape.
    result = forecast_daily(daily([10, 10, 10, 10, 10, 4, 4] * 20))
    assert result.weekly_mape == pytest.approx(result.naive_mape, abs=1e-6)
    assert result.drawn == MODEL and result.mean[:7] == pytest.approx([10, 10, 10, 10, 10, 4, 4])


@pytest.mark.parametrize("history", [
    pytest.param(lambda: seasonal_years(seed=0, years=5), id="seasonal, weekday shape (model)"),
    pytest.param(lambda: flat_years(seed=0, years=5), id="flat (baseline)"),
])
def test_the_band_holds_about_80_percent_of_held_out_days_on_a_long_series(history):
    # Four years of held-out weeks (1456 days): the share inside the band is within a few
    # points of the nominal 80 % whichever line is drawn.
    result = forecast_daily(history(), holdout_weeks=208)
    assert result.holdout_weeks == 208 and result.nominal == 0.8
    assert abs(result.coverage - 0.8) <= 0.03


def seasonal_years(seed: int, years: int) -> pd.Series:
    index = pd.date_range("2021-01-04", periods=365 * years, freq="D")
    t = np.arange(len(index))
    rate = (20 + 8 * np.cos(2 * np.pi * t / 182.5)) * WEEKDAY_SHAPE[index.day_of_week]
    return pd.Series(np.random.default_rng(seed).poisson(rate), index=index)


def test_missing_days_and_nan_count_as_zero():
    full = seasonal_year(seed=2).astype(float)
    gone = full.index[[40, 41, 200, 300]]
    full[gone] = 0.0
    with_gaps = full.drop(gone[:3])
    with_gaps[gone[3]] = np.nan
    assert forecast_daily(with_gaps) == forecast_daily(full)
    assert weekly(with_gaps).equals(weekly(full))


def test_empty_series_gives_an_empty_forecast():
    result = forecast_daily(pd.Series([], dtype=float, index=pd.DatetimeIndex([])))
    assert result == Forecast(days=[], mean=[], low=[], high=[], weekly_mape=None,
                              naive_mape=None, coverage=None, holdout_weeks=0, method="empty")
    assert weekly(pd.Series([], dtype=float, index=pd.DatetimeIndex([]))).empty


def test_negative_counts_raise():
    history = daily([3, 4, -1, 5])
    with pytest.raises(ValueError, match="negative"):
        forecast_daily(history)
    with pytest.raises(ValueError, match="negative"):
        weekly(history)


def test_horizon_starts_the_day_after_the_last_history_day():
    history = daily([1, 2, 3], start="2025-12-29")
    result = forecast_daily(history, horizon_days=10)
    assert result.days == [date(2026, 1, 1) + timedelta(days=i) for i in range(10)]
    assert len(result.mean) == len(result.low) == len(result.high) == 10


def test_weekly_sums_monday_based_weeks():
    counts = pd.Series(
        [1, 2, 3, 4, 5, 6, 7, 8, 10, 20],
        index=pd.to_datetime([
            "2025-01-01", "2025-01-02", "2025-01-03", "2025-01-04", "2025-01-05",  # Wed .. Sun
            "2025-01-06", "2025-01-07", "2025-01-12",                              # Mon, Tue, Sun
            "2025-01-13", "2025-01-14",                                            # Mon, Tue
        ]),
    )
    totals = weekly(counts)
    assert list(totals.index) == list(pd.to_datetime(["2024-12-30", "2025-01-06", "2025-01-13"]))
    assert totals.tolist() == [15.0, 21.0, 30.0]


