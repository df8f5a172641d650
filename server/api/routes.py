"""Every client-API module registers its routes here, in one place."""

from __future__ import annotations

from aiohttp import web

from server.api import (
    accounts,
    admin_domains,
    announcements,
    apps,
    articles,
    communities,
    conversations,
    credentials,
    emojis,
    filters,
    grouped_notifications,
    instance,
    lists,
    media,
    notification_requests,
    notifications,
    oauth,
    polls,
    push,
    quotes,
    reports,
    scheduled,
    search,
    statuses,
    streaming,
    tags,
    timelines,
    trends,
)
from server.api.common import setup_plumbing

MODULES = (oauth, apps, instance, credentials, accounts, statuses, polls, timelines,
           notification_requests,  # before the notifications: its literal paths must match before {id}
           notifications, search, media, streaming, admin_domains,
           filters, grouped_notifications, announcements, emojis, push, tags, quotes, communities, articles, reports, lists, scheduled, conversations, trends)


def setup(app: web.Application) -> None:
    setup_plumbing(app)
    for module in MODULES:
        module.setup(app)
