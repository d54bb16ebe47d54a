"""Daily figures for a date range and a set of units: snapshot rows plus the live days.

Days up to the snapshot horizon are summed in SQL from the snapshot tables
(indexed by unit and day); days after it (normally only today) are aggregated
from the work-order tables with the same functions the snapshot job uses. A
dashboard therefore reads a few thousand rows at most, whatever the size of
the history, and still sees an order that arrived a second ago. Both paths
use ``snapshots.aggregates``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from station_portal.analytics.models import CrewDay, OrderDay, StageDay
from station_portal.analytics.snapshots import (
    CREW_COLUMNS,
    ORDER_COLUMNS,
    STAGE_COLUMNS,
    crew_aggregates,
    horizon,
    order_aggregates,
    stage_aggregates,
)
from station_portal.sla.calendar import local_midnight

LIVE_COLUMNS = {OrderDay: ORDER_COLUMNS, StageDay: STAGE_COLUMNS, CrewDay: CREW_COLUMNS}
SUMS = {
    OrderDay: ("received", "closed", "counter_visits"),
    StageDay: ("done", "timed", "late", "used", "late_by"),
    CrewDay: ("jobs", "site_hours"),
}


LIVE = {OrderDay: order_aggregates, StageDay: stage_aggregates, CrewDay: crew_aggregates}


class Daily:
    """Aggregates over ``[start, end]`` (local days, inclusive) for ``unit_ids`` (None: all)."""

    def __init__(self, session: Session, unit_ids: frozenset[int] | None, start: date, end: date,
                 now: datetime) -> None:
        self.session, self.unit_ids, self.start, self.end, self.now = (
            session, unit_ids, start, end, now)
        self.horizon = horizon(session)

    def _live(self, model) -> pd.DataFrame:
        """The days after the horizon, from the work-order tables. Kept for the request (in
        the session's ``info``), so two ranges ending today aggregate today once."""
        first = max(self.start, self.horizon + timedelta(days=1)) if self.horizon else self.start
        if first > self.end:
            return pd.DataFrame(columns=LIVE_COLUMNS[model])
        cache = self.session.info.setdefault("portal_live_aggregates", {})
        key = (model.__name__, self.unit_ids, first, self.end, self.now)
        if key not in cache:
            until = local_midnight(self.end + timedelta(days=1)).astimezone(UTC)
            cache[key] = LIVE[model](self.session, local_midnight(first).astimezone(UTC),
                                     min(until, self.now + timedelta(seconds=1)), self.unit_ids)
        return cache[key]

    def _read(self, model, keys: list[str],
              where: dict[str, object] | None = None) -> pd.DataFrame:
        values = SUMS[model]
        live = self._live(model)
        frames = []
        if self.horizon is not None and self.start <= self.horizon:
            last = min(self.end, self.horizon)
            cols = [getattr(model, k) for k in keys]
            stmt = (select(*cols, *[func.sum(getattr(model, v)).label(v) for v in values])
                    .where(model.day >= self.start, model.day <= last))
            if self.unit_ids is not None:
                stmt = stmt.where(model.unit_id.in_(sorted(self.unit_ids)))
            for key, value in (where or {}).items():
                column = getattr(model, key)
                stmt = stmt.where(column.in_(value) if isinstance(value, (list, tuple, set))
                                  else column == value)
            if cols:
                stmt = stmt.group_by(*cols)
            frames.append(pd.DataFrame(self.session.execute(stmt).all(), columns=[*keys, *values]))
        if len(live):
            part = live
            for key, value in (where or {}).items():
                part = part[part[key].isin(list(value))] if isinstance(
                    value, (list, tuple, set)) else part[part[key] == value]
            if len(part):
                frames.append(part.groupby(keys, as_index=False, dropna=False)[list(values)].sum()
                              if keys else part[list(values)].sum().to_frame().T)
        frames = [f for f in frames if len(f)]
        if not frames:
            return pd.DataFrame(columns=[*keys, *values])
        out = pd.concat(frames, ignore_index=True)
        for v in values:
            out[v] = pd.to_numeric(out[v]).fillna(0)
        if keys:
            out = out.groupby(keys, as_index=False, dropna=False)[list(values)].sum()
        else:
            out = out[list(values)].sum().to_frame().T
        return out

    def orders(self, keys: list[str], where: dict[str, object] | None = None) -> pd.DataFrame:
        return self._read(OrderDay, keys, where)

    def stages(self, keys: list[str], where: dict[str, object] | None = None) -> pd.DataFrame:
        return self._read(StageDay, keys, where)

    def crews(self, keys: list[str], where: dict[str, object] | None = None) -> pd.DataFrame:
        return self._read(CrewDay, keys, where)
