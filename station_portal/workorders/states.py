"""The repair life cycle as a state machine (pure: no database).

reported → dispatched → accepted → en_route → on_site → restored → closed,
with cancelled (from any open state) and transferred (handed to another unit,
which dispatches it again). Each step stamps its time.
"""

from __future__ import annotations

from dataclasses import dataclass

from station_portal.workorders.models import RepairStatus as S

OPEN_REPAIR = frozenset({S.REPORTED, S.TRANSFERRED, S.DISPATCHED, S.ACCEPTED, S.EN_ROUTE,
                         S.ON_SITE, S.RESTORED})
# A repair with its lead crew at work, until power is restored: a support crew may join.
OPEN_FOR_SUPPORT = frozenset({S.DISPATCHED, S.ACCEPTED, S.EN_ROUTE, S.ON_SITE})
# A repair whose lead crew has not set off yet: it may be dispatched to another crew.
REASSIGNABLE = frozenset({S.DISPATCHED, S.ACCEPTED})


@dataclass(frozen=True)
class Step:
    action: str
    allowed_from: frozenset[S]
    to: S
    stamp: str | None  # the WorkOrder column that records the time


REPAIR_STEPS = {
    step.action: step for step in (
        Step("dispatch", frozenset({S.REPORTED, S.TRANSFERRED, S.DISPATCHED, S.ACCEPTED}),
             S.DISPATCHED, "dispatched_at"),
        Step("accept", frozenset({S.DISPATCHED}), S.ACCEPTED, "accepted_at"),
        Step("depart", frozenset({S.ACCEPTED}), S.EN_ROUTE, "en_route_at"),
        Step("arrive", frozenset({S.EN_ROUTE}), S.ON_SITE, "on_site_at"),
        Step("restore", frozenset({S.ON_SITE}), S.RESTORED, "restored_at"),
        Step("close", frozenset({S.RESTORED}), S.CLOSED, "closed_at"),
        Step("cancel", OPEN_REPAIR - {S.RESTORED}, S.CANCELLED, "closed_at"),
        Step("transfer", frozenset({S.REPORTED, S.TRANSFERRED, S.DISPATCHED, S.ACCEPTED}),
             S.TRANSFERRED, None),
    )
}
# Who may take each step (actions of the responsibility matrix).
REPAIR_STEP_ACTION = {
    "dispatch": "dispatch_repair", "transfer": "dispatch_repair", "cancel": "dispatch_repair",
    "close": "dispatch_repair", "accept": "report_field_status", "depart": "report_field_status",
    "arrive": "report_field_status", "restore": "report_field_status",
}
# The stamps a closed repair must carry, in order.
CLOSED_STAMPS = ("created_at", "dispatched_at", "accepted_at", "en_route_at", "on_site_at",
                 "restored_at", "closed_at")


class InvalidTransition(ValueError):
    def __init__(self, status: str, action: str) -> None:
        super().__init__(f"cannot {action} a repair that is {status}")
        self.status = status
        self.action = action


def repair_step(status: str, action: str) -> Step:
    """The step ``action`` takes from ``status``, or :class:`InvalidTransition`."""
    step = REPAIR_STEPS.get(action)
    if step is None or status not in step.allowed_from:
        raise InvalidTransition(status, action)
    return step


def allowed_repair_actions(status: str) -> list[str]:
    return [a for a, step in REPAIR_STEPS.items() if status in step.allowed_from]
