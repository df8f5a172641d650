"""Reports: a practitioner tells the moderators that an account, and some of its posts, break the
rules (POST /api/v1/reports); a peer's Flag says the same of one of our accounts; a moderator
resolves each (the admin console), in the audit log.

A report of an account elsewhere may be forwarded: a Flag goes to that account's server from this
instance's actor, never the practitioner's (who reported stays here), naming the account and the
reported posts, with the comment. A peer's Flag is taken about our accounts and posts only: what
it names elsewhere is left out, and a Flag naming none of ours is no report here.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from federation.admin.audit import audit
from federation.outbox import sending
from federation.protocol.vocab.reports import flag_to_ap
from federation.runtime.context import Federation
from storage import actors as actor_queries
from storage import reports as queries
from storage.ids import new_id
from storage.models import Actor, Object, Report
from storage.posts import local_posts_by_uris

CATEGORIES = ("spam", "legal", "violation", "other")
COMMENT_MAX = 1000  # characters of a practitioner's comment, as on Mastodon
PEER_COMMENT_MAX = 5000  # of a peer's
FLAG_NAMES_MAX = 100  # of what a peer's Flag names, the first are read
PEER_OPEN_MAX = 10  # open reports of one peer's actors: its further Flags wait until some are resolved


class ReportError(Exception):
    """A report refused; one line, nothing written."""


async def file(fed: Federation, session: AsyncSession, reporter: Actor, target: Actor, posts: list[Object], *,
               comment: str, category: str, rule_ids: list[int], forward: bool, now: datetime) -> Report:
    """A practitioner's report of `target` and its `posts` (which she may see: the caller checks),
    forwarded to the target's server as a Flag if she asks and it is elsewhere."""
    if target.id == reporter.id:
        raise ReportError("You cannot report yourself")
    if category not in CATEGORIES:
        raise ReportError(f"category must be one of {', '.join(CATEGORIES)}, not {category!r}")
    if len(comment) > COMMENT_MAX:
        raise ReportError(f"the comment is longer than {COMMENT_MAX} characters")
    if any(post.actor_id != target.id for post in posts):
        raise ReportError("a reported post must be the reported account's")
    report = Report(id=new_id(), reporter_id=reporter.id, target_id=target.id, post_ids=[post.id for post in posts],
                    comment=comment, category=category, rule_ids=rule_ids, forwarded=False, created_at=now)
    session.add(report)
    if forward and not target.local:
        instance = await actor_queries.instance_actor(session)
        report.uri = f"{fed.urls.instance_actor}/reports/{report.id}"
        flag = flag_to_ap(report.uri, instance.uri, [target.uri, *(post.uri for post in posts)], comment)
        # forwarded only if a delivery is queued (not if the policy now refuses its server)
        report.forwarded = await sending.send(fed, session, instance, flag, [target]) > 0
    await session.flush()
    return report


async def received(session: AsyncSession, reporter: Actor, uri: str, named: list[str], comment: str,
                   now: datetime) -> Report | None:
    """A peer's Flag `uri`, by `reporter`, naming `named`: a report of the account of ours it
    names (or whose post it names first), with that account's posts among those named, added to
    the reporter's open report of that account if there is one; None if it names none of ours,
    came before, or the reporter's server has PEER_OPEN_MAX open reports already (a peer cannot
    bury the moderators' queue: theirs are listed after our practitioners', a blocked peer's not
    at all). Only its first FLAG_NAMES_MAX names are read, in two statements: a Flag is read
    inside the inbox's shared write transaction."""
    if await queries.report_by_uri(session, uri) is not None:
        return None
    named = list(dict.fromkeys(named))[:FLAG_NAMES_MAX]
    actors = await actor_queries.actors_by_uris(session, named)
    ours = await local_posts_by_uris(session, named)
    target = next((actors[name] for name in named if name in actors and actors[name].local), None)
    posts = [ours[name] for name in named if name in ours]
    if target is None and posts:
        target = await actor_queries.actor_by_id(session, posts[0].actor_id)
    if target is None:
        return None
    post_ids = [post.id for post in posts if post.actor_id == target.id]
    earlier = await queries.open_report_of(session, reporter.id, target.id)
    if earlier is not None:  # one open report of an account by one reporter: this adds to it
        earlier.post_ids = list(dict.fromkeys([*earlier.post_ids, *post_ids]))
        if comment and comment not in earlier.comment:
            earlier.comment = f"{earlier.comment}\n\n{comment}".strip()[:PEER_COMMENT_MAX]
        return earlier
    if await queries.count_open_from(session, reporter.domain) >= PEER_OPEN_MAX:
        return None
    report = Report(id=new_id(), reporter_id=reporter.id, target_id=target.id, uri=uri, post_ids=post_ids,
                    comment=comment[:PEER_COMMENT_MAX], category="other", rule_ids=[], forwarded=False,
                    created_at=now)
    session.add(report)
    await session.flush()
    return report


async def resolve(session: AsyncSession, report: Report, *, by: str, at: datetime) -> bool:
    """Mark the report resolved, in the audit log; False if it already was (by another
    moderator at the same moment too: the row changes only while it is open)."""
    if not await queries.mark_resolved(session, report.id, by=by, at=at):
        return False
    await audit(session, by=by, action="report.resolve", subject=f"report:{report.id}", before={"resolved": False},
                after={"resolved": True}, reason="", at=at)
    return True
