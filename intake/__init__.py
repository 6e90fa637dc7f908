"""intake: a secure, anonymous incident-reporting intake service."""

__version__ = "0.1.0"
