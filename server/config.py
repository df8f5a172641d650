"""Settings: read once from a TOML file into frozen dataclasses.

Nothing else in Rounds reads the configuration file or the environment. A problem with the file
raises `ConfigError` with one line that names the key and says how to fix it; the CLI prints it
and exits with status 2. Relative paths (``data_dir``, a SQLite file) are resolved against the
directory that holds the configuration file, so an instance behaves the same from any cwd.
"""

from __future__ import annotations

import dataclasses
import functools
import ipaddress
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from federation.protocol.vocab.jsondoc import MAX_JSON_DEPTH
from federation.runtime.settings import FEDERATION_MODES, FederationSettings
from storage.db import valid_schema
from storage.settings import DatabaseSettings

LOG_LEVELS = ("debug", "info", "warning", "error")
MAX_FETCH_TIMEOUT_SECONDS = 60


class ConfigError(Exception):
    """The configuration cannot be used; the message is one line for a human."""


@dataclass(frozen=True)
class ServerSettings:
    host: str = "127.0.0.1"
    port: int = 8080
    max_body_bytes: int = 1_000_000
    log_level: str = "info"
    access_log: bool = False
    trusted_proxies: tuple[str, ...] = ("127.0.0.1", "::1")
    max_json_depth: int = MAX_JSON_DEPTH
    read_timeout_seconds: float = 30.0
    health_max_queue_wait_seconds: float = 900.0


@dataclass(frozen=True)
class ApiSettings:
    password_grant: bool = True
    login_attempts_per_minute: int = 5
    requests_per_5_minutes: int = 1500
    media_max_bytes: int = 16_000_000
    media_types: str = "image/jpeg image/png image/gif image/webp"
    media_max_pixels: int = 33_177_600
    status_max_characters: int = 5000


PUBLIC_PAGES = ("off", "profiles", "all")


@dataclass(frozen=True)
class WebSettings:
    public_pages: str = ""  # off | profiles | all; empty: off in allowlist mode, all otherwise
    noindex: bool = True  # public pages ask search engines not to index them
    require_second_factor: bool = False  # every practitioner must set up a TOTP code to use the pages


COMMUNITY_CREATORS = ("staff", "users")


@dataclass(frozen=True)
class CommunitySettings:
    creators: str = "staff"  # who may create a community through the API: staff (admins, moderators) | users


@dataclass(frozen=True)
class InstanceSettings:
    name: str = "Rounds"
    description: str = "Knowledge sharing between hospitals."
    contact_email: str = ""


@dataclass(frozen=True)
class Settings:
    public_url: str
    data_dir: Path
    server: ServerSettings = field(default_factory=ServerSettings)
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    federation: FederationSettings = field(default_factory=FederationSettings)
    instance: InstanceSettings = field(default_factory=InstanceSettings)
    web: WebSettings = field(default_factory=WebSettings)
    api: ApiSettings = field(default_factory=ApiSettings)
    communities: CommunitySettings = field(default_factory=CommunitySettings)

    @property
    def authority(self) -> str:
        """host[:port] of public_url, the form used in acct: URIs and Host headers."""
        return urlsplit(self.public_url).netloc

    @property
    def public_pages(self) -> str:
        """Which HTML pages anyone may see: off, profiles or all."""
        if self.web.public_pages:
            return self.web.public_pages
        return "off" if self.federation.mode == "allowlist" else "all"

    @property
    def is_sqlite(self) -> bool:
        return self.database.url.startswith("sqlite")

    @property
    def media_dir(self) -> Path:
        """Where uploaded media live (see federation.social.media)."""
        return self.data_dir / "media"

    @property
    def sqlite_path(self) -> Path | None:
        """The SQLite database file (absolute), or None on PostgreSQL."""
        return Path(self.database.url.split(":///", 1)[1]) if self.is_sqlite else None


_SECTIONS: dict[str, type] = {
    "server": ServerSettings,
    "database": DatabaseSettings,
    "federation": FederationSettings,
    "instance": InstanceSettings,
    "web": WebSettings,
    "api": ApiSettings,
    "communities": CommunitySettings,
}


def load_settings(path: str | Path) -> Settings:
    """Read and validate the file at ``path``; raise ConfigError with one line on any problem."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            f"config file {path} does not exist; copy config.example.toml there and edit it"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    return settings_from_dict(raw, base_dir=path.resolve().parent, source=str(path))


def settings_from_dict(raw: dict, *, base_dir: Path, source: str = "config") -> Settings:
    known = {"public_url", "data_dir", *_SECTIONS}
    for key in raw:
        if key not in known:
            raise ConfigError(
                f"{source}: unknown key '{key}'; the keys are documented in config.example.toml"
            )
    if "public_url" not in raw:
        raise ConfigError(
            f"{source}: missing key 'public_url'; set it to the instance's address, "
            'e.g. public_url = "https://social.chu-example.org"'
        )
    sections = {
        name: _section(cls, raw.get(name, {}), name, source) for name, cls in _SECTIONS.items()
    }
    public_url = _public_url(_typed(raw["public_url"], str, "public_url", source), sections, source)
    data_dir = _resolve(Path(_typed(raw.get("data_dir", "./data"), str, "data_dir", source)), base_dir)
    database = sections["database"]
    sections["database"] = dataclasses.replace(
        database, url=_database_url(database.url, base_dir, source)
    )
    return Settings(public_url=public_url, data_dir=data_dir, **sections)


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@functools.cache
def networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    """Addresses or CIDR networks (as in `server.trusted_proxies`) as networks; ValueError if an
    entry is neither."""
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


def _section(cls: type, values: object, name: str, source: str):
    if not isinstance(values, dict):
        raise ConfigError(f"{source}: [{name}] must be a table")
    hints = typing.get_type_hints(cls)
    for key in values:
        if key not in hints:
            raise ConfigError(
                f"{source}: unknown key '{key}' in [{name}]; "
                "the keys are documented in config.example.toml"
            )
    kwargs = {key: _typed(value, hints[key], f"{name}.{key}", source) for key, value in values.items()}
    section = cls(**kwargs)
    _check_section(section, name, source)
    return section


def _typed(value: object, expected: object, key: str, source: str):
    if typing.get_origin(expected) is tuple:  # a list of strings
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise ConfigError(f"{source}: '{key}' must be a list of strings, not {value!r}")
        return tuple(value)
    if isinstance(expected, types.UnionType):
        expected = typing.get_args(expected)[0]
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    ok = isinstance(value, expected) and not (expected is int and isinstance(value, bool))
    if not ok:
        wanted = {str: "a string", int: "an integer", float: "a number", bool: "true or false"}.get(
            expected, expected
        )
        raise ConfigError(f"{source}: '{key}' must be {wanted}, not {value!r}")
    return value


def _check_section(section: object, name: str, source: str) -> None:
    if isinstance(section, CommunitySettings):
        if section.creators not in COMMUNITY_CREATORS:
            raise ConfigError(f"{source}: 'communities.creators' must be one of {', '.join(COMMUNITY_CREATORS)}, "
                              f"not {section.creators!r}")
    elif isinstance(section, ServerSettings):
        if not 0 < section.port < 65536:
            raise ConfigError(f"{source}: 'server.port' must be between 1 and 65535")
        if section.max_body_bytes < 1024:
            raise ConfigError(f"{source}: 'server.max_body_bytes' must be at least 1024")
        if not 8 <= section.max_json_depth <= 512:
            raise ConfigError(f"{source}: 'server.max_json_depth' must be 8 to 512")
        if min(section.read_timeout_seconds, section.health_max_queue_wait_seconds) <= 0:
            raise ConfigError(
                f"{source}: 'server.read_timeout_seconds' and 'health_max_queue_wait_seconds' must be positive"
            )
        if section.log_level not in LOG_LEVELS:
            raise ConfigError(
                f"{source}: 'server.log_level' must be one of {', '.join(LOG_LEVELS)}, "
                f"not {section.log_level!r}"
            )
        try:
            networks(section.trusted_proxies)
        except ValueError as exc:
            raise ConfigError(f"{source}: 'server.trusted_proxies' holds a bad address or network: {exc}") from None
    elif isinstance(section, FederationSettings):
        if section.mode not in FEDERATION_MODES:
            raise ConfigError(
                f"{source}: 'federation.mode' must be one of {', '.join(FEDERATION_MODES)}, "
                f"not {section.mode!r}"
            )
        if not 1 <= section.collection_page_size <= 200:
            raise ConfigError(f"{source}: 'federation.collection_page_size' must be 1 to 200")
        for key in ("signature_max_skew_seconds", "key_refetch_interval_seconds", "fetch_max_bytes",
                    "delivery_concurrency", "delivery_per_host", "inbox_max_attempts", "pending_peers_max",
                    "pending_peers_per_address_per_hour", "object_max_attachments", "object_max_tags",
                    "object_max_mentions", "object_max_content_chars"):
            if getattr(section, key) < 1:
                raise ConfigError(f"{source}: 'federation.{key}' must be at least 1")
        if not 0 < section.fetch_timeout_seconds <= MAX_FETCH_TIMEOUT_SECONDS:
            raise ConfigError(
                f"{source}: 'federation.fetch_timeout_seconds' must be more than 0 and at most "
                f"{MAX_FETCH_TIMEOUT_SECONDS}, not {section.fetch_timeout_seconds!r}"
            )
        if min(section.delivery_max_age_days, section.worker_poll_seconds, section.subscription_refresh_minutes,
               section.pending_peer_expiry_days) <= 0:
            raise ConfigError(
                f"{source}: 'federation.delivery_max_age_days', 'worker_poll_seconds', "
                "'subscription_refresh_minutes' and 'pending_peer_expiry_days' must be positive"
            )
        for key in ("finished_retention_days", "failed_retention_days"):
            days = getattr(section, key)
            if days != 0 and days < 1:
                raise ConfigError(
                    f"{source}: 'federation.{key}' must be 0 (keep forever) or at least 1 (days), not {days!r}"
                )
    elif isinstance(section, ApiSettings):
        for key in ("login_attempts_per_minute", "requests_per_5_minutes", "media_max_bytes",
                    "media_max_pixels", "status_max_characters"):
            if getattr(section, key) < 1:
                raise ConfigError(f"{source}: 'api.{key}' must be at least 1")
        if not section.media_types.split():
            raise ConfigError(f"{source}: 'api.media_types' must list at least one MIME type")
    elif isinstance(section, WebSettings):
        if section.public_pages and section.public_pages not in PUBLIC_PAGES:
            raise ConfigError(
                f"{source}: 'web.public_pages' must be one of {', '.join(PUBLIC_PAGES)}, "
                f"not {section.public_pages!r}"
            )
    elif isinstance(section, DatabaseSettings):
        if section.pool_size < 1:
            raise ConfigError(f"{source}: 'database.pool_size' must be at least 1")
        if section.schema and not valid_schema(section.schema):
            raise ConfigError(
                f"{source}: 'database.schema' must be a lowercase identifier "
                f"(letters, digits, underscores), not {section.schema!r}"
            )


def _public_url(value: str, sections: dict, source: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ConfigError(
            f"{source}: 'public_url' must be an absolute URL like https://social.chu-example.org, "
            f"not {value!r}"
        )
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ConfigError(
            f"{source}: 'public_url' must be the bare origin with no path, not {value!r}"
        )
    if parts.scheme == "http" and not sections["federation"].allow_http:
        raise ConfigError(
            f"{source}: 'public_url' uses http://; use https://, or set "
            "federation.allow_http = true for a test or local network"
        )
    return f"{parts.scheme}://{parts.netloc.lower()}"


def _database_url(url: str, base_dir: Path, source: str) -> str:
    if url.startswith("sqlite+aiosqlite:///"):
        file_part = url.removeprefix("sqlite+aiosqlite:///")
        if not file_part or file_part.startswith(":memory:"):
            raise ConfigError(
                f"{source}: 'database.url' must name a SQLite file, e.g. "
                "sqlite+aiosqlite:///./data/rounds.db"
            )
        return f"sqlite+aiosqlite:///{_resolve(Path(file_part), base_dir)}"
    if url.startswith("postgresql+asyncpg://"):
        return url
    raise ConfigError(
        f"{source}: 'database.url' must start with sqlite+aiosqlite:/// or "
        f"postgresql+asyncpg://, not {url!r}"
    )


def _resolve(path: Path, base_dir: Path) -> Path:
    return path if path.is_absolute() else (base_dir / path).resolve()
