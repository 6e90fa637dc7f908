"""The newest keyring each trusted signer has put in use, so that an older copy is refused (docs/keys.md).

Revision ID: 0004_keyring_state
Revises: 0003_floods
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_keyring_state"
down_revision = "0003_floods"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the keyring_state table: one row per signer, its highest serial and that keyring's hash."""
    op.create_table(
        "keyring_state",
        sa.Column("signer", sa.String(80), primary_key=True),
        sa.Column("serial", sa.BigInteger, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )


def downgrade() -> None:
    """Drop the keyring_state table."""
    op.drop_table("keyring_state")
