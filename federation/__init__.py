"""The ActivityPub protocol and Rounds' domain rules.

Uses the aiohttp *client* and `storage`; never `aiohttp.web` and never `server`.
"""
