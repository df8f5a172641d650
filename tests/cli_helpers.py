"""Running the real `rounds` command against a test instance's database, as an admin would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.instances import Instance

ROUNDS = str(Path(sys.executable).with_name("rounds"))


def cli_config(instance: Instance, tmp_path: Path) -> Path:
    """A config file for `rounds` naming the instance's public_url, data_dir and database."""
    s = instance.settings
    config = tmp_path / "cli.toml"
    config.write_text(f'public_url = "{s.public_url}"\ndata_dir = "{s.data_dir}"\n[database]\n'
                      f'url = "{s.database.url}"\nschema = "{s.database.schema}"\n[federation]\nallow_http = true\n')
    return config


def run_cli(instance: Instance, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    """`rounds --config ... ARGS` for `instance`, its output captured."""
    return subprocess.run([ROUNDS, "--config", str(cli_config(instance, tmp_path)), *args], capture_output=True,
                          text=True, timeout=60, env=os.environ.copy(), stdin=subprocess.DEVNULL)
