"""Grid works without a database: milestone arithmetic and the figures built from frames."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd

from station_portal.gridworks.dashboard import GridWorksBoard
from station_portal.gridworks.models import MILESTONES
from station_portal.gridworks.schedule import progress, push_later
from station_portal.pages import gridworks_charts as charts
from station_portal.pages.charts import is_empty
from station_portal.pages.gridworks import milestone_figure

TODAY = date(2026, 11, 27)


@dataclass
class Milestone:
    code: str
    planned_on: date
    actual_on: date | None = None
    baseline_on: date | None = None

    def __post_init__(self):
        self.baseline_on = self.baseline_on or self.planned_on


def plan(offsets, done=0):
    return [Milestone(c, TODAY + timedelta(days=o), TODAY - timedelta(days=30 - i) if i < done
                      else None) for i, (c, o) in enumerate(zip(MILESTONES, offsets, strict=True))]


def test_a_project_is_late_from_the_day_after_an_undone_milestone_was_planned():
    on_the_day = progress(plan([0, 10, 20, 30, 40, 50]), TODAY)
    assert not on_the_day.late and on_the_day.next_code == "approval"
    behind = progress(plan([-12, -3, 20, 30, 40, 50], done=0), TODAY)
    assert behind.late_by_days == 12 and behind.next_planned_on == TODAY - timedelta(days=12)
    assert behind.expected_energise_on == TODAY + timedelta(days=50)


def test_done_milestones_do_not_make_a_project_late_and_energised_has_no_next():
    state = progress(plan([-40, -30, 5, 30, 40, 50], done=2), TODAY)
    assert not state.late and state.next_code == "design"
    finished = progress(plan([-6, -5, -4, -3, -2, -1], done=6), TODAY)
    assert finished.next_code is None and finished.expected_energise_on == TODAY - timedelta(days=25)


def test_a_slip_pushes_later_open_milestones_only_as_far_as_needed():
    days = [TODAY + timedelta(days=d) for d in (0, 10, 20, 30, 40, 50)]
    moved = push_later(days, 1, TODAY + timedelta(days=33), [True, False, False, False, False, False])
    assert [(d - TODAY).days for d in moved] == [0, 33, 33, 33, 40, 50]
    earlier = push_later(days, 2, TODAY + timedelta(days=15), [False] * 6)
    assert [(d - TODAY).days for d in earlier] == [0, 10, 15, 30, 40, 50]


def test_the_milestone_chart_marks_late_plans_red_and_shows_actuals_and_first_plans():
    milestones = plan([-40, -5, 10, 30, 40, 50], done=1)
    milestones[2].baseline_on = TODAY + timedelta(days=3)
    fig = milestone_figure(milestones, TODAY)
    json.dumps(fig)
    planned, actual, first = fig["data"]
    assert planned["marker"]["color"][1] == "#d62728" and planned["marker"]["color"][2] != "#d62728"
    assert len(actual["y"]) == 1 and len(first["y"]) == 1
    assert fig["layout"]["shapes"][0]["x0"] == TODAY.isoformat()
    assert is_empty(milestone_figure([], TODAY))


def board(rows) -> GridWorksBoard:
    projects = pd.DataFrame(rows, columns=["id", "code", "name", "unit", "expected", "arrived",
                                           "next_milestone", "overdue_since", "late_by",
                                           "waiting", "longest", "codes"])
    late = projects[projects["late_by"] > 0]
    funds = projects.groupby("unit", as_index=False)[["expected", "arrived"]].sum()
    return GridWorksBoard(len(projects), len(late), int(projects["waiting"].sum()),
                          float(projects["longest"].sum()), projects, late, funds)


def test_the_dashboard_section_shows_waiting_applications_funds_and_late_projects():
    b = board([(1, "GW1", "线路工程", "昌邑站", 300.0, 120.0, "design", TODAY - timedelta(days=4),
                4, 2, 9.5, "A1, A2"),
               (2, "GW2", "台区工程", "船营站", 100.0, 0.0, "approval", None, 0, 1, 2.0, "A3")])
    waiting = charts.waiting_figure(b)
    assert waiting["data"][0]["y"] == ["GW2", "GW1"] and waiting["data"][0]["x"] == [1, 2]
    assert waiting["data"][0]["marker"]["color"] == ["#1f77b4", "#d62728"]
    assert "2 open projects, 1 late" in waiting["layout"]["title"]["text"]
    funds = charts.funds_figure(b.funds)
    assert sorted(funds["data"][0]["y"]) == [100.0, 300.0] and sum(funds["data"][1]["y"]) == 120.0
    table = charts.late_table(b.late)
    assert [r["code"] for r in table.rows] == ["GW1"]
    assert table.rows[0]["applications"] == "A1, A2" and table.rows[0]["late_by"] == 4
    json.dumps([waiting, funds, table.rows])


def test_an_area_without_projects_says_so_instead_of_drawing_nothing():
    empty = board([])
    assert is_empty(charts.waiting_figure(empty)) and is_empty(charts.funds_figure(empty.funds))
    assert charts.late_table(empty.late).rows == []
    assert "No grid works project" in json.dumps(charts.waiting_figure(empty))
