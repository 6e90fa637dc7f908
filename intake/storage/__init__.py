"""Sealed cases in a SQL database (SQLAlchemy 2.x): SQLite by default, PostgreSQL at scale."""
