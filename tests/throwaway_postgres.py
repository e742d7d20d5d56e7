"""A PostgreSQL server of the test's own: the machine's `initdb` and `pg_ctl`, a temp folder, a free port.

    with throwaway_postgres() as server:        # None when the machine has no PostgreSQL server binaries
        url = server.database_url("hub")         # postgresql+asyncpg://postgres@127.0.0.1:PORT/hub (created)
        server.restart()                         # pg_ctl restart -m fast: every connection is cut
        server.stop() / server.start()

Never the shared server at 5432: tests that stop or restart PostgreSQL use this.
Debian keeps `initdb` and `pg_ctl` off the PATH, in /usr/lib/postgresql/<version>/bin;
PostgreSQL refuses to run as root, so as root they run as the `postgres` user
(`runuser -u postgres --`), in a folder that user owns, outside pytest's
root-only temp folders.
"""

from __future__ import annotations

import asyncio
import glob
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from datasources.db import pg_admin

PG_USER = "postgres"
COMMAND_TIMEOUT = 120.0


def server_binaries() -> Path | None:
    """The bin folder of the machine's newest PostgreSQL server (with `initdb` and `pg_ctl`), if any."""
    found = [Path(p).parent for p in glob.glob("/usr/lib/postgresql/*/bin/initdb")]
    found.sort(key=lambda folder: int(folder.parent.name) if folder.parent.name.isdigit() else 0)
    if found:
        return found[-1]
    on_path = shutil.which("initdb")
    return Path(on_path).parent if on_path and shutil.which("pg_ctl") else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class ThrowawayPostgres:
    """One PostgreSQL cluster in `folder`, listening on 127.0.0.1:`port` only."""

    def __init__(self, binaries: Path, folder: Path, port: int) -> None:
        self.binaries = binaries
        self.folder = folder
        self.data = folder / "data"
        self.log = folder / "postgres.log"
        self.port = port
        self._as_postgres = os.geteuid() == 0

    def _run(self, tool: str, *args: str) -> None:
        command = [str(self.binaries / tool), *args]
        if self._as_postgres:
            command = ["runuser", "-u", PG_USER, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=COMMAND_TIMEOUT)
        if done.returncode != 0:
            raise RuntimeError(
                f"{tool} {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}\n{self.tail()}"
            )

    def tail(self, size: int = 3000) -> str:
        try:
            return self.log.read_text(errors="replace")[-size:]
        except OSError:
            return ""

    def init(self) -> None:
        self._run("initdb", "-D", str(self.data), "-U", PG_USER, "--auth=trust", "-E", "UTF8", "--no-sync")

    def _pg_ctl(self, action: str, *extra: str) -> None:
        # Loopback only, the socket in our own folder (never /var/run/postgresql, the shared server's).
        # Each log line starts with its Unix time (%n): `shutdown_requested_at` reads it.
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c log_line_prefix=%n"
        self._run("pg_ctl", action, "-D", str(self.data), "-l", str(self.log), "-w", "-o", options, *extra)

    def start(self) -> None:
        self._pg_ctl("start")

    def restart(self) -> None:
        """A fast restart: open transactions are rolled back, every connection is cut, then it serves again."""
        self._pg_ctl("restart", "-m", "fast")

    def shutdown_requested_at(self) -> float | None:
        """The Unix time (to the millisecond) the server last received a fast shutdown request, from its log.

        The moment its connections are cut: a caller's own clock before running pg_ctl is earlier
        by the time pg_ctl takes to start and signal, which a loaded machine makes long.
        """
        found = re.findall(
            r"^(\d+\.\d+)\s*LOG:\s+received fast shutdown request", self.tail(10_000_000), re.M
        )
        return float(found[-1]) if found else None

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "stop", "-D", str(self.data), "-m", mode, "-w")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+asyncpg://{PG_USER}@127.0.0.1:{self.port}/{database}"

    def database_url(self, name: str) -> str:
        """A new, empty database on this server; its SQLAlchemy URL."""
        asyncio.run(pg_admin(self.url(), f'CREATE DATABASE "{name}"'))
        return self.url(name)


@contextmanager
def throwaway_postgres() -> Iterator[ThrowawayPostgres | None]:
    """A running throwaway PostgreSQL, stopped and deleted afterwards; None without server binaries."""
    binaries = server_binaries()
    if binaries is None:
        yield None
        return
    folder = Path(tempfile.mkdtemp(prefix="hub-pg-"))
    if os.geteuid() == 0:
        account = pwd.getpwnam(PG_USER)
        os.chown(folder, account.pw_uid, account.pw_gid)
    server = ThrowawayPostgres(binaries, folder, _free_port())
    try:
        server.init()
        server.start()
        yield server
    finally:
        try:
            if (server.data / "postmaster.pid").exists():
                server.stop("immediate")
        finally:
            shutil.rmtree(folder, ignore_errors=True)
