"""The instance's profile as admins set it while it runs: name, description, rules, and who may
register (open, invite-only, closed). The instance API and the pages read it.

The decision to know: the config file's [instance] name and description are the defaults; a
value saved from the admin pages (a row in the database) wins over them, so every process sees
the same profile. Each process keeps what it last read for a few seconds (`Profiles`), and
forgets it at once when it saves a change itself.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from federation.admin.audit import audit
from storage import instance_profile as queries
from storage.db import Database
from storage.models import InstanceProfile

OPEN, INVITE_ONLY, CLOSED = "open", "invite_only", "closed"
REGISTRATIONS = (OPEN, INVITE_ONLY, CLOSED)
NAME_MAX = 255
DESCRIPTION_MAX = 5000
RULES_MAX = 50
RULE_MAX = 500
REFRESH_SECONDS = 5.0


class ProfileError(Exception):
    """A profile that cannot be saved; one line."""


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    contact_email: str
    rules: tuple[str, ...] = ()
    registrations: str = CLOSED


@dataclass(frozen=True)
class Defaults:
    """The config file's [instance] values."""

    name: str
    description: str
    contact_email: str


def _profile(row: InstanceProfile | None, defaults: Defaults) -> Profile:
    if row is None:
        return Profile(defaults.name, defaults.description, defaults.contact_email)
    rules = tuple(line.strip() for line in row.rules.splitlines() if line.strip())
    return Profile(row.name or defaults.name, defaults.description if row.description is None else row.description,
                   defaults.contact_email, rules, row.registrations)


@dataclass
class Profiles:
    """This process's copy of the profile, read again after REFRESH_SECONDS."""

    defaults: Defaults
    _current: Profile | None = None
    _read_at: float = field(default=float("-inf"))

    async def current(self, db: Database) -> Profile:
        if self._current is None or time.monotonic() - self._read_at > REFRESH_SECONDS:
            row = await db.read(queries.stored_profile)
            self._current, self._read_at = _profile(row, self.defaults), time.monotonic()
        return self._current

    def forget(self) -> None:
        self._current = None


def _check(name: str, description: str, rules: list[str], registrations: str) -> None:
    if not name or len(name) > NAME_MAX:
        raise ProfileError(f"the name must be 1 to {NAME_MAX} characters")
    if len(description) > DESCRIPTION_MAX:
        raise ProfileError(f"the description must be at most {DESCRIPTION_MAX} characters")
    if len(rules) > RULES_MAX or any(len(rule) > RULE_MAX for rule in rules):
        raise ProfileError(f"at most {RULES_MAX} rules, each of at most {RULE_MAX} characters")
    if registrations not in REGISTRATIONS:
        raise ProfileError(f"registrations must be one of {', '.join(REGISTRATIONS)}")


async def save(session: AsyncSession, *, name: str, description: str, rules: str, registrations: str, by: str,
               at: datetime, reason: str = "") -> bool:
    """Save the profile (rules: one a line); whether anything changed. Audited as
    `instance.settings` with the values before and after; the caller commits."""
    name, description = name.strip(), description.strip()
    lines = [line.strip() for line in rules.splitlines() if line.strip()]
    _check(name, description, lines, registrations)
    row = await queries.profile_for_update(session)
    before = {"name": row.name, "description": row.description, "rules": row.rules,
              "registrations": row.registrations}
    after = {"name": name, "description": description, "rules": "\n".join(lines), "registrations": registrations}
    if before == after:
        return False
    row.name, row.description, row.rules, row.registrations = name, description, after["rules"], registrations
    row.changed_by, row.changed_at = by, at
    await audit(session, by=by, action="instance.settings", subject="instance", before=before, after=after,
                reason=reason, at=at)
    return True
