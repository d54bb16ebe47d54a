"""Reading what the SLA watch recorded: the warnings and escalations of one order.

The order page shows them beside the order (``workorders.queries.order_detail``); they
are read here because the watch's ledger (``SlaAlert``) belongs to notify, which sits
above work orders. Must not import Flask or Dash.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from station_portal.notify.models import SlaAlert
from station_portal.workorders.models import StageClock


class Alert(NamedTuple):
    stage: str
    level: int  # notify.escalation's WARNING … COMPANY
    fired_at: datetime
    recipients: int  # 0: recorded without a message


def order_alerts(session: Session, order_id: int) -> list[Alert]:
    """The levels fired on the order's clocks, oldest first. The caller checks scope."""
    return [Alert(*row) for row in session.execute(
        select(StageClock.stage, SlaAlert.level, SlaAlert.fired_at, SlaAlert.recipients)
        .join(StageClock, StageClock.id == SlaAlert.clock_id)
        .where(SlaAlert.work_order_id == order_id)
        .order_by(SlaAlert.fired_at, SlaAlert.level))]
