"""Import every model module, so ``Base.metadata`` is complete (Alembic, tests)."""

from station_portal.audit import AuditEvent
from station_portal.auth.models import AuthSession, User, user_clients
from station_portal.db import Base
from station_portal.org.models import Client, Crew, CrewMember, IndustrialPark, Staff, Unit
from station_portal.workorders.models import (
    ClockPause,
    ParkVisit,
    StageClock,
    WorkOrder,
    WorkOrderEvent,
)

__all__ = [
    "AuditEvent",
    "AuthSession",
    "Base",
    "Client",
    "ClockPause",
    "Crew",
    "CrewMember",
    "IndustrialPark",
    "ParkVisit",
    "Staff",
    "StageClock",
    "Unit",
    "User",
    "WorkOrder",
    "WorkOrderEvent",
    "user_clients",
]
