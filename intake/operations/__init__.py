"""Operations: checking a deployment, backups and restores, notices to reviewers (docs/deploy.md)."""

from intake.errors import IntakeError


class OperationError(IntakeError):
    """An operation could not be done; the message says what to do next."""
