"""Two service calls no other test exercised: cancelling a grid-works project (who may,
scope, stale versions, the audit row, the applications that waited on it) and putting a
crew on or off duty (who may, scope, bad input, the effect)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from station_portal.audit import AuditEvent
from station_portal.db import utcnow
from station_portal.errors import Conflict, Forbidden, NotFound, ValidationFailed
from station_portal.gridworks.models import MILESTONES, GridWorksProject
from station_portal.org.models import Crew, Unit
from station_portal.services import applications, dispatch
from station_portal.services import gridworks as gw
from station_portal.timefmt import local
from station_portal.workorders.models import WorkOrder
from tests.helpers import account, crews_of


def waiting_application(s) -> WorkOrder:
    """A high-voltage application of the head's station (Changyi), accepted and in progress."""
    when = utcnow() - timedelta(hours=3)
    return applications.create_application(s, account(s, "head"), applications.ApplicationInput(
        business_type="new_connection", customer_type="non_resident", load_kw=630.0,
        customer_name="吉林松江机械有限公司", lat=43.8817, lon=126.5744, address="昌邑区松江路8号",
        applied_at=when), accept=True, now=when)


def station_project(s) -> GridWorksProject:
    today = local(utcnow()).date()
    planned = {code: (today + timedelta(days=5 + 10 * i)).isoformat()
               for i, code in enumerate(MILESTONES)}
    station = s.scalar(select(Unit.id).where(Unit.code == "JL-CY-S"))
    return gw.create_project(s, account(s, "manager"), gw.ProjectInput(
        name="昌邑站10kV松江线新建工程", unit_id=station, planned=planned, funds_expected=300))


def waits_on_grid_works(order: WorkOrder) -> bool:
    return any(x.reason == "grid_works" and x.ended_at is None for x in order.pauses)


# -- cancel_project -----------------------------------------------------------------------

def test_cancelling_a_project_closes_it_records_why_and_frees_the_waiting_applications(city):
    with city.write() as s:
        order = waiting_application(s)
        p = station_project(s)
        p = gw.link_application(s, account(s, "head"), p.id, p.version, order.code)
        p = s.get(GridWorksProject, p.project_id)
        assert waits_on_grid_works(order)
        done = gw.cancel_project(s, account(s, "manager"), p.id, p.version, "规划调整，改由他线供电")
        project_id, order_id = done.id, order.id
    with city.read() as s:
        p = s.get(GridWorksProject, project_id)
        assert p.status == "cancelled" and p.closed_at is not None
        assert not waits_on_grid_works(s.get(WorkOrder, order_id))
        audit = s.scalars(select(AuditEvent).where(
            AuditEvent.entity_type == "grid_works_project", AuditEvent.entity_id == project_id,
            AuditEvent.action == "grid_works.cancelled")).all()
        assert len(audit) == 1
        assert audit[0].details["reason"] == "规划调整，改由他线供电"
        assert audit[0].details["status"][1] == "cancelled"
        assert audit[0].actor_id == account(s, "manager").id
    # a cancelled project changes no more
    with city.write() as s, pytest.raises(ValidationFailed, match="cannot change any more"):
        gw.cancel_project(s, account(s, "manager"), project_id, p.version, "again")


def test_only_a_manager_cancels_with_a_reason_and_the_current_version(city):
    with city.write() as s:
        p = station_project(s)
        project_id, version = p.id, p.version
    with city.write() as s:
        with pytest.raises(Forbidden):  # the head links applications, but does not manage works
            gw.cancel_project(s, account(s, "head"), project_id, version, "no")
        with pytest.raises(Forbidden):
            gw.cancel_project(s, account(s, "crew"), project_id, version, "no")
        with pytest.raises(Forbidden):  # a grid manager does not manage grid works
            gw.cancel_project(s, account(s, "gridmgr"), project_id, version, "no")
        with pytest.raises(NotFound):  # a forged id names no project
            gw.cancel_project(s, account(s, "manager"), "99999", version, "no")
        with pytest.raises(ValidationFailed) as refused:
            gw.cancel_project(s, account(s, "manager"), project_id, version, "  ")
        assert "reason" in refused.value.fields
    with city.write() as s:  # someone else changed it meanwhile: the stale version is refused
        gw.record_funds(s, account(s, "manager"), project_id, version, 50, local(utcnow()).date())
    with city.write() as s, pytest.raises(Conflict):
        gw.cancel_project(s, account(s, "manager"), project_id, version, "规划调整")
    with city.read() as s:
        assert s.get(GridWorksProject, project_id).status != "cancelled"


# -- set_on_duty --------------------------------------------------------------------------

def test_a_station_head_puts_an_own_crew_off_and_on_duty(city):
    crew_id = crews_of(city, "JL-CY-S")[0]
    with city.write() as s:
        assert dispatch.set_on_duty(s, account(s, "head"), crew_id, False).on_duty is False
    with city.read() as s:
        assert s.get(Crew, crew_id).on_duty is False
    with city.write() as s:
        assert dispatch.set_on_duty(s, account(s, "head"), str(crew_id), True).on_duty is True
    with city.read() as s:
        assert s.get(Crew, crew_id).on_duty is True


def test_another_stations_crew_a_forged_id_or_a_crew_member_change_nothing(city):
    foreign = crews_of(city, "JL-CH-S")[0]
    with city.read() as s:
        before = s.get(Crew, foreign).on_duty
    with city.write() as s:
        for crew_id in (foreign, "99999", "x", None, "1 OR 1=1"):
            with pytest.raises(ValidationFailed) as refused:
                dispatch.set_on_duty(s, account(s, "head"), crew_id, not before)
            assert refused.value.fields == {"crew_id": "Choose a crew."}
        with pytest.raises(Forbidden):
            dispatch.set_on_duty(s, account(s, "crew"), crews_of(city, "JL-CY-S")[0], False)
    with city.read() as s:
        assert s.get(Crew, foreign).on_duty is before
