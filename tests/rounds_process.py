"""`rounds ARGS` as a process of its own, as an admin runs it, without paying for the interpreter
and the imports each time.

Starting Python and importing the command costs about 1.5 s of CPU, and the suite runs `rounds`
a hundred and more times. So each test process keeps one server of processes (multiprocessing's
forkserver) that imported `server.cli` once; every command is a child forked from it, which
takes its own arguments, environment, working directory, stdin (/dev/null), stdout and stderr,
runs `main` as the console script does, and exits with its status. Long-running commands the
tests signal (`rounds serve`, `rounds worker`) still start the real executable.
"""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from server.cli import main

ROUNDS = str(Path(sys.executable).with_name("rounds"))
_FORKS = multiprocessing.get_context("forkserver")
_FORKS.set_forkserver_preload([__name__])


def _command(args: list[str], env: dict[str, str], cwd: str, out: str, err: str) -> None:
    """In the forked child: become `rounds ARGS` and exit with its status."""
    os.environ.clear()
    os.environ.update(env)
    os.chdir(cwd)
    for fd, path, flags in ((0, os.devnull, os.O_RDONLY), (1, out, os.O_WRONLY), (2, err, os.O_WRONLY)):
        opened = os.open(path, flags)
        os.dup2(opened, fd)
        os.close(opened)
    sys.argv = [ROUNDS, *args]
    sys.exit(main(args))


def run_rounds(args: list[str], *, env: dict[str, str] | None = None, timeout: float = 60
               ) -> subprocess.CompletedProcess:
    """`rounds ARGS` in a child process, with `env` (default: this process's), its output captured
    as text, as `subprocess.run([rounds, *args], capture_output=True, text=True)` gives it."""
    with tempfile.TemporaryDirectory(prefix="rounds-cli-") as directory:
        out, err = Path(directory) / "stdout", Path(directory) / "stderr"
        out.touch()
        err.touch()
        child = _FORKS.Process(target=_command, args=(list(args), dict(os.environ if env is None else env),
                                                      os.getcwd(), str(out), str(err)))
        child.start()
        child.join(timeout)
        if child.exitcode is None:
            child.kill()
            child.join()
            raise subprocess.TimeoutExpired([ROUNDS, *args], timeout)
        return subprocess.CompletedProcess([ROUNDS, *args], child.exitcode,
                                           out.read_text(encoding="utf-8"), err.read_text(encoding="utf-8"))
