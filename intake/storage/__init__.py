"""Sealed cases in a SQL database (SQLAlchemy 2.x): SQLite by default, PostgreSQL at scale.

The rule for writes: every write is one `db.writing(engine)` transaction (on SQLite it queues for its
turn and begins IMMEDIATE; on PostgreSQL it is a plain transaction), never a bare `engine.begin()`.
Group commit (`batches.GroupCommit`) is for one thing only: many small transactions from concurrent
web requests that must each be durable before their answer (the admission of browser-sealed reports);
it runs them in one `writing()` transaction and one commit. A case on its way in follows
`lifecycle.py`: open, add parts, complete or discard.
"""
