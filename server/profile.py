"""The instance's profile (federation.admin.instance) for this app: what the pages and the
instance API show as its name, description, rules and registrations."""

from __future__ import annotations

from aiohttp import web

from federation.admin.instance import Defaults, Profile, Profiles
from server.appkeys import DATABASE, SETTINGS

PROFILES = web.AppKey("instance_profiles", Profiles)


async def profile(request: web.Request) -> Profile:
    return await request.app[PROFILES].current(request.app[DATABASE])


def setup(app: web.Application) -> None:
    instance = app[SETTINGS].instance
    app[PROFILES] = Profiles(Defaults(instance.name, instance.description, instance.contact_email))
