"""The unit tree: materialised paths, subtrees and ancestors."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from station_portal.org.models import Unit


def assign_paths(session: Session) -> None:
    """Recompute every unit's ``path`` ("/1/4/9/") from the parent links."""
    units = {u.id: u for u in session.scalars(select(Unit))}

    def path_of(unit: Unit, seen: frozenset[int] = frozenset()) -> str:
        if unit.id in seen:
            raise ValueError(f"unit {unit.code} is its own ancestor")
        if unit.parent_id is None:
            return f"/{unit.id}/"
        return path_of(units[unit.parent_id], seen | {unit.id}) + f"{unit.id}/"

    for unit in units.values():
        unit.path = path_of(unit)


def subtree_ids(session: Session, unit_id: int) -> set[int]:
    """The unit and all units below it."""
    path = session.scalar(select(Unit.path).where(Unit.id == unit_id))
    if path is None:
        return set()
    return set(session.scalars(select(Unit.id).where(Unit.path.startswith(path, autoescape=True))))


def ancestor_ids(path: str) -> list[int]:
    """Ids on a materialised path, root first, the unit itself last."""
    return [int(part) for part in path.strip("/").split("/") if part]
