"""Shared column types and the declarative base.

Every table's primary key is a time-ordered 64-bit id from `storage.ids`, minted in Python, so
rows sort by creation time and newest-first paging needs no extra column.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import JSON, BigInteger, CheckConstraint, DateTime, Text, TypeDecorator, cast
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from storage.ids import new_id


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on both backends (SQLite stores naive text)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=timezone.utc)


class JSONText(TypeDecorator):
    """A JSON column that Python sees only as text: written from text that is JSON already (an
    inbox body as it arrived, neither decoded nor re-encoded), and read back as that text (cast
    in the SELECT, since asyncpg would decode a `json` value itself). Loading a row never decodes
    it, so a row nobody can decode still loads; its reader decodes it, within bounds."""

    impl = JSON
    cache_ok = True

    def bind_processor(self, dialect):
        return None

    def result_processor(self, dialect, coltype):
        return None

    def column_expression(self, column):
        return cast(column, Text)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON(), int: BigInteger()}


def id_column() -> Mapped[int]:
    return mapped_column(BigInteger, primary_key=True, default=new_id, autoincrement=False)


def states_check(table: str, states) -> CheckConstraint:
    """The state column of `table` holds only `states` (an Enum's members): the constraint the
    declared-states migration adds, named as it names it."""
    listed = ", ".join(f"'{state.value}'" for state in states)
    return CheckConstraint(f"state IN ({listed})", name=f"ck_{table}_state")
