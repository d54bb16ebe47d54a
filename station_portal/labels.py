"""Display names of the portal's codes (roles, unit kinds, positions, skills …).

Each is a lazy message, translated when shown.
"""

from __future__ import annotations

from station_portal.auth.roles import Role
from station_portal.i18n import LazyString
from station_portal.i18n import _l as _
from station_portal.org.models import AreaType, Skill, StaffPosition, UnitKind

ROLES: dict[str, LazyString] = {
    Role.ADMIN: _("Administrator"),
    Role.COMPANY_MANAGER: _("Company manager"),
    Role.STATION_HEAD: _("Station head"),
    Role.GRID_MANAGER: _("Grid manager"),
    Role.ACCOUNT_MANAGER: _("Account manager"),
    Role.CREW: _("Crew member"),
}

UNIT_KINDS: dict[str, LazyString] = {
    UnitKind.CITY_COMPANY: _("City company"),
    UnitKind.COUNTY_COMPANY: _("County company"),
    UnitKind.SERVICE_STATION: _("Urban service station"),
    UnitKind.OFFICE_GROUP: _("Office services group"),
    UnitKind.LV_REPAIR_GROUP: _("Low-voltage repair group"),
    UnitKind.FIELD_GROUP: _("Field services group"),
    UnitKind.SUPPLY_OFFICE: _("Rural supply office"),
    UnitKind.GRID: _("Grid unit"),
    UnitKind.METERING_TEAM: _("Metering team"),
}

AREA_TYPES: dict[str, LazyString] = {
    AreaType.URBAN: _("Urban"),
    AreaType.RURAL: _("Rural"),
    AreaType.REMOTE: _("Remote"),
}

POSITIONS: dict[str, LazyString] = {
    StaffPosition.COMPANY_MANAGER: _("Company manager"),
    StaffPosition.COUNTY_MANAGER: _("County company manager"),
    StaffPosition.STATION_HEAD: _("Station head"),
    StaffPosition.GROUP_LEADER: _("Group leader"),
    StaffPosition.OFFICE_CLERK: _("Office clerk"),
    StaffPosition.REPAIR_ELECTRICIAN: _("Repair electrician"),
    StaffPosition.FIELD_TECHNICIAN: _("Field technician"),
    StaffPosition.OFFICE_HEAD: _("Supply office head"),
    StaffPosition.GRID_MANAGER: _("Grid manager"),
    StaffPosition.AREA_MANAGER: _("Platform-area manager"),
    StaffPosition.ACCOUNT_MANAGER: _("Account manager"),
    StaffPosition.METER_TECHNICIAN: _("Metering technician"),
}

SKILLS: dict[str, LazyString] = {
    Skill.LV_LINE: _("LV lines"),
    Skill.HV_LINE: _("10 kV lines"),
    Skill.CABLE: _("Cables"),
    Skill.TRANSFORMER: _("Transformers"),
    Skill.METERING: _("Metering"),
    Skill.LIVE_WORKING: _("Live working"),
    Skill.CUSTOMER_INTERNAL: _("Customer installations"),
    Skill.INSPECTION: _("Electrical inspection"),
    Skill.DRIVING: _("Driving"),
}

CLIENT_KINDS: dict[str, LazyString] = {
    "vip": _("Important customer"),
    "park": _("Park enterprise"),
}

INDUSTRIES: dict[str, LazyString] = {
    "electronics": _("Electronics"),
    "pharma": _("Pharmaceuticals"),
    "machinery": _("Machinery"),
    "new_materials": _("New materials"),
    "chemicals": _("Chemicals"),
    "logistics": _("Logistics"),
    "food": _("Food"),
    "hospital": _("Hospital"),
    "water": _("Water supply"),
    "gas": _("Gas supply"),
    "data_centre": _("Data centre"),
    "tourism": _("Tourism"),
    "transport": _("Transport"),
}

AUDIT_ACTIONS: dict[str, LazyString] = {
    "sign_in": _("Signed in"),
    "sign_in_failed": _("Sign-in failed"),
    "sign_in_locked": _("Sign-in refused (locked)"),
    "sign_out": _("Signed out"),
    "session_expired": _("Session ended by timeout"),
    "user_created": _("Account created"),
    "user_updated": _("Account changed"),
    "user_enabled": _("Account enabled"),
    "user_disabled": _("Account disabled"),
    "password_reset": _("Password reset"),
    "password_changed": _("Password changed"),
    "locale_changed": _("Language changed"),
}


def label(table: dict[str, LazyString], code: str | None) -> str:
    """The translated name of ``code``, or the code itself if it has none."""
    if code is None:
        return ""
    text = table.get(code)
    return str(text) if text is not None else code
