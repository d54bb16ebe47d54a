"""64-bit ids for the tables that grow without bound; indexes the prune job deletes by

Revision ID: 060431279656
Revises: 7c1a0c000004
Create Date: 2026-12-10 10:00:00

An *expand* step: code of the previous revision keeps working against it (its Integer
columns read and write the same Python ints; inserts take the next value of the same
sequence, now 64-bit), so it may be applied before the web hosts are rolled.

PostgreSQL: the primary keys (and the columns pointing at them) become BIGINT, and their
SERIAL sequences (``AS integer`` since PostgreSQL 10, which would stop at 2^31 - 1 even
on a BIGINT column) become ``AS bigint``. Changing a column's type rewrites the table
under an exclusive lock: seconds on today's tables, but on a table of many millions of
rows plan a maintenance window (see docs/OPERATIONS.md, Retention).

SQLite: nothing to change; an INTEGER PRIMARY KEY is already a 64-bit rowid.

Downgrade narrows them back, and refuses (naming the table) when an id no longer fits.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '060431279656'
down_revision: str | None = '7c1a0c000004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None
# Rolling deploys (station_portal.migrate): code at 7c1a0c000004 runs on this schema, so
# hosts still on it stay ready while the others are rolled.
compatibility = "expand"

# (table, column, has its own SERIAL sequence)
COLUMNS = (
    ('audit_events', 'id', True),
    ('audit_events', 'entity_id', False),
    ('crew_pings', 'id', True),
    ('notifications', 'id', True),
    ('work_order_events', 'id', True),
    ('attachments', 'event_id', False),
    ('hall_tickets', 'id', True),
    ('job_runs', 'id', True),
    ('auth_sessions', 'id', True),
    ('api_tokens', 'id', True),
)

INDEXES = (
    ('ix_crew_pings_received_at', 'crew_pings', 'received_at'),
    ('ix_notifications_created_at', 'notifications', 'created_at'),
    ('ix_job_runs_started_at', 'job_runs', 'started_at'),
    ('ix_auth_sessions_last_seen_at', 'auth_sessions', 'last_seen_at'),
)

INT_MAX = 2**31 - 1


def _postgresql() -> bool:
    return op.get_bind().dialect.name == 'postgresql'


def _sequence(table: str, column: str) -> str | None:
    return op.get_bind().execute(
        sa.text('SELECT pg_get_serial_sequence(:t, :c)'), {'t': table, 'c': column}).scalar()


def upgrade() -> None:
    if _postgresql():
        for table, column, serial in COLUMNS:
            op.execute(f'ALTER TABLE {table} ALTER COLUMN {column} TYPE BIGINT')
            sequence = _sequence(table, column) if serial else None
            if sequence:
                op.execute(f'ALTER SEQUENCE {sequence} AS BIGINT MAXVALUE 9223372036854775807')
    for name, table, column in INDEXES:
        op.create_index(name, table, [column], unique=False)


def downgrade() -> None:
    for name, table, _column in INDEXES:
        op.drop_index(name, table_name=table)
    if not _postgresql():
        return
    bind = op.get_bind()
    for table, column, _serial in COLUMNS:
        largest = bind.execute(sa.text(f'SELECT max({column}) FROM {table}')).scalar()
        if largest is not None and largest > INT_MAX:
            raise RuntimeError(f'{table}.{column} holds {largest}, beyond a 32-bit integer: '
                               'this database cannot go back below revision 060431279656')
    for table, column, serial in reversed(COLUMNS):
        sequence = _sequence(table, column) if serial else None
        if sequence:
            last = bind.execute(sa.text(f'SELECT last_value FROM {sequence}')).scalar()
            if last is not None and last > INT_MAX:
                raise RuntimeError(f'the sequence of {table} is at {last}, beyond a 32-bit '
                                   'integer: this database cannot go back below revision '
                                   '060431279656')
            op.execute(f'ALTER SEQUENCE {sequence} AS INTEGER MAXVALUE {INT_MAX}')
        op.execute(f'ALTER TABLE {table} ALTER COLUMN {column} TYPE INTEGER')
