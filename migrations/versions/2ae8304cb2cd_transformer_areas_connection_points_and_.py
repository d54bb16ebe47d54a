"""transformer areas, connection points and outages

Revision ID: 2ae8304cb2cd
Revises: 060431279656
Create Date: 2026-12-05 17:12:29.294737

An *expand* step: new tables, and two nullable columns on work_orders (the order's
transformer area, and the outage that explains a repair or serves an application's
hook-up); code of the previous revision never reads them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import station_portal.db

revision: str = '2ae8304cb2cd'
down_revision: str | None = '060431279656'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None
compatibility = "expand"


def upgrade() -> None:
    op.create_table('feeders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name_zh', sa.String(length=80), nullable=False),
    sa.Column('name_en', sa.String(length=120), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('substation', sa.String(length=80), nullable=False),
    sa.Column('capacity_kva', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_feeders_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feeders')),
    sa.UniqueConstraint('code', name=op.f('uq_feeders_code'))
    )
    with op.batch_alter_table('feeders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_feeders_unit_id'), ['unit_id'], unique=False)

    op.create_table('transformer_areas',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('capacity_kva', sa.Float(), nullable=False),
    sa.Column('feeder_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('manager_staff_id', sa.Integer(), nullable=True),
    sa.Column('lat', sa.Float(), nullable=False),
    sa.Column('lon', sa.Float(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['feeder_id'], ['feeders.id'], name=op.f('fk_transformer_areas_feeder_id_feeders')),
    sa.ForeignKeyConstraint(['manager_staff_id'], ['staff.id'], name=op.f('fk_transformer_areas_manager_staff_id_staff'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_transformer_areas_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_transformer_areas')),
    sa.UniqueConstraint('code', name=op.f('uq_transformer_areas_code'))
    )
    with op.batch_alter_table('transformer_areas', schema=None) as batch_op:
        batch_op.create_index('ix_transformer_areas_feeder', ['feeder_id'], unique=False)
        batch_op.create_index('ix_transformer_areas_unit', ['unit_id'], unique=False)

    op.create_table('connection_points',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('account_no', sa.String(length=16), nullable=False),
    sa.Column('area_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('address', sa.String(length=200), nullable=False),
    sa.Column('category', sa.String(length=16), nullable=False),
    sa.Column('contract_kw', sa.Float(), nullable=False),
    sa.Column('important', sa.Boolean(), nullable=False),
    sa.Column('phone', sa.String(length=32), nullable=True),
    sa.Column('email', sa.String(length=120), nullable=True),
    sa.ForeignKeyConstraint(['area_id'], ['transformer_areas.id'], name=op.f('fk_connection_points_area_id_transformer_areas')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_connection_points')),
    sa.UniqueConstraint('account_no', name=op.f('uq_connection_points_account_no'))
    )
    with op.batch_alter_table('connection_points', schema=None) as batch_op:
        batch_op.create_index('ix_connection_points_area', ['area_id'], unique=False)

    op.create_table('outages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=24), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('feeder_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.String(length=300), nullable=False),
    sa.Column('starts_at', station_portal.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', station_portal.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('started_at', station_portal.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('ended_at', station_portal.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('announced_at', station_portal.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('notice_due_at', station_portal.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('notice_escalated_at', station_portal.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('customers', sa.Integer(), nullable=False),
    sa.Column('grid_works_project_id', sa.Integer(), nullable=True),
    sa.Column('created_at', station_portal.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('updated_at', station_portal.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_outages_created_by_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['feeder_id'], ['feeders.id'], name=op.f('fk_outages_feeder_id_feeders')),
    sa.ForeignKeyConstraint(['grid_works_project_id'], ['grid_works_projects.id'], name=op.f('fk_outages_grid_works_project_id_grid_works_projects'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_outages_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outages')),
    sa.UniqueConstraint('code', name=op.f('uq_outages_code'))
    )
    with op.batch_alter_table('outages', schema=None) as batch_op:
        batch_op.create_index('ix_outages_unit_status', ['unit_id', 'status'], unique=False)
        batch_op.create_index('ix_outages_window', ['starts_at', 'ends_at'], unique=False)

    op.create_table('outage_areas',
    sa.Column('outage_id', sa.Integer(), nullable=False),
    sa.Column('area_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['area_id'], ['transformer_areas.id'], name=op.f('fk_outage_areas_area_id_transformer_areas')),
    sa.ForeignKeyConstraint(['outage_id'], ['outages.id'], name=op.f('fk_outage_areas_outage_id_outages'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('outage_id', 'area_id', name=op.f('pk_outage_areas'))
    )
    with op.batch_alter_table('outage_areas', schema=None) as batch_op:
        batch_op.create_index('ix_outage_areas_area', ['area_id'], unique=False)

    op.create_table('outage_notices',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('outage_id', sa.Integer(), nullable=False),
    sa.Column('connection_point_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('channel', sa.String(length=8), nullable=False),
    sa.Column('address', sa.String(length=120), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('created_at', station_portal.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('claimed_at', station_portal.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('sent_at', station_portal.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('error', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['connection_point_id'], ['connection_points.id'], name=op.f('fk_outage_notices_connection_point_id_connection_points'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['outage_id'], ['outages.id'], name=op.f('fk_outage_notices_outage_id_outages'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outage_notices'))
    )
    with op.batch_alter_table('outage_notices', schema=None) as batch_op:
        batch_op.create_index('ix_outage_notices_outage', ['outage_id'], unique=False)
        batch_op.create_index('ix_outage_notices_pending', ['status', 'channel'], unique=False)

    with op.batch_alter_table('work_orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('area_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('outage_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_work_orders_area_id'), ['area_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_work_orders_outage_id_outages'), 'outages', ['outage_id'], ['id'], ondelete='SET NULL')
        batch_op.create_foreign_key(batch_op.f('fk_work_orders_area_id_transformer_areas'), 'transformer_areas', ['area_id'], ['id'])



def downgrade() -> None:
    with op.batch_alter_table('work_orders', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_work_orders_area_id_transformer_areas'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_work_orders_outage_id_outages'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_work_orders_area_id'))
        batch_op.drop_column('outage_id')
        batch_op.drop_column('area_id')

    with op.batch_alter_table('outage_notices', schema=None) as batch_op:
        batch_op.drop_index('ix_outage_notices_pending')
        batch_op.drop_index('ix_outage_notices_outage')

    op.drop_table('outage_notices')
    with op.batch_alter_table('outage_areas', schema=None) as batch_op:
        batch_op.drop_index('ix_outage_areas_area')

    op.drop_table('outage_areas')
    with op.batch_alter_table('outages', schema=None) as batch_op:
        batch_op.drop_index('ix_outages_window')
        batch_op.drop_index('ix_outages_unit_status')

    op.drop_table('outages')
    with op.batch_alter_table('connection_points', schema=None) as batch_op:
        batch_op.drop_index('ix_connection_points_area')

    op.drop_table('connection_points')
    with op.batch_alter_table('transformer_areas', schema=None) as batch_op:
        batch_op.drop_index('ix_transformer_areas_unit')
        batch_op.drop_index('ix_transformer_areas_feeder')

    op.drop_table('transformer_areas')
    with op.batch_alter_table('feeders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_feeders_unit_id'))

    op.drop_table('feeders')
