"""An index that listings walk: complete cases by day, then by their random id, so `intake-review list`
reads its batches in order without sorting every case for each one.

Revision ID: 0008_case_listing
Revises: 0007_follow_up_files
"""

from alembic import op

revision = "0008_case_listing"
down_revision = "0007_follow_up_files"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the listing index."""
    op.create_index("ix_cases_listing", "cases", ["complete", "received", "id"])


def downgrade() -> None:
    """Drop it."""
    op.drop_index("ix_cases_listing", table_name="cases")
