"""Import every model module, so ``Base.metadata`` is complete (Alembic, tests)."""

from station_portal.analytics.models import Briefing, CrewDay, OrderDay, SnapshotState, StageDay
from station_portal.audit import AuditEvent
from station_portal.auth.models import ApiToken, AuthSession, User, user_clients
from station_portal.customer.models import CaseAccess, ContractSignature, ServiceRating
from station_portal.db import Base
from station_portal.gridworks.models import (
    GridWorksFunds,
    GridWorksLink,
    GridWorksMilestone,
    GridWorksProject,
)
from station_portal.hall.models import HallTicket, ServiceHall
from station_portal.jobs.models import JobRun, SchedulerLease
from station_portal.notify.models import Notification, NotificationPreference, SlaAlert
from station_portal.org.models import (
    Client,
    Crew,
    CrewMember,
    CrewPing,
    IndustrialPark,
    Staff,
    Unit,
)
from station_portal.ratelimit import RateCounter
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
    "Briefing",
    "CaseAccess",
    "Client",
    "ClockPause",
    "ContractSignature",
    "Crew",
    "CrewDay",
    "CrewMember",
    "CrewPing",
    "GridWorksFunds",
    "GridWorksLink",
    "GridWorksMilestone",
    "GridWorksProject",
    "HallTicket",
    "IndustrialPark",
    "JobRun",
    "Notification",
    "NotificationPreference",
    "OrderAssignment",
    "OrderDay",
    "ParkVisit",
    "RateCounter",
    "SchedulerLease",
    "ServiceHall",
    "ServiceRating",
    "SlaAlert",
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
