"""A practitioner's answers to her notification policy: changing the policy, and accepting or
dismissing the requests of senders it held back. Accepting lets the sender's held notifications
through and every later one; dismissing keeps them held and takes the request off the list."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from federation.social.notifications import policy_default
from storage import notifications as stored
from storage.models import NotificationPolicy, NotificationRequest, PolicyAction, RequestState


async def set_policy(session: AsyncSession, actor_id: int, changes: dict[str, PolicyAction],
                     now: datetime) -> NotificationPolicy:
    """Change the named rules of the actor's policy (a row is made on the first change)."""
    policy = await stored.policy_of(session, actor_id)
    if policy is None:
        policy = NotificationPolicy(actor_id=actor_id, **{name: policy_default(name) for name in NotificationPolicy.FIELDS})
        session.add(policy)
    for name, action in changes.items():
        setattr(policy, name, action)
    policy.updated_at = now
    await session.flush()
    return policy


async def accept(session: AsyncSession, requests: list[NotificationRequest], now: datetime) -> None:
    for request in requests:
        request.state, request.updated_at = RequestState.accepted, now
        await stored.release_held(session, request.recipient_id, request.from_actor_id)


def dismiss(requests: list[NotificationRequest], now: datetime) -> None:
    for request in requests:
        request.state, request.updated_at = RequestState.dismissed, now
