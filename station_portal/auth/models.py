"""Portal accounts and their server-side sign-in sessions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Column, ForeignKey, Index, Integer, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from station_portal.db import Base, utcnow
from station_portal.org.models import Client, Staff, Unit

# 64-bit ids where a table grows without bound; SQLite keeps INTEGER (its INTEGER PRIMARY
# KEY is 64-bit already, and only that exact type autoincrements).
_BIG_ID = BigInteger().with_variant(Integer, "sqlite")

user_clients = Table(
    "user_clients",
    Base.metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("client_id", Integer, ForeignKey("clients.id", ondelete="CASCADE"), primary_key=True),
)


class User(Base):
    """A person who signs in. Role and scope decide what they may see and do."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(80))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(32))
    scope_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), unique=True)
    locale: Mapped[str | None] = mapped_column(String(8))
    email: Mapped[str | None] = mapped_column(String(120))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Set by the demo seed; production refuses to start while any active account has it.
    password_is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_sign_in_at: Mapped[datetime | None]
    # Optimistic concurrency for administrators' edits: an edit carries the version
    # it saw and claims the next one (services/users.py). Sign-ins and a user's own
    # settings do not count as edits and leave it alone.
    version: Mapped[int] = mapped_column(Integer, default=1)

    scope_unit: Mapped[Unit | None] = relationship()
    staff: Mapped[Staff | None] = relationship()
    clients: Mapped[list[Client]] = relationship(secondary=user_clients, order_by=Client.code)

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role}>"


class AuthSession(Base):
    """One sign-in. The cookie carries a random token; only its hash is stored.

    Ending the row (logout, idle timeout, disabling the user) makes any copy of
    the cookie worthless, which a signed-cookie session alone cannot do.
    """

    __tablename__ = "auth_sessions"
    # The prune job finds sessions that ended or died long ago by their last activity.
    __table_args__ = (Index("ix_auth_sessions_last_seen_at", "last_seen_at"),)

    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[str | None] = mapped_column(String(24))
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(200))

    user: Mapped[User] = relationship()


class ApiToken(Base):
    """A bearer token for the REST API (a mobile terminal, an integration).

    Only the token's hash is stored; it expires, and it can be revoked.
    """

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()
