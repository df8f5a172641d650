"""Every client-API module registers its routes here, in one place."""

from __future__ import annotations

from aiohttp import web

from server.api import (
    accounts,
    admin_domains,
    apps,
    communities,
    credentials,
    instance,
    media,
    notifications,
    oauth,
    polls,
    search,
    statuses,
    streaming,
    timelines,
)
from server.api.common import setup_plumbing

MODULES = (oauth, apps, instance, credentials, accounts, statuses, polls, timelines, notifications, search, media,
           streaming, admin_domains, communities)


def setup(app: web.Application) -> None:
    setup_plumbing(app)
    for module in MODULES:
        module.setup(app)
