"""the load an application asks for (kW), kept apart from transformer capacity (kVA)

Revision ID: 7c1a0c000004
Revises: 7c1a0c000003
Create Date: 2026-12-04 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '7c1a0c000004'
down_revision: str | None = '7c1a0c000003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('work_orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('load_kw', sa.Float(), nullable=True))
    # Low-voltage applications recorded their load in the capacity column.
    op.execute("UPDATE work_orders SET load_kw = capacity_kva, capacity_kva = NULL "
               "WHERE kind = 'application' AND customer_class LIKE 'lv%'")


def downgrade() -> None:
    op.execute("UPDATE work_orders SET capacity_kva = load_kw "
               "WHERE kind = 'application' AND customer_class LIKE 'lv%'")
    with op.batch_alter_table('work_orders', schema=None) as batch_op:
        batch_op.drop_column('load_kw')
