"""Running the real `rounds` command against a test instance's database, as an admin would (in a
process of its own, forked with the command already imported: tests/rounds_process.py)."""

from __future__ import annotations

import contextlib
import io
import subprocess
from pathlib import Path

import pytest

from server.cli import build_parser
from tests.instances import Instance
from tests.rounds_process import run_rounds


def cli_config(instance: Instance, tmp_path: Path, federation: str = "") -> Path:
    """A config file for `rounds` naming the instance's public_url, data_dir and database (and
    more [federation] keys, as TOML lines)."""
    s = instance.settings
    config = tmp_path / "cli.toml"
    config.write_text(f'public_url = "{s.public_url}"\ndata_dir = "{s.data_dir}"\n[database]\n'
                      f'url = "{s.database.url}"\nschema = "{s.database.schema}"\n[federation]\nallow_http = true\n'
                      + federation)
    return config


def run_cli(instance: Instance, tmp_path: Path, *args: str, federation: str = "") -> subprocess.CompletedProcess:
    """`rounds --config ... ARGS` for `instance`, its output captured."""
    return run_rounds(["--config", str(cli_config(instance, tmp_path, federation)), *args])


def help_text(*args: str) -> str:
    """What `rounds ARGS --help` prints, read from the command's own parser in this process (the
    text is argparse's either way; tests/test_cli.py runs the real command for `rounds --help`,
    which spares every other help check a second of interpreter start)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as exited:
        build_parser().parse_args([*args, "--help"])
    assert exited.value.code == 0, args
    return out.getvalue()
