"""Invitations: sign-up links that staff (admins and moderators, or the shell) make, list and
revoke, and that a newcomer follows to create her own account.

The decision to know: only staff make invitations, and a staff-made invitation always works,
whatever the instance's registrations setting says (open, invite-only or closed) — as on
Mastodon, where closing registrations stops only the invitations of users who are not staff.
A link stops working once revoked, expired or used up; a use is counted by one conditional
update in the sign-up's own transaction (storage.invitations.claim), so the last use of a link
goes to one person only, and a sign-up refused for any reason counts nothing.

Every create, revoke and use writes an audit entry (`invite.create`, `invite.revoke`,
`invite.use`, subject `invite:ID`) in the caller's transaction; the new account also gets its
`user.create` entry, by `invite:ID`.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from federation.admin import users
from federation.admin.audit import audit
from federation.protocol.urls import LocalUrls
from storage import invitations as queries
from storage.models import Account, Invitation

EXPIRY_DAYS = (1, 7, 30, None)   # what the console offers; None: never
MAX_USES = (1, 5, 25, None)      # None: unlimited
NOTE_MAX = 500
UNKNOWN, REVOKED, EXPIRED, USED_UP = "unknown", "revoked", "expired", "used_up"


class InviteError(Exception):
    """An invitation that cannot be made or revoked as asked; one line."""


class InvitationRefused(Exception):
    """A link that lets no one sign up: `reason` is unknown, revoked, expired or used_up."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"this invitation is {reason.replace('_', ' ')}")
        self.reason = reason


def choice(text: str, choices: tuple[int | None, ...]) -> int | None:
    """A form's expiry in days or number of uses, one of `choices`: a number, or empty for None
    (never, unlimited); InviteError for anything else."""
    value = None if text.strip() in ("", "never", "unlimited") else text.strip()
    if value is not None and not value.isdigit():
        raise InviteError(f"{text!r} is not one of the choices offered")
    number = None if value is None else int(value)
    if number not in choices:
        raise InviteError(f"{text!r} is not one of the choices offered")
    return number


def subject(invitation: Invitation) -> str:
    return f"invite:{invitation.id}"


def _state(invitation: Invitation) -> dict[str, Any]:
    return {"uses": invitation.uses, "max_uses": invitation.max_uses,
            "expires_at": invitation.expires_at.isoformat() if invitation.expires_at else None,
            "revoked": invitation.revoked_at is not None}


def refusal(invitation: Invitation | None, now: datetime) -> str | None:
    """Why this invitation lets no one sign up, or None if it is live."""
    if invitation is None:
        return UNKNOWN
    if invitation.revoked_at is not None:
        return REVOKED
    if invitation.expires_at is not None and invitation.expires_at <= now:
        return EXPIRED
    if invitation.max_uses is not None and invitation.uses >= invitation.max_uses:
        return USED_UP
    return None


async def create(session: AsyncSession, *, note: str = "", expires_days: int | None, max_uses: int | None,
                 by: str, at: datetime) -> Invitation:
    """A new invitation with a random code, expiring after `expires_days` (None: never), for
    `max_uses` sign-ups (None: unlimited)."""
    note = note.strip()
    if len(note) > NOTE_MAX:
        raise InviteError(f"the note must be at most {NOTE_MAX} characters")
    if expires_days is not None and not 0 < expires_days <= 3650:
        raise InviteError("the expiry must be 1 to 3650 days, or never")
    if max_uses is not None and max_uses < 1:
        raise InviteError("the number of uses must be at least 1, or unlimited")
    invitation = await queries.add_invitation(session, Invitation(
        code=secrets.token_urlsafe(16), note=note, created_by=by, created_at=at, max_uses=max_uses, uses=0,
        expires_at=at + timedelta(days=expires_days) if expires_days is not None else None))
    await audit(session, by=by, action="invite.create", subject=subject(invitation), before=None,
                after=_state(invitation), reason=note, at=at)
    return invitation


async def live(session: AsyncSession, at: datetime) -> list[Invitation]:
    """The invitations that still let someone sign up, newest first."""
    return await queries.live_invitations(session, at)


async def revoke(session: AsyncSession, invitation_id: int, *, by: str, at: datetime, reason: str = "") -> bool:
    """Revoke an invitation; whether it changed (revoking it again writes nothing)."""
    invitation = await queries.invitation_by_id(session, invitation_id)
    if invitation is None:
        raise InviteError(f"no invitation {invitation_id}; 'rounds invite list' shows them")
    if invitation.revoked_at is not None:
        return False
    before = _state(invitation)
    invitation.revoked_at = at
    await audit(session, by=by, action="invite.revoke", subject=subject(invitation), before=before,
                after=_state(invitation), reason=reason, at=at)
    return True


async def usable(session: AsyncSession, code: str, at: datetime) -> Invitation:
    """The live invitation with this code; InvitationRefused saying why not."""
    invitation = await queries.invitation_by_code(session, code) if code else None
    if (reason := refusal(invitation, at)) is not None:
        raise InvitationRefused(reason)
    assert invitation is not None
    return invitation


async def sign_up(session: AsyncSession, urls: LocalUrls, code: str, username: str, password: str, *,
                  at: datetime) -> Account:
    """Create a plain user with this invitation, counting its use: InvitationRefused if it is
    not live (or its last use just went to someone else), AccountError for the username or
    password, as `rounds user add`. The caller commits, or rolls everything back."""
    invitation = await usable(session, code, at)
    before = _state(invitation)
    if not await queries.claim(session, invitation.id, at):
        await session.refresh(invitation)
        raise InvitationRefused(refusal(invitation, at) or USED_UP)
    await session.refresh(invitation)
    by = subject(invitation)
    account = await users.create(session, urls, username, password, role=users.USER, by=by, at=at)
    await audit(session, by=f"web:{account.username}", action="invite.use", subject=by, before=before,
                after={**_state(invitation), "user": f"@{account.username}"}, reason="", at=at)
    return account
