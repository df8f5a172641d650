"""The baseline for bench/web_home.py: a bare aiohttp handler that renders a plain jinja2 list of
the same statuses on every request (no database, no session, no policy, no translations).

`python bench/bare_page.py PORT STATUSES_JSON` serves the page at every GET path; STATUSES_JSON
is the client API's home timeline, so both servers render the same text."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import jinja2
from aiohttp import web

PAGE = jinja2.Environment(autoescape=True).from_string("""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Home</title></head>
<body><main><h1>Home</h1><ol>
{% for status in statuses %}<li><article>
<header><a href="{{ status.account.url }}">{{ status.account.display_name or status.account.username }}</a>
<span>@{{ status.account.acct }}</span> <time datetime="{{ status.created_at }}">{{ status.created_at }}</time></header>
<div>{{ status.content | safe }}</div>
<footer>{{ status.replies_count }} {{ status.reblogs_count }} {{ status.favourites_count }}</footer>
</article></li>{% endfor %}
</ol></main></body></html>""")

port, statuses_file = int(sys.argv[1]), sys.argv[2]
statuses = json.loads(Path(statuses_file).read_text())


async def handler(request: web.Request) -> web.Response:
    return web.Response(text=PAGE.render(statuses=statuses), content_type="text/html")


app = web.Application()
app.router.add_get("/{tail:.*}", handler)
web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)
