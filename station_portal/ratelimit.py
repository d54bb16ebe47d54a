"""Fixed-window rate limits shared by every web worker (kept in the database).

``allow(session, bucket, key, limit=…, per_seconds=…)`` counts one hit of
``key`` (a client address, a case number typed in) in ``bucket`` (what is
being limited) and answers whether it is still within ``limit`` hits in the
current window of ``per_seconds``. The count is one upsert, so concurrent
workers and processes share it; old windows are pruned by the daily prune job.
``count`` reads a window without adding to it (to count only failures);
``retry_after`` says how long until the current window ends (what a refused
visitor must wait, not a guess).

No Flask here: ``web/public.py`` wraps it for public pages.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy import Integer, String, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from station_portal.db import Base, utcnow


class RateCounter(Base):
    __tablename__ = "rate_counters"

    bucket: Mapped[str] = mapped_column(String(32), primary_key=True)
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    slot: Mapped[int] = mapped_column(Integer, primary_key=True)  # epoch seconds // per_seconds
    hits: Mapped[int] = mapped_column(Integer, default=0)
    expires_at: Mapped[datetime] = mapped_column(index=True)


def _insert(session: Session):
    return (postgresql.insert if session.get_bind().dialect.name == "postgresql"
            else sqlite.insert)(RateCounter)


def allow(session: Session, bucket: str, key: str, *, limit: int, per_seconds: int,
          now: datetime | None = None) -> bool:
    """Count a hit; True while the window holds at most ``limit`` of them."""
    now = now or utcnow()
    slot = int(now.timestamp()) // per_seconds
    expires = datetime.fromtimestamp((slot + 1) * per_seconds, tz=now.tzinfo) \
        if now.tzinfo else now + timedelta(seconds=per_seconds)
    stmt = _insert(session).values(bucket=bucket, key=key[:128], slot=slot, hits=1,
                                   expires_at=expires)
    stmt = stmt.on_conflict_do_update(
        index_elements=["bucket", "key", "slot"],
        set_={"hits": RateCounter.hits + 1}).returning(RateCounter.hits)
    hits = session.execute(stmt).scalar_one()
    return hits <= limit


def count(session: Session, bucket: str, key: str, *, per_seconds: int,
          now: datetime | None = None) -> int:
    """The hits of ``key`` in the current window, without counting one."""
    slot = int((now or utcnow()).timestamp()) // per_seconds
    return session.scalar(select(RateCounter.hits).where(
        RateCounter.bucket == bucket, RateCounter.key == key[:128],
        RateCounter.slot == slot)) or 0


def retry_after(per_seconds: int, now: datetime | None = None) -> int:
    """Seconds until the current window of ``per_seconds`` ends (at least 1): when a
    refused key is counted afresh."""
    moment = (now or utcnow()).timestamp()
    end = (int(moment) // per_seconds + 1) * per_seconds
    return max(1, math.ceil(end - moment))


def prune(session: Session, now: datetime | None = None) -> int:
    """Drop windows that have ended; the number of rows removed."""
    result = session.execute(delete(RateCounter).where(RateCounter.expires_at < (now or utcnow())))
    return result.rowcount or 0
