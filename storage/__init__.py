"""Persistence: SQLAlchemy 2 async models, query functions and Alembic migrations.

Nothing here imports `federation` or `server`. Query functions take an `AsyncSession` as their
first argument and never commit: the outermost caller owns the transaction.
"""
