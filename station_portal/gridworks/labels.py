"""Display names of the grid-works codes (milestones, project statuses), translated when shown."""

from __future__ import annotations

from station_portal.i18n import LazyString
from station_portal.i18n import _l as _

MILESTONE_NAMES: dict[str, LazyString] = {
    "approval": _("Approval"),
    "funds_released": _("Funds released"),
    "design": _("Design"),
    "construction": _("Construction"),
    "acceptance": _("Acceptance"),
    "energised": _("Energised"),
}

PROJECT_STATUSES: dict[str, LazyString] = {
    "planned": _("Planned"),
    "in_progress": _("In progress"),
    "energised": _("Energised"),
    "cancelled": _("Cancelled"),
}
