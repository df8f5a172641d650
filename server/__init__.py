"""The aiohttp web layer: app factory, routes, thin handlers, middleware, CLI and config."""
