"""customer self-service: documents, tracking access, contract signatures, ratings, rate limits

Revision ID: 7c1a0c000001
Revises: d81faae27e95
Create Date: 2026-11-27 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import station_portal.db  # noqa: F401

revision: str = '7c1a0c000001'
down_revision: str | None = 'd81faae27e95'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
