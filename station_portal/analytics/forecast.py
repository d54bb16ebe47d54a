"""Workload forecast: work orders per day for the next four weeks, with an 80 % band.

How the forecast is made, in plain words
----------------------------------------
1. Weekday pattern. Over the last 8 weeks each weekday is compared with the average day of
   the week around it: for example Mondays may carry 1.3 times an average day and Sundays
   0.5 times. These "weekday factors" average to 1.
2. Level. Each day's count is divided by its weekday factor, so busy and quiet weekdays
   become comparable. The average of the last 4 weeks of these adjusted counts is the level.
   Being an average, it lags about two weeks behind a workload that is rising or falling.
3. Trend. The trend is the change per day between the average of the last 4 weeks and the
   average of the 4 weeks before. Trends rarely go on unchanged for a month, so only part of
   it is carried into the future (the damping, one half by default).
4. Forecast for the day h days ahead = (level + trend x h x damping) x weekday factor,
   never below zero.

The 80 % band
-------------
The band is calibrated on the past, the conformal way. The method is replayed: for each 4-week
block of up to the last year it forecasts the block from the data before it only. Each day's
miss is measured against the spread expected around its forecast f, the square root of
(f + (0.1 x f)^2): chance alone for counts (Poisson), plus a tenth of the level because days
differ more than chance (weather, storms). So busy and quiet days can be compared. The band
is the forecast +/- the 80th percentile of those relative misses (with the finite-sample
correction of split conformal prediction) times each day's expected spread, never below
zero. With too little history for this replay (less than about 11 weeks), the band is the
spread expected from chance alone for counts (Poisson): forecast +/- 1.28 x square root of
the forecast.

How good it was, and which line is drawn
----------------------------------------
The last 8 weeks are held out: they are forecast in 4-week blocks from the data before each
block and compared with what happened, as weekly totals.

- ``weekly_mape``: the average percentage by which the model's weekly total was off;
- ``naive_mape``: the same for the baseline "every coming week is like the average week of
  the last 4 weeks";
- the forecast drawn (``drawn``) is the model unless the baseline did strictly better on the
  held-out weeks; then it is the baseline, a flat line at the average day of the last 4 weeks,
  with a band calibrated on the baseline's own misses;
- ``coverage``: the share of held-out days that fell inside the band of the drawn line that
  would have been shown at the time (each block's band is calibrated on the blocks before it
  only, so this is an honest out-of-sample figure to compare with the nominal 80 %).

Missing days count as zero orders. Everything is plain numpy; one call on a year of history
takes about a millisecond.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

METHOD = "weekday-profile+damped-trend"
BASELINE_METHOD = "four-week-average"
POISSON_METHOD = METHOD + "+poisson-interval"
MODEL, BASELINE = "model", "baseline"   # which line a forecast draws
NOMINAL = 0.8               # the band is meant to hold 80 % of the days
Z80 = 1.2816                # standard normal 90 % quantile: mean +/- Z80 sd is an 80 % band
BLOCK_DAYS = 28             # backtest blocks are 4 weeks
BASELINE_DAYS = 28          # the baseline is the average day of the last 4 weeks
PROFILE_DAYS = 56           # the weekday profile looks at the last 8 weeks
MIN_PROFILE_DAYS = 21       # fewer days than this: no weekday profile (all factors 1)
MIN_TREND_WINDOW = 14       # a trend needs two windows of at least two weeks each
CALIBRATION_BLOCKS = 12     # extra backtest blocks before the held-out weeks, for the band
MIN_ERRORS = 20             # fewer backtest days than this: Poisson band instead
EXTRA_SPREAD = 0.1          # days differ by about a tenth of the level more than chance alone


@dataclass(frozen=True)
class Forecast:
    """A daily forecast with its 80 % band and how well it did on held-out weeks."""

    days: list[date]            # the forecast horizon, starting the day after the last history day
    mean: list[float]           # the drawn line: the model's, or the baseline's if it did better
    low: list[float]            # the band around it, calibrated to hold NOMINAL of the days
    high: list[float]
    weekly_mape: float | None   # the model's % error of weekly totals on held-out weeks
    naive_mape: float | None    # the same for the baseline (the average week of the last 4 weeks)
    coverage: float | None      # share of held-out days inside the drawn line's band
    holdout_weeks: int          # how many weeks the backtest used (0 if none)
    method: str                 # short machine name of the drawn line and its band
    drawn: str = MODEL          # MODEL or BASELINE: which line ``mean`` is
    nominal: float = NOMINAL    # the share of days the band is meant to hold


@dataclass(frozen=True)
class _Fit:
    level: float                # mean deseasonalised count of the last window
    trend: float                # deseasonalised change per day (undamped)
    factors: np.ndarray         # weekday factors, Monday first, mean 1


@dataclass(frozen=True)
class _Backtest:
    weeks: int
    weekly_mape: float | None
    naive_mape: float | None
    drawn: str                  # MODEL or BASELINE, the better on the held-out weeks
    coverage: float | None      # of the drawn line's band, calibrated on earlier blocks only
    scores: np.ndarray          # the drawn line's misses in Poisson units, every backtest day


def _clean(counts: pd.Series) -> pd.Series:
    """Daily float counts on a full, sorted, naive daily range; NaN and missing days are 0."""
    if len(counts) == 0:
        return pd.Series([], index=pd.DatetimeIndex([]), dtype=float)
    index = pd.DatetimeIndex(counts.index)
    if index.tz is not None:
        index = index.tz_localize(None)
    values = pd.to_numeric(pd.Series(np.asarray(counts), index=index.normalize()), errors="raise")
    values = values.astype(float).fillna(0.0)
    if (values.to_numpy() < 0).any():
        raise ValueError("work-order counts cannot be negative")
    if not (values.index.is_unique and values.index.is_monotonic_increasing):
        values = values.groupby(level=0).sum()
    full = pd.date_range(values.index[0], values.index[-1], freq="D")
    if len(full) != len(values):
        values = values.reindex(full, fill_value=0.0)
    return values


def _weekday_factors(y: np.ndarray, dow: np.ndarray) -> np.ndarray:
    """Each weekday's counts over those of the centred 7-day average, last 8 weeks; mean 1."""
    n = len(y)
    if n < MIN_PROFILE_DAYS:
        return np.ones(7)
    csum = np.concatenate(([0.0], np.cumsum(y)))
    centred = (csum[7:] - csum[:-7]) / 7.0          # centred average around days 3 .. n-4
    take = min(PROFILE_DAYS, len(centred))
    days = np.arange(n - 3 - take, n - 3)           # the last `take` days that have a centred avg
    own = np.bincount(dow[days], weights=y[days], minlength=7)
    around = np.bincount(dow[days], weights=centred[days - 3], minlength=7)
    factors = np.divide(own, around, out=np.ones(7), where=around > 0)
    total = factors.sum()
    return factors * (7.0 / total) if total > 0 else np.ones(7)


def _fit(y: np.ndarray, dow: np.ndarray, window: int) -> _Fit:
    """Weekday factors, level and trend of a non-empty history."""
    factors = _weekday_factors(y, dow)
    f = factors[dow]
    adjusted = np.divide(y, f, out=np.full(len(y), np.nan), where=f > 0)
    trend_window = min(window, len(y) // 2)
    trend = 0.0
    if trend_window >= MIN_TREND_WINDOW:
        last = np.nanmean(adjusted[-trend_window:])
        before = np.nanmean(adjusted[-2 * trend_window:-trend_window])
        trend = float((last - before) / trend_window)
    level = float(np.nanmean(adjusted[-min(window, len(y)):]))
    return _Fit(level=level, trend=trend, factors=factors)


def _predict(fit: _Fit, first_dow: int, days: int, damping: float) -> np.ndarray:
    """Forecast of the `days` days after the history; `first_dow` is the first one's weekday."""
    h = np.arange(1, days + 1, dtype=float)
    dow = (first_dow + np.arange(days)) % 7
    return np.maximum((fit.level + fit.trend * damping * h) * fit.factors[dow], 0.0)


def _baseline(y: np.ndarray, days: int) -> np.ndarray:
    """The plain four-week average: every coming day like the average day of the last 4 weeks."""
    return np.full(days, float(y[-BASELINE_DAYS:].mean()))


def _scale(forecast: np.ndarray) -> np.ndarray:
    """The spread expected around ``forecast``: Poisson chance (at least 1) and a share of
    the level (EXTRA_SPREAD). Misses are compared in these units."""
    return np.sqrt(np.maximum(forecast, 1.0) + (EXTRA_SPREAD * forecast) ** 2)


def _conformal_quantile(scores: np.ndarray) -> float:
    """The NOMINAL quantile of the misses with the finite-sample correction of split
    conformal prediction: a new day's miss is at most this with probability >= NOMINAL."""
    n = len(scores)
    rank = min(int(np.ceil((n + 1) * NOMINAL)), n)
    return float(np.sort(scores)[rank - 1])


def _band(mean: np.ndarray, scores: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """80 % band: conformal from past misses if there are enough, else Poisson; low <= mean."""
    if scores is not None and len(scores) >= MIN_ERRORS:
        spread = _conformal_quantile(scores) * _scale(mean)
    else:
        spread = Z80 * np.sqrt(mean)
    return np.maximum(mean - spread, 0.0), mean + spread


def _mape(actual: np.ndarray, forecast: np.ndarray) -> float | None:
    """Mean absolute percentage error over the weeks with orders; None if there are none."""
    busy = actual > 0
    if not busy.any():
        return None
    return float(np.mean(np.abs(actual[busy] - forecast[busy]) / actual[busy]) * 100.0)


def _backtest(y: np.ndarray, dow: np.ndarray, window: int, holdout_weeks: int,
              damping: float) -> _Backtest | None:
    """Rolling-origin replay: held-out weeks in 4-week blocks, plus earlier calibration blocks."""
    n = len(y)
    min_train = max(2 * window, BLOCK_DAYS, BASELINE_DAYS)
    weeks = min(holdout_weeks, (n - min_train) // 7)
    if weeks < 1:
        return None
    holdout_start = n - 7 * weeks
    blocks: list[tuple[int, int]] = []                # [start, end), newest first
    end = n
    while end > holdout_start:
        blocks.append((max(end - BLOCK_DAYS, holdout_start), end))
        end -= BLOCK_DAYS
    start = holdout_start
    for _ in range(CALIBRATION_BLOCKS):
        if start - BLOCK_DAYS < min_train:
            break
        blocks.append((start - BLOCK_DAYS, start))
        start -= BLOCK_DAYS
    blocks.reverse()

    # Both lines for every block, from the data before the block only.
    lines = {MODEL: [], BASELINE: []}
    for a, b in blocks:
        lines[MODEL].append(_predict(_fit(y[:a], dow[:a], window), int(dow[a]), b - a, damping))
        lines[BASELINE].append(_baseline(y[:a], b - a))
    held = [i for i, (a, _b) in enumerate(blocks) if a >= holdout_start]
    actual_weeks = y[holdout_start:].reshape(weeks, 7).sum(axis=1)

    def weekly_mape(kind: str) -> float | None:
        forecast = np.concatenate([lines[kind][i] for i in held])
        return _mape(actual_weeks, forecast.reshape(weeks, 7).sum(axis=1))

    model_mape, naive_mape = weekly_mape(MODEL), weekly_mape(BASELINE)
    # strictly better, not by rounding noise: on a tie the model (it has the weekday shape)
    better = naive_mape is not None and model_mape is not None and naive_mape < model_mape - 1e-6
    drawn = BASELINE if better else MODEL

    # The drawn line's misses; each held-out block's band from the blocks before it only.
    scores = [np.abs(y[a:b] - f) / _scale(f) for (a, b), f in zip(blocks, lines[drawn], strict=True)]
    inside = 0
    for i in held:
        a, b = blocks[i]
        low, high = _band(lines[drawn][i], np.concatenate(scores[:i]) if i else None)
        inside += int(np.count_nonzero((y[a:b] >= low) & (y[a:b] <= high)))
    return _Backtest(weeks=weeks, weekly_mape=model_mape, naive_mape=naive_mape, drawn=drawn,
                     coverage=inside / (7 * weeks), scores=np.concatenate(scores))


def forecast_daily(counts: pd.Series, horizon_days: int = 28, window: int = 28,
                   holdout_weeks: int = 8, damping: float = 0.5) -> Forecast:
    """Forecast daily work-order counts `horizon_days` ahead, with band and backtest accuracy.

    `counts` is indexed by day; missing days and NaN count as 0, negative counts raise
    ValueError. The line drawn is the model's unless the four-week average did better on the
    held-out weeks. See the module docstring for the method.
    """
    if horizon_days < 1:
        raise ValueError("horizon_days must be at least 1")
    if window < 7:
        raise ValueError("window must be at least 7 days")
    if holdout_weeks < 0:
        raise ValueError("holdout_weeks cannot be negative")
    if not 0.0 <= damping <= 1.0:
        raise ValueError("damping must be between 0 and 1")
    series = _clean(counts)
    if series.empty:
        return Forecast(days=[], mean=[], low=[], high=[], weekly_mape=None, naive_mape=None,
                        coverage=None, holdout_weeks=0, method="empty")

    y = series.to_numpy()
    first = series.index[0]
    dow = ((first.day_of_week + np.arange(len(y))) % 7).astype(np.intp)
    last_day = series.index[-1].date()
    backtest = _backtest(y, dow, window, holdout_weeks, damping)
    drawn = backtest.drawn if backtest is not None else MODEL
    if drawn == BASELINE:
        mean = _baseline(y, horizon_days)
    else:
        mean = _predict(_fit(y, dow, window), int((dow[-1] + 1) % 7), horizon_days, damping)
    scores = backtest.scores if backtest is not None else None
    low, high = _band(mean, scores)
    empirical = scores is not None and len(scores) >= MIN_ERRORS
    name = BASELINE_METHOD if drawn == BASELINE else METHOD
    return Forecast(
        days=[last_day + timedelta(days=h) for h in range(1, horizon_days + 1)],
        mean=mean.tolist(),
        low=low.tolist(),
        high=high.tolist(),
        weekly_mape=backtest.weekly_mape if backtest else None,
        naive_mape=backtest.naive_mape if backtest else None,
        coverage=backtest.coverage if backtest else None,
        holdout_weeks=backtest.weeks if backtest else 0,
        method=name if empirical else name + "+poisson-interval",
        drawn=drawn,
    )


def weekly(counts: pd.Series) -> pd.Series:
    """Weekly totals, indexed by the Monday each week starts on (missing days count as 0).

    The first and last weeks may be partial: they hold only the days of the history.
    """
    series = _clean(counts)
    if series.empty:
        return pd.Series([], index=pd.DatetimeIndex([]), dtype=float, name=counts.name)
    mondays = series.index - pd.to_timedelta(series.index.day_of_week, unit="D")
    totals = series.groupby(mondays).sum()
    totals.index = pd.DatetimeIndex(totals.index)
    totals.name = counts.name
    return totals
