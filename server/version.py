"""The installed distribution's version."""

from importlib.metadata import PackageNotFoundError, version

try:
    VERSION = version("rounds")
except PackageNotFoundError:  # running from a tree that was never installed
    VERSION = "0.0.0"
