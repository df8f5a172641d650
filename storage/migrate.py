"""Run Alembic migrations programmatically on an async engine.

Alembic, with the template engine it loads (mako, which brings pygments), holds about 4 MB of a
server's memory for good once imported: a tenth of the idle budget. A server that starts on an
up-to-date database does not need it, so `at_head` answers from the migration files and the
database's `alembic_version` row alone, and Alembic is imported only to migrate or to list what
is pending.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from storage.db import Database

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_REVISION = re.compile(r"^revision\s*=\s*['\"]([0-9a-zA-Z_]+)['\"]", re.M)
_DOWN = re.compile(r"^down_revision\s*=\s*(?:['\"]([0-9a-zA-Z_]+)['\"]|None)", re.M)


def alembic_config(connection=None) -> Config:
    from alembic.config import Config  # loaded only to migrate (see the module's docstring)

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["connection"] = connection
    return cfg


@cache
def head_revision() -> str:
    """The newest migration's revision, read from the files: the one no other names as its
    down_revision. RuntimeError if the files do not form one line."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS_DIR / "versions").glob("[0-9]*.py"):
        source = path.read_text(encoding="utf-8")
        revision, down = _REVISION.search(source), _DOWN.search(source)
        if revision is None or down is None:
            raise RuntimeError(f"{path.name}: no revision or down_revision line")
        revisions.add(revision.group(1))
        if down.group(1):
            parents.add(down.group(1))
    heads = revisions - parents
    if len(heads) != 1:
        raise RuntimeError(f"the migrations have {len(heads)} heads: {', '.join(sorted(heads))}")
    return heads.pop()


async def at_head(db: Database) -> bool:
    """Whether the database's schema is at the newest migration (False if it has none yet)."""
    try:
        async with db.engine.connect() as conn:
            current = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalars().all()
    except DBAPIError:  # no alembic_version table: never migrated
        return False
    return current == [head_revision()]


async def upgrade_to_head(db: Database) -> None:
    from alembic import command

    async with db.engine.begin() as conn:
        await conn.run_sync(lambda sync_conn: command.upgrade(alembic_config(sync_conn), "head"))


async def pending_revisions(db: Database) -> list[str]:
    """Revisions between the database's current one and head (empty when up to date)."""
    if await at_head(db):
        return []
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config())

    def _pending(sync_conn) -> list[str]:
        current = MigrationContext.configure(sync_conn).get_current_revision()
        return [rev.revision for rev in script.iterate_revisions("head", current)]

    async with db.engine.connect() as conn:
        return await conn.run_sync(_pending)
