"""Finding a PostgreSQL for the tests, or starting one.

In order: `TEST_DATABASE_URL`; a server on 127.0.0.1:5432 (trust auth, database `test`, as the
project's machines have); otherwise a throwaway cluster from the local binaries, run as an
unprivileged user when we are root (initdb refuses root). `ROASBOT_TEST_PG=local` forces the
throwaway cluster, so that path is tested too.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path

import psycopg2

DEFAULT_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/test"


def reachable(url: str) -> bool:
    from sqlalchemy.engine import make_url

    u = make_url(url)
    try:
        psycopg2.connect(
            host=u.host, port=u.port or 5432, user=u.username, password=u.password,
            dbname=u.database, connect_timeout=3,
        ).close()  # fmt: skip
        return True
    except psycopg2.OperationalError:
        return False


def _binary(name: str) -> str:
    found = shutil.which(name) or next(
        iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None
    )
    if not found:
        raise RuntimeError(
            f"no PostgreSQL reachable and no '{name}' binary to start one: install PostgreSQL "
            "or set TEST_DATABASE_URL"
        )
    return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LocalCluster:
    """A PostgreSQL cluster in a temp dir that a test may stop and start again."""

    def __init__(self) -> None:
        self.user = "nobody" if os.geteuid() == 0 else None
        self.tmp = Path(tempfile.mkdtemp(prefix="roasbot-pg-"))
        self.data, self.sock = self.tmp / "data", self.tmp / "sock"
        self.sock.mkdir()
        if self.user:
            shutil.chown(self.tmp, self.user)
            shutil.chown(self.sock, self.user)
        self.prefix = ["runuser", "-u", self.user, "--"] if self.user else []
        self.port = _free_port()
        self.role = self.user or os.environ.get("USER") or "postgres"
        self.url = f"postgresql+psycopg2://{self.role}@127.0.0.1:{self.port}/postgres"
        self._run(_binary("initdb"), "-D", str(self.data), "-A", "trust", "-U", self.role,
                  "-E", "UTF8")  # fmt: skip

    def _run(self, *command: str) -> None:
        subprocess.run([*self.prefix, *command], check=True, capture_output=True)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.sock} -h 127.0.0.1 -F"
        self._run(_binary("pg_ctl"), "-D", str(self.data), "-o", options, "-l",
                  str(self.tmp / "log"), "-w", "start")  # fmt: skip

    def stop(self) -> None:
        self._run(_binary("pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def remove(self) -> None:
        subprocess.run([*self.prefix, _binary("pg_ctl"), "-D", str(self.data), "-m", "immediate",
                        "stop"], capture_output=True)  # fmt: skip
        shutil.rmtree(self.tmp, ignore_errors=True)


@contextmanager
def local_cluster():
    """A running throwaway cluster for the duration of the block; yields its URL."""
    cluster = LocalCluster()
    try:
        cluster.start()
        yield cluster.url
    finally:
        cluster.remove()


@contextmanager
def test_server():
    """The URL of a PostgreSQL for this test session."""
    if os.environ.get("TEST_DATABASE_URL"):
        yield os.environ["TEST_DATABASE_URL"]
    elif os.environ.get("ROASBOT_TEST_PG") != "local" and reachable(DEFAULT_URL):
        yield DEFAULT_URL
    else:
        with local_cluster() as url:
            yield url
