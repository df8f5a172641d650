"""Configuration: every bad file is one ConfigError line naming the key and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.config import ConfigError, load_settings

GOOD = 'public_url = "https://social.chu-example.org"\n'


def _load(tmp_path: Path, text: str):
    path = tmp_path / "rounds.toml"
    path.write_text(text)
    return load_settings(path)


def test_example_config_loads_with_documented_defaults(tmp_path):
    example = Path(__file__).parents[1] / "config.example.toml"
    settings = load_settings(example)
    assert settings.public_url == "https://social.chu-example.org"
    assert settings.federation.mode == "allowlist"
    assert settings.federation.allow_http is False
    assert settings.federation.allow_private_addresses is False
    assert (settings.server.host, settings.server.port) == ("127.0.0.1", 8080)
    assert settings.sqlite_path == (example.parent / "data" / "rounds.db").resolve()


def test_relative_paths_resolve_against_the_config_file(tmp_path):
    settings = _load(tmp_path, GOOD + 'data_dir = "d"\n[database]\nurl = "sqlite+aiosqlite:///./x/r.db"\n')
    assert settings.data_dir == (tmp_path / "d").resolve()
    assert settings.database.url == f"sqlite+aiosqlite:///{(tmp_path / 'x' / 'r.db').resolve()}"


def test_settings_are_frozen(tmp_path):
    settings = _load(tmp_path, GOOD)
    with pytest.raises(AttributeError):
        settings.public_url = "https://elsewhere.example"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "missing key 'public_url'"),
        ("public_url = ", "not valid TOML"),
        (GOOD + "colour = 1\n", "unknown key 'colour'"),
        (GOOD + "[server]\nprot = 1\n", "unknown key 'prot' in [server]"),
        (GOOD + '[server]\nport = "80"\n', "'server.port' must be an integer"),
        (GOOD + "[server]\nport = 70000\n", "'server.port' must be between 1 and 65535"),
        (GOOD + "[federation]\nallow_http = 1\n", "'federation.allow_http' must be true or false"),
        (GOOD + '[federation]\nmode = "closed"\n', "'federation.mode' must be one of allowlist, blocklist, open"),
        (GOOD + '[database]\nurl = "mysql://x"\n', "'database.url' must start with"),
        (GOOD + "server = 3\n", "[server] must be a table"),
        ('public_url = "social.example"\n', "'public_url' must be an absolute URL"),
        ('public_url = "https://social.example/rounds"\n', "must be the bare origin"),
        ('public_url = "http://social.example"\n', "set federation.allow_http = true"),
        (GOOD + '[server]\nlog_level = "loud"\n', "'server.log_level' must be one of"),
        (GOOD + '[server]\ntrusted_proxies = "127.0.0.1"\n', "'server.trusted_proxies' must be a list of strings"),
        (GOOD + '[server]\ntrusted_proxies = ["10.0.0.0/8", "proxy.local"]\n',
         "'server.trusted_proxies' holds a bad address or network"),
        (GOOD + "[server]\nmax_json_depth = 7\n", "'server.max_json_depth' must be 8 to 512"),
        (GOOD + "[server]\nmax_json_depth = 513\n", "'server.max_json_depth' must be 8 to 512"),
        (GOOD + "[federation]\nfinished_retention_days = -1\n",
         "'federation.finished_retention_days' must be 0 (keep forever) or at least 1 (days), not -1.0"),
        (GOOD + "[federation]\nfailed_retention_days = 0.5\n",
         "'federation.failed_retention_days' must be 0 (keep forever) or at least 1 (days), not 0.5"),
        (GOOD + '[federation]\nfailed_retention_days = "30d"\n', "'federation.failed_retention_days' must be a number"),
    ],
)
def test_bad_config_names_the_problem(tmp_path, text, expected):
    with pytest.raises(ConfigError) as error:
        _load(tmp_path, text)
    message = str(error.value)
    assert expected in message
    assert "\n" not in message


def test_missing_file_says_how_to_fix(tmp_path):
    with pytest.raises(ConfigError, match="does not exist; copy config.example.toml"):
        load_settings(tmp_path / "nope.toml")


def test_queue_retention_defaults_and_keep_forever(tmp_path):
    settings = _load(tmp_path, GOOD)
    assert (settings.federation.finished_retention_days, settings.federation.failed_retention_days) == (7, 30)
    settings = _load(tmp_path, GOOD + "[federation]\nfinished_retention_days = 0\nfailed_retention_days = 1\n")
    assert (settings.federation.finished_retention_days, settings.federation.failed_retention_days) == (0, 1)
