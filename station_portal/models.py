"""Import every model module, so ``Base.metadata`` is complete (Alembic, tests)."""

from station_portal.analytics.models import CrewDay, OrderDay, SnapshotState, StageDay
from station_portal.audit import AuditEvent
from station_portal.auth.models import ApiToken, AuthSession, User, user_clients
from station_portal.db import Base
from station_portal.org.models import (
    Client,
    Crew,
    CrewMember,
    CrewPing,
    IndustrialPark,
    Staff,
    Unit,
)
from station_portal.workorders.models import (
    Attachment,
    ClockPause,
    OrderAssignment,
    ParkVisit,
    StageClock,
    WorkOrder,
    WorkOrderEvent,
)

__all__ = [
    "ApiToken",
    "Attachment",
    "AuditEvent",
    "AuthSession",
    "Base",
    "Client",
    "ClockPause",
    "Crew",
    "CrewDay",
    "CrewMember",
    "CrewPing",
    "IndustrialPark",
    "OrderAssignment",
    "OrderDay",
    "ParkVisit",
    "SnapshotState",
    "Staff",
    "StageClock",
    "StageDay",
    "Unit",
    "User",
    "WorkOrder",
    "WorkOrderEvent",
    "user_clients",
]
