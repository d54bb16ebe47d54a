"""The responsibility matrix (权力清单), loaded from ``data/responsibility_matrix.toml``.

It answers two questions: which unit type handles a business (as lead 主办 or
support 配合), and which role may take an action. Services call
:func:`require_action` before they change anything.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from station_portal.datafiles import DataFile, read_text
from station_portal.i18n import BilingualName
from station_portal.org.models import UnitKind

LEAD = "lead"
SUPPORT = "support"
# Actions that only an admin may ever hold, whatever the data file says.
ADMIN_RESERVED_ACTIONS = frozenset({"manage_users", "manage_rules"})
_ROLES = ("admin", "company_manager", "station_head", "grid_manager", "account_manager", "crew",
          "clerk")


class MatrixError(ValueError):
    """The matrix file is malformed; the message names the entry."""


class ActionNotPermitted(PermissionError):
    def __init__(self, role: str, action: str) -> None:
        super().__init__(f"role {role!r} may not {action!r}")
        self.role = role
        self.action = action


@dataclass(frozen=True)
class Business(BilingualName):
    code: str
    name_zh: str
    name_en: str
    lead: tuple[str, ...]
    support: tuple[str, ...]


    def part_of(self, unit_kind: str) -> str | None:
        """``"lead"``, ``"support"`` or None for a unit kind."""
        if unit_kind in self.lead:
            return LEAD
        if unit_kind in self.support:
            return SUPPORT
        return None


@dataclass(frozen=True)
class Action(BilingualName):
    code: str
    name_zh: str
    name_en: str
    roles: frozenset[str]



@dataclass(frozen=True)
class ResponsibilityMatrix:
    version: str
    source: str
    businesses: tuple[Business, ...]
    actions: tuple[Action, ...]
    source_zh: str = ""

    def source_in(self, locale: str) -> str:
        """Where the matrix comes from, in the reader's language when the file gives it."""
        return self.source_zh if locale.startswith("zh") and self.source_zh else self.source

    def business(self, code: str) -> Business:
        for item in self.businesses:
            if item.code == code:
                return item
        raise KeyError(code)

    def action(self, code: str) -> Action:
        for item in self.actions:
            if item.code == code:
                return item
        raise KeyError(code)

    def lead_kinds(self, business: str) -> tuple[str, ...]:
        return self.business(business).lead

    def may(self, role: str, action: str) -> bool:
        try:
            return role in self.action(action).roles
        except KeyError:
            return False  # an action nobody declared is nobody's

    def require(self, role: str, action: str) -> None:
        if not self.may(role, action):
            raise ActionNotPermitted(role, action)


def _strings(entry: dict, key: str, where: str) -> tuple[str, ...]:
    value = entry.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise MatrixError(f"{where}: '{key}' must be a list of strings")
    return tuple(value)


def parse_matrix(text: str, origin: str = "<matrix>") -> ResponsibilityMatrix:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise MatrixError(f"{origin}: {exc}") from exc
    kinds = {k.value for k in UnitKind}
    businesses, actions, seen = [], [], set()
    for i, entry in enumerate(raw.get("business", [])):
        where = f"{origin}: business #{i + 1} ({entry.get('code', '?')})"
        for key in ("code", "name_zh", "name_en"):
            if not isinstance(entry.get(key), str) or not entry[key]:
                raise MatrixError(f"{where}: '{key}' is required")
        lead, support = _strings(entry, "lead", where), _strings(entry, "support", where)
        unknown = (set(lead) | set(support)) - kinds
        if unknown:
            raise MatrixError(f"{where}: unknown unit kinds {sorted(unknown)}")
        if not lead:
            raise MatrixError(f"{where}: a business needs at least one lead unit kind")
        if set(lead) & set(support):
            raise MatrixError(f"{where}: a unit kind cannot both lead and support")
        if entry["code"] in seen:
            raise MatrixError(f"{where}: duplicate code")
        seen.add(entry["code"])
        businesses.append(Business(entry["code"], entry["name_zh"], entry["name_en"], lead, support))
    for i, entry in enumerate(raw.get("action", [])):
        where = f"{origin}: action #{i + 1} ({entry.get('code', '?')})"
        for key in ("code", "name_zh", "name_en"):
            if not isinstance(entry.get(key), str) or not entry[key]:
                raise MatrixError(f"{where}: '{key}' is required")
        roles = _strings(entry, "roles", where)
        unknown = set(roles) - set(_ROLES)
        if unknown:
            raise MatrixError(f"{where}: unknown roles {sorted(unknown)}")
        if entry["code"] in ADMIN_RESERVED_ACTIONS and set(roles) != {"admin"}:
            raise MatrixError(f"{where}: this action is reserved to admin")
        if entry["code"] in seen:
            raise MatrixError(f"{where}: duplicate code")
        seen.add(entry["code"])
        actions.append(Action(entry["code"], entry["name_zh"], entry["name_en"], frozenset(roles)))
    return ResponsibilityMatrix(
        version=str(raw.get("version", "")),
        source=str(raw.get("source", "")),
        businesses=tuple(businesses),
        actions=tuple(actions),
        source_zh=str(raw.get("source_zh", "")),
    )


MATRIX_FILE = DataFile("responsibility_matrix.toml", read_text(parse_matrix))


def load_matrix(path: Path | None = None) -> ResponsibilityMatrix:
    """The matrix from ``data/`` (re-read when the file changes), or from ``path``."""
    if path is not None:
        return parse_matrix(path.read_text(encoding="utf-8"), origin=str(path))
    return MATRIX_FILE.get()


def require_action(role: str, action: str) -> None:
    """Raise :class:`ActionNotPermitted` unless the matrix lets ``role`` take ``action``."""
    load_matrix().require(role, action)
