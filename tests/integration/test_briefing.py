"""The weekly briefing: figures that match the work-order tables, briefings made once, files
that open and hold those figures, and nothing outside the caller's scope."""

from __future__ import annotations

import base64
import io
import json
import re
import zlib
from datetime import UTC, date, datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from station_portal.analytics.briefing import (
    COMPANY,
    BriefingError,
    briefing_choices,
    briefing_units,
    find_briefing,
    last_full_week,
    make_briefings,
    week_bounds,
    week_figures,
)
from station_portal.analytics.briefing_files import briefing_pdf, briefing_xlsx, sections
from station_portal.analytics.models import Briefing
from station_portal.analytics.snapshots import refresh
from station_portal.auth.models import User
from station_portal.auth.scope import scope_for
from station_portal.db import utcnow
from station_portal.org.models import Unit, UnitKind
from station_portal.sla.stages import UTILITY, stage_book
from station_portal.timefmt import SHANGHAI
from station_portal.workorders.models import StageClock, WorkOrder
from tests.dash_calls import call, dash_app_of, text_of


def _week() -> date:
    """A finished week with history on both sides (the demo year ends today)."""
    return last_full_week(utcnow()) - timedelta(days=14)


def _subtree(session, unit_id: int | None) -> set[int]:
    units = session.execute(select(Unit.id, Unit.path)).all()
    if unit_id is None:
        return {u for u, _p in units}
    root = dict(units)[unit_id]
    return {u for u, path in units if path.startswith(root)}


def _direct(session, unit_id: int | None, week: date) -> dict:
    """The week's figures counted straight from work_orders and stage_clocks, in Python."""
    units = _subtree(session, unit_id)
    start, end = week_bounds(week)
    orders = [o for o in session.execute(select(
        WorkOrder.id, WorkOrder.unit_id, WorkOrder.kind, WorkOrder.created_at,
        WorkOrder.closed_at)).all() if o.unit_id in units]
    kinds = {o.id: o.kind for o in orders}
    clocks = [c for c in session.execute(select(
        StageClock.work_order_id, StageClock.stage, StageClock.started_at, StageClock.ended_at,
        StageClock.due_at, StageClock.status)).all() if c.work_order_id in kinds]
    out: dict = {"received": {}, "closed": {}, "open": {}, "overdue": {}}
    overdue_orders = {c.work_order_id for c in clocks
                      if c.started_at is not None and c.started_at < end
                      and (c.ended_at is None or c.ended_at >= end)
                      and c.due_at is not None and c.due_at <= end}
    for o in orders:
        if start <= o.created_at < end:
            out["received"][o.kind] = out["received"].get(o.kind, 0) + 1
        if o.closed_at is not None and start <= o.closed_at < end:
            out["closed"][o.kind] = out["closed"].get(o.kind, 0) + 1
        if o.created_at < end and (o.closed_at is None or o.closed_at >= end):
            out["open"][o.kind] = out["open"].get(o.kind, 0) + 1
            if o.id in overdue_orders:
                out["overdue"][o.kind] = out["overdue"].get(o.kind, 0) + 1
    utility = {code for code, s in stage_book().stages.items() if s.holder == UTILITY}

    def ended(c) -> bool:
        return (c.started_at is not None and c.ended_at is not None
                and start <= c.ended_at < end and c.status != "cancelled"
                and kinds[c.work_order_id] != "park_case")

    for key, keep in (("arrival", lambda c: c.stage == "arrival"),
                      ("restoration", lambda c: c.stage == "restoration"),
                      ("stages", lambda c: kinds[c.work_order_id] == "application"
                       and c.stage in utility)):
        done = [c for c in clocks if ended(c) and keep(c)]
        timed = [c for c in done if c.due_at is not None]
        out[key] = (len(done), len(timed), sum(1 for c in timed if c.ended_at > c.due_at))
    out["late_orders"] = {
        c.work_order_id for c in clocks
        if c.started_at is not None and c.due_at is not None and c.status != "cancelled"
        and ((start <= c.due_at < end and (c.ended_at is None or c.ended_at > c.due_at))
             or (c.ended_at is not None and start <= c.ended_at < end
                 and c.ended_at > c.due_at))}
    return out


def _station(session) -> int:
    """The station with the most orders (the demo head's station is small)."""
    return session.execute(
        select(Unit.id).join(WorkOrder, WorkOrder.unit_id == Unit.id)
        .where(Unit.kind.in_([UnitKind.SERVICE_STATION, UnitKind.SUPPLY_OFFICE]))
        .group_by(Unit.id).order_by(func.count(WorkOrder.id).desc())).scalars().first() \
        or briefing_units(session)[0]


def _check(figures: dict, direct: dict) -> None:
    for kind in ("repair", "application", "park_case"):
        got = figures["orders"][kind]
        assert got["received"] == direct["received"].get(kind, 0), kind
        assert got["closed"] == direct["closed"].get(kind, 0), kind
        assert got["open"] == direct["open"].get(kind, 0), kind
        assert got["overdue"] == direct["overdue"].get(kind, 0), kind
    assert figures["orders"]["all"]["received"] == sum(direct["received"].values())
    for key, part in (("arrival", figures["repairs"]["arrival"]),
                      ("restoration", figures["repairs"]["restoration"]),
                      ("stages", figures["applications"]["stages"])):
        done, timed, late = direct[key]
        assert (part["done"], part["timed"], part["late"]) == (done, timed, late), key
        assert part["on_time"] == (pytest.approx((timed - late) / timed, abs=1e-4)
                                   if timed else None)
    assert figures["late"]["count"] == len(direct["late_orders"])
    assert {r["order_id"] for r in figures["late"]["rows"]} <= direct["late_orders"]


def test_the_weeks_figures_match_the_work_order_tables(db):
    now, week = utcnow(), _week()
    with db.read() as s:
        station = _station(s)
        live = {u: week_figures(s, u, week, now) for u in (None, station)}
    with db.write() as s:  # the same figures when the finished days come from the snapshots
        refresh(s, now)
    with db.read() as s:
        for unit_id in (None, station):
            figures = week_figures(s, unit_id, week, now)
            assert json.loads(json.dumps(figures)) == figures  # plain JSON
            assert figures["orders"] == live[unit_id]["orders"]
            assert figures["trend"] == live[unit_id]["trend"]
            _check(figures, _direct(s, unit_id, week))
            # the trend ends with the week itself; each week counted like the week
            assert [w["week_start"] for w in figures["trend"]] == [
                (week - timedelta(days=7 * k)).isoformat() for k in range(4, -1, -1)]
            for w in figures["trend"]:
                earlier = _direct(s, unit_id, date.fromisoformat(w["week_start"]))
                assert w["received"] == sum(earlier["received"].values())
                assert w["closed"] == sum(earlier["closed"].values())
        company = week_figures(s, None, week, now)
        assert company["unit"] is None and company["orders"]["all"]["received"] > 0
        names = {r["unit_id"]: r for r in company["league"]}
        assert set(names) == set(briefing_units(s))
        row = names[station]
        direct = _direct(s, station, week)
        assert row["received"] == sum(direct["received"].values())
        assert row["closed"] == sum(direct["closed"].values())
        assert row["overdue"] == sum(direct["overdue"].values())
        assert [r["rank"] for r in company["league"]] == list(range(1, len(names) + 1))
        unit = week_figures(s, station, week, now)
        assert unit["unit"]["id"] == station and unit["unit"]["name_zh"] and unit["league"] is None


def test_late_cases_name_their_holder_and_how_late(db):
    now = utcnow()
    with db.read() as s:
        for k in range(8):  # a week with late cases
            figures = week_figures(s, None, _week() - timedelta(days=7 * k), now)
            if figures["late"]["rows"]:
                break
    rows = figures["late"]["rows"]
    assert rows, "no late case in eight weeks of demo history"
    assert figures["late"]["count"] >= len(rows)
    assert [r["late_hours"] for r in rows] == sorted((r["late_hours"] for r in rows),
                                                     reverse=True)
    for r in rows:
        assert r["code"] and r["late"] >= 0 and r["late_unit"] in ("minutes", "workdays", "days")
        assert r["state"] in ("finished_late", "overdue")
        if r["holder"]["kind"] == "unit":
            assert r["holder"]["name_zh"] and r["holder"]["name_en"]


def test_last_full_week_is_the_monday_of_the_last_finished_local_week():
    def at(local: str) -> datetime:
        return datetime.fromisoformat(local).replace(tzinfo=SHANGHAI).astimezone(UTC)

    assert last_full_week(at("2026-11-25 10:00")) == date(2026, 11, 16)
    assert last_full_week(at("2026-11-23 00:30")) == date(2026, 11, 16)  # Sunday in UTC
    assert last_full_week(at("2026-11-22 23:59")) == date(2026, 11, 9)
    start, end = week_bounds(date(2026, 11, 16))
    assert start == at("2026-11-16 00:00") and end - start == timedelta(days=7)


def test_briefings_are_made_once(db):
    now, week = utcnow(), _week() - timedelta(days=7)
    with db.write() as s:
        first = make_briefings(s, week, now)
        expected = 1 + len(briefing_units(s))
        assert len(first) == expected
        assert sum(1 for b in first if b.unit_id is None) == 1
        ids = sorted(b.id for b in first)
        figures = {b.id: b.figures for b in first}
    with db.write() as s:
        again = make_briefings(s, week, now + timedelta(hours=1))
        assert sorted(b.id for b in again) == ids
        assert {b.id: b.figures for b in again} == figures  # frozen: not made again
        assert s.scalar(select(func.count(Briefing.id)).where(Briefing.week_start == week)) \
            == expected
    with db.write() as s, pytest.raises(ValueError):
        make_briefings(s, last_full_week(now) + timedelta(days=7), now)  # not over yet
    with db.write() as s, pytest.raises(ValueError):
        make_briefings(s, week + timedelta(days=1), now)  # not a Monday


@pytest.fixture(scope="module")
def made(db) -> date:
    week = _week()
    with db.write() as s:
        make_briefings(s, week, utcnow())
    return week


def _scope(session, username: str):
    return scope_for(session, session.scalar(select(User).where(User.username == username)))


def test_a_briefing_is_refused_outside_the_callers_scope(db, made):
    with db.read() as s:
        head = _scope(s, "head")
        manager = _scope(s, "manager")
        own = head.root_unit_ids[0]
        other = next(u for u in briefing_units(s) if u != own)
        assert find_briefing(s, head, made.isoformat(), str(own)).unit_id == own
        assert find_briefing(s, head, made.isoformat(), own).unit_id == own
        assert find_briefing(s, manager, made.isoformat(), COMPANY).unit_id is None
        assert find_briefing(s, manager, made.isoformat(), str(other)).unit_id == other
        for unit in (COMPANY, str(other), other, -1, "1 OR 1=1", True, 2**40, None, [own],
                     {"id": own}):
            with pytest.raises(BriefingError, match="unit"):
                find_briefing(s, head, made.isoformat(), unit)
        for week in ("2026-02-30", (made + timedelta(days=1)).isoformat(), "x" * 500, 20261116,
                     None, ["2026-11-16"], "1999-12-27", "9999-12-27"):
            with pytest.raises(BriefingError, match="week"):
                find_briefing(s, manager, week, COMPANY)
        with pytest.raises(BriefingError, match="missing"):
            find_briefing(s, manager, "2001-01-01", COMPANY)
        assert [c.unit_id for c in briefing_choices(s, head)] == [own]
        choices = briefing_choices(s, manager)
        assert choices[0].unit_id is None and len(choices) == 1 + len(briefing_units(s))


# -- the files ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def company(db, made) -> dict:
    with db.read() as s:
        return s.scalar(select(Briefing).where(Briefing.week_start == made,
                                               Briefing.unit_key == 0)).figures


def _pdf_text(pdf: bytes) -> str:
    """The page streams decoded (reportlab writes them ASCII85 over Flate)."""
    out = []
    for stream in re.findall(rb"stream\r?\n(.*?)endstream", pdf, re.S):
        data = stream.strip()
        try:
            if data.endswith(b"~>"):
                data = base64.a85decode(data[:-2].replace(b"\n", b""), adobe=False)
            out.append(zlib.decompress(data).decode("latin-1"))
        except (ValueError, zlib.error):
            out.append(stream.decode("latin-1"))
    return "\n".join(out)


def test_the_pdf_is_a_pdf_with_the_briefing_in_it(company):
    english = briefing_pdf(company, "en")
    assert english.startswith(b"%PDF") and english.rstrip().endswith(b"%%EOF")
    text = _pdf_text(english)
    assert "Weekly briefing" in text
    assert "Whole company" in text
    for row in company["late"]["rows"][:3]:
        assert row["code"] in text
    league_name = company["league"][0]["name_en"]
    assert league_name.split()[0] in text
    chinese = briefing_pdf(company, "zh_CN")
    assert chinese.startswith(b"%PDF") and b"STSong-Light" in chinese
    assert len(chinese) > 3000


def test_the_workbook_holds_the_figures_and_no_formula(company):
    book = load_workbook(io.BytesIO(briefing_xlsx(company, "en")))
    parts = sections(company, "en")
    assert len(book.sheetnames) == len(parts) == 6
    summary = book[book.sheetnames[0]]
    values = {row[0]: row[1] for row in summary.iter_rows(min_row=2, values_only=True)}
    assert values["Orders received"] == company["orders"]["all"]["received"]
    assert values["Overdue at the week's end"] == company["orders"]["all"]["overdue"]
    assert values["Late cases"] == company["late"]["count"]
    late = book[book.sheetnames[4]]
    codes = [row[0] for row in late.iter_rows(min_row=2, values_only=True) if row[0]]
    assert codes[:len(company["late"]["rows"])] == [r["code"] for r in company["late"]["rows"]]
    league = book[book.sheetnames[5]]
    assert [row[1] for row in league.iter_rows(min_row=2, values_only=True)] == [
        r["name_en"] for r in company["league"]]
    for sheet in book.worksheets:
        assert all(cell.font.b for cell in sheet[1] if cell.value is not None)
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)


def test_texts_that_look_like_formulas_stay_texts(company):
    forged = json.loads(json.dumps(company))
    forged["league"][0]["name_en"] = '=HYPERLINK("http://evil","x")'
    forged["league"][1]["name_en"] = "+1+1"
    book = load_workbook(io.BytesIO(briefing_xlsx(forged, "en")))
    league = book[book.sheetnames[5]]
    names = [row[1].value for row in league.iter_rows(min_row=2, max_row=3)]
    assert names == ["'" + forged["league"][0]["name_en"], "'+1+1"]
    assert all(row[1].data_type == "s" for row in league.iter_rows(min_row=2, max_row=3))


def test_the_page_builders_render_a_briefing(company):
    from station_portal.pages import briefings as page

    body = page.briefing_body(company, "en")
    assert "Whole company" in json.dumps(body.to_plotly_json(), default=str)
    figure = page.trend_figure(company)
    assert len(figure["data"]) == 4 and len(figure["data"][0]["x"]) == 5
    options = page.week_options([date(2026, 11, 16), date(2026, 11, 9)])
    assert page.preselect(options, "2026-11-09") == "2026-11-09"
    assert page.preselect(options, "2026-11-10") == "2026-11-16"  # not a choice: the newest
    assert page.preselect(options, ["x"]) == "2026-11-16" and page.preselect([], "x") is None
    zh = json.dumps(page.briefing_body(company, "zh_CN").to_plotly_json(), default=str,
                    ensure_ascii=False)
    assert company["league"][0]["name_zh"] in zh


# -- through the app ------------------------------------------------------------------------
def test_the_page_is_registered_and_opens_for_a_head(app, as_user):
    callbacks = dash_app_of(app).callback_map
    assert any("brief-body.children" in key for key in callbacks)
    assert any("brief-download-pdf.data" in key for key in callbacks)
    page = as_user("head").get("/briefings")
    assert page.status_code == 200


def test_the_page_refuses_a_unit_outside_the_scope(app, as_user, db, made):
    with db.read() as s:
        head = _scope(s, "head")
        own = head.root_unit_ids[0]
        other = next(u for u in briefing_units(s) if u != own)
    client = as_user("head")
    # a link may name the week and unit; a unit outside the scope is not picked
    options = call(client, app, "brief-week", "options",
                   [{"locale": "en", "week": made.isoformat(), "unit": COMPANY}])
    assert options.status_code == 200
    answer = options.json["response"]
    assert [o["value"] for o in answer["brief-unit"]["options"]] == [str(own)]
    assert answer["brief-unit"]["value"] == str(own)
    assert answer["brief-week"]["value"] == made.isoformat()
    for unit in (COMPANY, str(other), "1 OR 1=1", [own]):
        response = call(client, app, "brief-body", "children", [made.isoformat(), unit])
        assert response.status_code == 200
        assert response.json["response"]["brief-body"]["children"] is None
        assert "not in your area" in text_of(response)
        download = call(client, app, "brief-download-pdf", "data", [1],
                        [made.isoformat(), unit])
        assert download.status_code == 200
        assert "brief-download-pdf" not in download.json["response"]
    for week in ("2026-13-01", {"a": 1}, "9" * 300):
        response = call(client, app, "brief-body", "children", [week, str(own)])
        assert response.status_code == 200 and "Please pick one of the weeks" in text_of(response)
    mine = call(client, app, "brief-body", "children", [made.isoformat(), str(own)])
    assert mine.status_code == 200 and "Weekly briefing" in text_of(mine)
    pdf = call(client, app, "brief-download-pdf", "data", [1], [made.isoformat(), str(own)])
    assert pdf.json["response"]["brief-download-pdf"]["data"]["filename"].endswith(".pdf")
    for user in ("crew", "account"):
        assert call(as_user(user), app, "brief-body", "children",
                    [made.isoformat(), str(own)]).status_code == 403
