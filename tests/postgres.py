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


@contextmanager
def local_cluster():
    """A PostgreSQL cluster in a temp dir for the duration of the block; yields its URL."""
    user = "nobody" if os.geteuid() == 0 else None
    tmp = Path(tempfile.mkdtemp(prefix="roasbot-pg-"))
    data, sock = tmp / "data", tmp / "sock"
    sock.mkdir()
    if user:
        shutil.chown(tmp, user)
        shutil.chown(sock, user)
    prefix = ["runuser", "-u", user, "--"] if user else []
    port = _free_port()
    role = user or os.environ.get("USER") or "postgres"
    subprocess.run(
        [*prefix, _binary("initdb"), "-D", str(data), "-A", "trust", "-U", role, "-E", "UTF8"],
        check=True, capture_output=True,
    )  # fmt: skip
    options = f"-p {port} -k {sock} -h 127.0.0.1 -F"
    pg_ctl = _binary("pg_ctl")
    subprocess.run(
        [*prefix, pg_ctl, "-D", str(data), "-o", options, "-l", str(tmp / "log"), "-w", "start"],
        check=True, capture_output=True,
    )  # fmt: skip
    try:
        yield f"postgresql+psycopg2://{role}@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*prefix, pg_ctl, "-D", str(data), "-m", "immediate", "stop"],
                       capture_output=True)  # fmt: skip
        shutil.rmtree(tmp, ignore_errors=True)


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
