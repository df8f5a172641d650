"""Helpers shared by the benchmarks: a throwaway instance, process pinning and RSS."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

BIN = Path(sys.executable).parent
HERE = Path(__file__).parent
SERVER_CORE = "0"
CLIENT_CORE = "1" if (os.cpu_count() or 1) > 1 else "0"
ALL_CORES = f"0-{(os.cpu_count() or 1) - 1}"  # for a process that may run anywhere, whatever its parent's pin


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def pinned(core: str, command: list[str]) -> list[str]:
    return ["taskset", "-c", core, *command] if _has_taskset() else command


def _has_taskset() -> bool:
    return subprocess.run(["which", "taskset"], capture_output=True).returncode == 0


def make_instance(users: tuple[str, ...] = ("alice",), federation: dict | None = None,
                  tables: dict[str, dict] | None = None) -> tuple[Path, int]:
    """A fresh instance in a temporary directory (SQLite unless `tables` gives a [database]
    url); returns (config path, port).

    `federation` adds keys to the [federation] table (allow_http is always true); `tables` adds
    other tables, {"api": {"requests_per_5_minutes": 100000}}, before `rounds init` runs."""
    directory = Path(tempfile.mkdtemp(prefix="rounds-bench-"))
    port = free_port()
    config = directory / "rounds.toml"
    extra = "".join(f"{key} = {json.dumps(value)}\n" for key, value in (federation or {}).items())
    for table, values in (tables or {}).items():
        extra += f"[{table}]\n" + "".join(f"{key} = {json.dumps(value)}\n" for key, value in values.items())
    config.write_text(
        f'public_url = "http://127.0.0.1:{port}"\ndata_dir = "./data"\n'
        f"[server]\nport = {port}\n[federation]\nallow_http = true\n{extra}"
    )
    rounds = str(BIN / "rounds")
    subprocess.run([rounds, "--config", str(config), "init"], check=True, capture_output=True)
    for user in users:
        subprocess.run(
            [rounds, "--config", str(config), "user", "add", user, "--random-password"],
            check=True, capture_output=True,
        )
    return config, port


def wait_for(url: str, process: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


def machine_load() -> str:
    """The 1-minute load average against the core count: a busy machine makes figures noisy."""
    return f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    """Resident memory now, or with field="VmHWM" the most the process has ever had resident."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy() -> tuple[int, int]:
    """(all CPU ticks, busy ticks) of the whole machine so far, from /proc/stat: the share busy
    between two readings says whether every core was in use (then more processes cannot help)."""
    ticks = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return sum(ticks), sum(ticks) - ticks[3] - ticks[4]  # idle and iowait are not busy


def busy_share(before: tuple[int, int], after: tuple[int, int]) -> float:
    return (after[1] - before[1]) / (after[0] - before[0]) if after[0] > before[0] else 0.0


def load_measured(pid: int, url: str, seconds: float, connections: int, depth: int,
                  headers: list[str] = (), **options) -> dict:
    """`load`, plus the share of one core the server process used meanwhile ("server_cpu")."""
    before = cpu_seconds(pid)
    result = load(url, seconds, connections, depth, headers, **options)
    result["server_cpu"] = (cpu_seconds(pid) - before) / result["seconds"]
    return result


def load(url: str, seconds: float, connections: int, depth: int, headers: list[str] = (),
         requests_file: Path | None = None, cycle: bool = False) -> dict:
    """Run bench/loadgen.py on the client core. With `requests_file` (see loadgen.write_requests)
    it sends those raw requests, each once or, with `cycle`, round and round."""
    options = ["--requests", str(requests_file)] if requests_file is not None else []
    options += ["--cycle"] if cycle else []
    out = subprocess.run(
        pinned(CLIENT_CORE, [sys.executable, str(HERE / "loadgen.py"), *options, url, str(seconds),
                             str(connections), str(depth), *headers]),
        check=True, capture_output=True, text=True,
    )
    return json.loads(out.stdout)
