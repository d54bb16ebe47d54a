"""Portal roles and what kind of scope each one needs.

| role            | scope                                               |
|-----------------|-----------------------------------------------------|
| admin           | everything                                          |
| company_manager | the city company (all of it), or one county company |
| station_head    | one urban service station (站长)                    |
| grid_manager    | one supply office and its grids, or one grid        |
| account_manager | a list of clients (客户经理)                         |
| crew            | own crew and orders (抢修/外勤人员)                  |
| clerk           | one urban service station or supply office: its halls (营业员) |
"""

from __future__ import annotations

from enum import StrEnum

from station_portal.org.models import UnitKind


class Role(StrEnum):
    ADMIN = "admin"
    COMPANY_MANAGER = "company_manager"
    STATION_HEAD = "station_head"
    GRID_MANAGER = "grid_manager"
    ACCOUNT_MANAGER = "account_manager"
    CREW = "crew"
    CLERK = "clerk"


ALL_STAFF = frozenset(Role)
ADMIN_ONLY = frozenset({Role.ADMIN})
MANAGERS = frozenset({Role.ADMIN, Role.COMPANY_MANAGER})

# Unit kinds a role's scope unit may be; an empty tuple means "no unit scope".
SCOPE_UNIT_KINDS: dict[Role, tuple[UnitKind, ...]] = {
    Role.ADMIN: (),
    Role.COMPANY_MANAGER: (UnitKind.CITY_COMPANY, UnitKind.COUNTY_COMPANY),
    Role.STATION_HEAD: (UnitKind.SERVICE_STATION,),
    Role.GRID_MANAGER: (UnitKind.SUPPLY_OFFICE, UnitKind.GRID),
    Role.ACCOUNT_MANAGER: (),
    Role.CREW: (),
    Role.CLERK: (UnitKind.SERVICE_STATION, UnitKind.SUPPLY_OFFICE),
}
# Roles that cannot work without a scope unit. A company manager names the city
# company for the whole company: an empty field never widens anyone's view.
UNIT_SCOPE_REQUIRED = frozenset({Role.COMPANY_MANAGER, Role.STATION_HEAD, Role.GRID_MANAGER,
                                 Role.CLERK})
# Roles that must be linked to a staff member.
STAFF_LINK_REQUIRED = frozenset({Role.CREW, Role.ACCOUNT_MANAGER})


def parse_role(value: object) -> Role | None:
    try:
        return Role(str(value))
    except ValueError:
        return None
