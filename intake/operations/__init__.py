"""Operations: checking a deployment, backups and restores, notices to reviewers (docs/deploy.md)."""


class OperationError(Exception):
    """An operation could not be done; the message says what to do next."""
