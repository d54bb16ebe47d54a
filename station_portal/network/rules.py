"""The network rules from ``data/network.toml``: the outage notice commitments (how long
before an outage the customers must be told, by kind, each with its source) and the
factors of the spare-capacity estimate. Pure Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from station_portal.datafiles import DataFile, DataFileError, read_toml
from station_portal.i18n import get_locale


@dataclass(frozen=True)
class NoticeCommitment:
    kind: str
    notice: timedelta
    warn: timedelta
    source_zh: str
    source_en: str

    def source(self, locale: str | None = None) -> str:
        return self.source_zh if (locale or get_locale()).startswith("zh") else self.source_en

    def due(self, starts_at: datetime) -> datetime:
        """The latest instant a notice keeps the commitment."""
        return starts_at - self.notice


@dataclass(frozen=True)
class CapacityRules:
    power_factor: float
    diversity: float
    heavy_load_ratio: float


@dataclass(frozen=True)
class OutageRules:
    commitments: dict[str, NoticeCommitment]
    channels: tuple[str, ...]
    capacity: CapacityRules

    def commitment(self, kind: str) -> NoticeCommitment:
        return self.commitments[kind]


def _load(path: Path) -> OutageRules:
    raw = read_toml(path)
    found: dict[str, NoticeCommitment] = {}
    for item in raw.get("commitment", []):
        kind = item.get("kind")
        if kind not in ("planned", "temporary") or kind in found:
            raise DataFileError(f"{path}: commitment kind {kind!r} unknown or repeated")
        hours, warn = item.get("notice_hours"), item.get("warn_hours", 0)
        if not isinstance(hours, int) or hours <= 0 or not isinstance(warn, int) or warn < 0:
            raise DataFileError(f"{path}: {kind}: notice_hours must be a positive whole number")
        if not item.get("source") or not item.get("source_en"):
            raise DataFileError(f"{path}: {kind}: every commitment names its source")
        found[kind] = NoticeCommitment(kind, timedelta(hours=hours), timedelta(hours=warn),
                                       item["source"], item["source_en"])
    if set(found) != {"planned", "temporary"}:
        raise DataFileError(f"{path}: both the planned and the temporary commitment are needed")
    channels = tuple(raw.get("notices", {}).get("channels", ["sms", "mail"]))
    if not set(channels) <= {"sms", "mail"}:
        raise DataFileError(f"{path}: notice channels are sms and mail")
    cap = raw.get("capacity", {})
    try:
        capacity = CapacityRules(float(cap["power_factor"]), float(cap["diversity"]),
                                 float(cap["heavy_load_ratio"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise DataFileError(f"{path}: [capacity] needs power_factor, diversity and "
                            f"heavy_load_ratio") from exc
    if not (0 < capacity.power_factor <= 1 and 0 < capacity.diversity <= 1
            and 0 < capacity.heavy_load_ratio <= 1.5):
        raise DataFileError(f"{path}: [capacity] factors out of range")
    return OutageRules(found, channels, capacity)


NETWORK_FILE: DataFile[OutageRules] = DataFile("network.toml", _load)


def network_rules() -> OutageRules:
    return NETWORK_FILE.get()
