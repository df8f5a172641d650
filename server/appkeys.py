"""Typed application state. Handlers read these keys; nothing is looked up by string."""

from __future__ import annotations

import jinja2
from aiohttp import web

from federation.runtime.clock import Clock
from federation.runtime.context import Federation
from federation.protocol.urls import LocalUrls
from server.config import Settings
from storage.db import Database

SETTINGS = web.AppKey("settings", Settings)
URLS = web.AppKey("urls", LocalUrls)
DATABASE = web.AppKey("database", Database)
TEMPLATES = web.AppKey("templates", jinja2.Environment)
CLOCK = web.AppKey("clock", Clock)
FEDERATION = web.AppKey("federation", Federation)
