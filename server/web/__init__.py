"""HTML pages rendered from the jinja2 templates in the top-level `templates/` directory."""
