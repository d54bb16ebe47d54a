"""Outages: the customers they touch, whether they were told in time, and what the pages read.

- ``affected_query`` / ``affected_count``: the connection points on an outage's areas (one
  indexed join; the benchmark ``benchmarks/outages.py`` times it at a million customers).
- ``notice_verdict``: the notice against the commitment of ``data/network.toml``.
- ``covering_outage``: the announced or running outage that explains a dark site.
- ``outages_between``: a scope's outages in a window, with their areas, for the page and
  the map; ``public_outages``: what the public notice list shows.

Reads only; the changes are ``services.outages``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.orm import Session

from station_portal.auth.scope import Scope
from station_portal.network.models import (
    PUBLIC_STATUSES,
    ConnectionPoint,
    Outage,
    OutageArea,
    OutageKind,
    OutageStatus,
    TransformerArea,
)
from station_portal.network.rules import network_rules


class Verdict:
    """How an outage's notice stands against its commitment."""

    IN_TIME = "in_time"  # announced no later than the deadline
    LATE = "late"  # announced after the deadline
    DUE = "due"  # not announced yet; the deadline is ahead
    MISSED = "missed"  # not announced and the deadline has passed
    NONE = "none"  # cancelled before it was announced


def notice_due(kind: str, starts_at: datetime) -> datetime | None:
    """The latest notice that keeps the commitment; None for a fault (no advance notice)."""
    commitment = network_rules().commitments.get(kind)
    return commitment.due(starts_at) if commitment is not None else None


def notice_verdict(kind: str, status: str, starts_at: datetime, announced_at: datetime | None,
                   now: datetime) -> str:
    due = notice_due(kind, starts_at)
    if due is None:
        return Verdict.NONE
    if announced_at is not None:
        return Verdict.IN_TIME if announced_at <= due else Verdict.LATE
    if status == OutageStatus.CANCELLED.value:
        return Verdict.NONE
    return Verdict.DUE if now <= due else Verdict.MISSED


def affected_query(area_ids: Select | list[int]) -> Select:
    """The connection points on the areas (a list, or a subquery of area ids)."""
    return select(ConnectionPoint).where(ConnectionPoint.area_id.in_(area_ids))


def outage_area_ids(outage_id: int) -> Select:
    return select(OutageArea.area_id).where(OutageArea.outage_id == outage_id)


def affected_count(session: Session, area_ids: list[int]) -> int:
    if not area_ids:
        return 0
    return session.scalar(select(func.count()).select_from(ConnectionPoint)
                          .where(ConnectionPoint.area_id.in_(area_ids))) or 0


def covering_outage(session: Session, area_id: int | None, at: datetime) -> Outage | None:
    """The announced or running outage of the area whose window holds ``at`` (a running one
    holds until it is ended, even past its planned end)."""
    if area_id is None:
        return None
    return session.scalars(
        select(Outage).join(OutageArea, OutageArea.outage_id == Outage.id)
        .where(OutageArea.area_id == area_id, Outage.status.in_(PUBLIC_STATUSES),
               Outage.starts_at <= at,
               or_(Outage.ends_at > at, Outage.status == OutageStatus.IN_PROGRESS.value))
        .order_by(Outage.starts_at.desc(), Outage.id.desc()).limit(1)).first()


@dataclass(frozen=True)
class AreaOnMap:
    area_id: int
    code: str
    name: str
    lat: float
    lon: float
    customers: int


@dataclass(frozen=True)
class OutageRow:
    id: int
    code: str
    kind: str
    status: str
    unit_id: int
    reason: str
    starts_at: datetime
    ends_at: datetime
    announced_at: datetime | None
    notice_due_at: datetime | None
    verdict: str
    customers: int
    important: int
    areas: tuple[AreaOnMap, ...]
    version: int


def _areas_of(session: Session, outage_ids: list[int], *,
              counted: bool = True) -> dict[int, list[AreaOnMap]]:
    """Each outage's areas; ``counted``: with the customers on each (else 0)."""
    if not outage_ids:
        return {}
    if not counted:
        rows = session.execute(
            select(OutageArea.outage_id, TransformerArea.id, TransformerArea.code,
                   TransformerArea.name, TransformerArea.lat, TransformerArea.lon)
            .join(TransformerArea, TransformerArea.id == OutageArea.area_id)
            .where(OutageArea.outage_id.in_(outage_ids))
            .order_by(OutageArea.outage_id, TransformerArea.code)).all()
        bare: dict[int, list[AreaOnMap]] = {}
        for oid, aid, code, name, lat, lon in rows:
            bare.setdefault(oid, []).append(AreaOnMap(aid, code, name, lat, lon, 0))
        return bare
    wanted = select(OutageArea.area_id).where(OutageArea.outage_id.in_(outage_ids))
    counts = (select(ConnectionPoint.area_id, func.count().label("n"))
              .where(ConnectionPoint.area_id.in_(wanted))  # never all customers
              .group_by(ConnectionPoint.area_id).subquery())
    rows = session.execute(
        select(OutageArea.outage_id, TransformerArea.id, TransformerArea.code,
               TransformerArea.name, TransformerArea.lat, TransformerArea.lon,
               func.coalesce(counts.c.n, 0))
        .join(TransformerArea, TransformerArea.id == OutageArea.area_id)
        .outerjoin(counts, counts.c.area_id == TransformerArea.id)
        .where(OutageArea.outage_id.in_(outage_ids))
        .order_by(OutageArea.outage_id, TransformerArea.code)).all()
    found: dict[int, list[AreaOnMap]] = {}
    for oid, aid, code, name, lat, lon, n in rows:
        found.setdefault(oid, []).append(AreaOnMap(aid, code, name, lat, lon, int(n)))
    return found


def _important(session: Session, outage_ids: list[int]) -> dict[int, int]:
    if not outage_ids:
        return {}
    return dict(session.execute(
        select(OutageArea.outage_id, func.count())
        .join(ConnectionPoint, ConnectionPoint.area_id == OutageArea.area_id)
        .where(OutageArea.outage_id.in_(outage_ids), ConnectionPoint.important.is_(True))
        .group_by(OutageArea.outage_id)).all())


def _rows(session: Session, outages: list[Outage], now: datetime, *,
          counted: bool = True) -> list[OutageRow]:
    """Rows of the outages; ``counted`` False: the customers as fixed when each was
    announced (the public list: no count of customers per area)."""
    ids = [o.id for o in outages]
    areas = _areas_of(session, ids, counted=counted)
    important = _important(session, ids) if counted else {}
    return [OutageRow(
        o.id, o.code, o.kind, o.status, o.unit_id, o.reason, o.starts_at, o.ends_at,
        o.announced_at, notice_due(o.kind, o.starts_at),
        notice_verdict(o.kind, o.status, o.starts_at, o.announced_at, now),
        sum(a.customers for a in areas.get(o.id, [])) if counted else o.customers,
        important.get(o.id, 0), tuple(areas.get(o.id, [])), o.version) for o in outages]


def outages_between(session: Session, scope: Scope, start: datetime, end: datetime, *,
                    now: datetime, statuses: tuple[str, ...] | None = None,
                    limit: int = 500) -> list[OutageRow]:
    """The scope's outages whose window meets [start, end), earliest first."""
    query = (select(Outage).where(scope.unit_filter(Outage.unit_id), Outage.starts_at < end,
                                  Outage.ends_at >= start)
             .order_by(Outage.starts_at, Outage.id).limit(limit))
    if statuses:
        query = query.where(Outage.status.in_(statuses))
    return _rows(session, list(session.scalars(query)), now)


def outage_in_scope(session: Session, scope: Scope | None, outage_id: object) -> Outage | None:
    if not isinstance(outage_id, int) or isinstance(outage_id, bool):
        return None
    outage = session.get(Outage, outage_id)
    if outage is None or (scope is not None and not scope.sees_unit(outage.unit_id)):
        return None
    return outage


def outages_cutting(session: Session, scope: Scope, area_id: int | None,
                    now: datetime) -> list[Outage]:
    """Approved and announced outages of the scope, not over, that cut the area: where an
    application's final hook-up can be done."""
    if area_id is None:
        return []
    return list(session.scalars(
        select(Outage).join(OutageArea, OutageArea.outage_id == Outage.id)
        .where(OutageArea.area_id == area_id, scope.unit_filter(Outage.unit_id),
               Outage.status.in_((OutageStatus.APPROVED.value, OutageStatus.ANNOUNCED.value)),
               Outage.ends_at > now)
        .order_by(Outage.starts_at, Outage.id).limit(50)))


def public_outages(session: Session, now: datetime, *, days: int = 7,
                   area_ids: list[int] | None = None, limit: int = 200) -> list[OutageRow]:
    """Announced and running outages that are not over and start within ``days``; their
    customers as counted when each was announced."""
    query = (select(Outage).where(
        Outage.status.in_(PUBLIC_STATUSES), Outage.starts_at < now + timedelta(days=days),
        or_(Outage.ends_at > now, Outage.status == OutageStatus.IN_PROGRESS.value))
        .order_by(Outage.starts_at, Outage.id).limit(limit))
    if area_ids is not None:
        query = query.where(Outage.id.in_(
            select(OutageArea.outage_id).where(OutageArea.area_id.in_(area_ids))))
    return _rows(session, list(session.scalars(query)), now, counted=False)


@dataclass(frozen=True)
class NoticeFigures:
    """Notices against the commitment over outages that started in a window."""

    outages: int
    in_time: int
    late: int
    missed: int

    @property
    def rate(self) -> float | None:
        told = self.in_time + self.late + self.missed
        return self.in_time / told if told else None


def _figures(rows: list[tuple[str, str, datetime, datetime | None]],
             now: datetime) -> NoticeFigures:
    verdicts = [notice_verdict(k, s, st, a, now) for k, s, st, a in rows]
    return NoticeFigures(len(rows), verdicts.count(Verdict.IN_TIME), verdicts.count(Verdict.LATE),
                         verdicts.count(Verdict.MISSED))


def _noticed(start: datetime, end: datetime) -> tuple[ColumnElement[bool], ...]:
    """Outages starting in [start, end) that owed a notice: not drafts, not faults."""
    return (Outage.starts_at >= start, Outage.starts_at < end,
            Outage.status != OutageStatus.DRAFT.value, Outage.kind != OutageKind.FAULT.value)


def notice_figures(session: Session, scope: Scope, start: datetime, end: datetime,
                   now: datetime) -> NoticeFigures:
    rows = session.execute(
        select(Outage.kind, Outage.status, Outage.starts_at, Outage.announced_at)
        .where(scope.unit_filter(Outage.unit_id), *_noticed(start, end))).all()
    return _figures([tuple(r) for r in rows], now)


def notice_by_unit(session: Session, unit_ids: frozenset[int] | None, start: datetime,
                   end: datetime, now: datetime) -> dict[int, NoticeFigures]:
    """The notice figures per owning station or supply office (the KPI board's table)."""
    query = select(Outage.unit_id, Outage.kind, Outage.status, Outage.starts_at,
                   Outage.announced_at).where(*_noticed(start, end))
    if unit_ids is not None:
        query = query.where(Outage.unit_id.in_(sorted(unit_ids)))
    grouped: dict[int, list[tuple[str, str, datetime, datetime | None]]] = {}
    for unit_id, kind, status, starts, announced in session.execute(query):
        grouped.setdefault(unit_id, []).append((kind, status, starts, announced))
    return {unit_id: _figures(rows, now) for unit_id, rows in grouped.items()}
