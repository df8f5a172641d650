"""Grouped notifications (/api/v2/notifications): a page of groups, and what each group holds.

A page is read the way Mastodon pages groups: notifications newest first (oldest first after a
`min_id`) until `limit` groups have been seen; the page spans the ids it read, so the next page
starts below its lowest id and a group may show on several pages (its `page_min_id` and
`page_max_id` say which part). Each group's totals (how many, the newest, the latest senders)
count every notification of the group the scope shows, on this page or not.

The functions are synchronous: each runs inside `Database.read`, with the rendering.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from storage.models import Notification, NotificationType
from storage.notifications import Scope, listed, shown_group_key
from storage.paging import Cursor, apply

SAMPLE_ACCOUNTS = 8
MOST_SCANNED = 2_000  # notifications read for one page at most, however few groups they make


@dataclass
class Group:
    key: str
    type: NotificationType
    object_id: int | None
    most_recent_id: int
    count: int = 1
    sample_account_ids: list[int] = field(default_factory=list)
    page_min_id: int | None = None
    page_max_id: int | None = None
    latest_page_at: datetime | None = None

    def saw(self, row: Notification) -> None:
        """`row`, a notification of this group read on the page."""
        if self.page_max_id is None or row.id > self.page_max_id:
            self.page_max_id, self.latest_page_at = row.id, row.created_at
        if self.page_min_id is None or row.id < self.page_min_id:
            self.page_min_id = row.id
        if row.id > self.most_recent_id:
            self.most_recent_id = row.id
        if row.from_actor_id not in self.sample_account_ids and len(self.sample_account_ids) < SAMPLE_ACCOUNTS:
            self.sample_account_ids.append(row.from_actor_id)


def page(session: Session, viewer_id: int, cursor: Cursor, scope: Scope,
         grouped_types: frozenset[str]) -> tuple[list[Group], list[int]]:
    """A page of at most `cursor.limit` groups, newest first, with their totals; and the lowest
    and highest notification ids the page read (for its Link header; empty if none)."""
    ascending = cursor.min_id is not None
    groups: dict[str, Group] = {}
    read: list[int] = []
    batch = max(2 * cursor.limit, 40)
    window = cursor
    query = select(Notification).where(listed(viewer_id, scope))
    full = False
    while not full and len(read) < MOST_SCANNED:
        rows = list(session.scalars(apply(query, Notification.id, Cursor(window.max_id, window.since_id,
                                                                           window.min_id, batch))))
        for row in rows:
            key = shown_group_key(row, grouped_types)
            if key not in groups:
                if len(groups) == cursor.limit:
                    full = True
                    break
                groups[key] = Group(key, row.type, row.object_id, row.id)
            groups[key].saw(row)
            read.append(row.id)
        if len(rows) < batch:
            break
        last = rows[-1].id
        window = Cursor(window.max_id, window.since_id, last, batch) if ascending else \
            Cursor(last, window.since_id, None, batch)
    _totals(session, viewer_id, scope, [g for g in groups.values() if not g.key.startswith("ungrouped-")])
    ordered = sorted(groups.values(), key=lambda g: g.page_max_id or 0, reverse=True)
    return ordered, ([min(read), max(read)] if read else [])


def one(session: Session, viewer_id: int, key: str, scope: Scope = Scope()) -> Group | None:
    """The group `key` (`ungrouped-{id}`: that notification alone), or None if it shows nothing."""
    if key.startswith("ungrouped-"):
        number = key.removeprefix("ungrouped-")
        if not number.isdigit() or len(number) > 19:
            return None
        row = session.scalar(select(Notification).where(listed(viewer_id, scope), Notification.id == int(number)))
        if row is None:
            return None
        return Group(key, row.type, row.object_id, row.id, 1, [row.from_actor_id])
    row = session.scalar(select(Notification).where(listed(viewer_id, scope), Notification.group_key == key)
                         .order_by(Notification.id.desc()).limit(1))
    if row is None:
        return None
    group = Group(key, row.type, row.object_id, row.id)
    _totals(session, viewer_id, scope, [group])
    return group


def senders(session: Session, viewer_id: int, key: str, limit: int) -> list[int]:
    """The ids of the actors whose notifications make the group, the latest first."""
    if key.startswith("ungrouped-"):
        found = one(session, viewer_id, key)
        return found.sample_account_ids if found is not None else []
    latest = func.max(Notification.id)
    return list(session.scalars(select(Notification.from_actor_id).where(
        listed(viewer_id, Scope()), Notification.group_key == key)
        .group_by(Notification.from_actor_id).order_by(latest.desc()).limit(limit)))


def _totals(session: Session, viewer_id: int, scope: Scope, groups: list[Group]) -> None:
    """Count each group whole: how many notifications, the newest, its latest senders."""
    if not groups:
        return
    by_key = {g.key: g for g in groups}
    in_groups = and_(listed(viewer_id, scope), Notification.group_key.in_(by_key))
    for key, count, newest in session.execute(select(Notification.group_key, func.count(), func.max(Notification.id))
                                              .where(in_groups).group_by(Notification.group_key)):
        by_key[key].count, by_key[key].most_recent_id = count, newest
    latest = func.max(Notification.id)
    samples: dict[str, list[int]] = {key: [] for key in by_key}
    for key, sender in session.execute(select(Notification.group_key, Notification.from_actor_id).where(in_groups)
                                       .group_by(Notification.group_key, Notification.from_actor_id)
                                       .order_by(latest.desc())):
        if len(samples[key]) < SAMPLE_ACCOUNTS:
            samples[key].append(sender)
    for key, group in by_key.items():
        group.sample_account_ids = samples[key] or group.sample_account_ids
