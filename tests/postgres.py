"""A real PostgreSQL server for the tests: Debian's ``postgresql`` package (installed by ``make test``), started
from a fresh cluster in a temporary directory on a free loopback port, like the tests start Label Studio.

PostgreSQL refuses to run as root: as root, the cluster belongs to the package's ``postgres`` user. Durability
settings are off (``fsync``...): the data lives as long as the test session.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

USER = "al"


def server_binaries() -> Path | None:
    """The newest installed PostgreSQL's ``bin`` folder (Debian: /usr/lib/postgresql/VERSION/bin), or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"), key=lambda p: int(Path(p).parts[-3]))
    return Path(found[-1]).parent if found else None


@dataclass
class PostgresServer:
    port: int
    process: subprocess.Popen
    base: Path

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{USER}@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """A new empty database; its SQLAlchemy URL."""
        import psycopg

        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(f"host=127.0.0.1 port={self.port} user={USER} dbname=postgres", autocommit=True) as c:
            c.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()  # "smart" shutdown
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
        shutil.rmtree(self.base, ignore_errors=True)


def start_postgres(port: int, timeout: float = 60) -> PostgresServer:
    """initdb + postgres on 127.0.0.1:``port``; raises RuntimeError with the server's log if it does not come up."""
    import psycopg

    binaries = server_binaries()
    if binaries is None:
        raise RuntimeError("PostgreSQL is not installed: `make test` installs Debian's postgresql (as root).")
    base = Path(tempfile.mkdtemp(prefix="al-postgres-"))
    as_owner: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(base, "postgres", "postgres")
        as_owner = ["runuser", "-u", "postgres", "--"]
    data, log = base / "data", base / "server.log"
    subprocess.run(
        [*as_owner, str(binaries / "initdb"), "-D", str(data), "-U", USER, "--auth=trust", "-E", "UTF8", "--no-sync"],
        check=True,
        capture_output=True,
    )
    settings = ["fsync=off", "synchronous_commit=off", "full_page_writes=off", "max_connections=200"]
    command = [str(binaries / "postgres"), "-D", str(data), "-p", str(port), "-h", "127.0.0.1", "-k", str(base)]
    for setting in settings:
        command += ["-c", setting]
    with log.open("wb") as out:
        process = subprocess.Popen([*as_owner, *command], stdout=out, stderr=subprocess.STDOUT)
    server = PostgresServer(port, process, base)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        try:
            psycopg.connect(f"host=127.0.0.1 port={port} user={USER} dbname=postgres", connect_timeout=2).close()
            return server
        except psycopg.OperationalError:
            time.sleep(0.2)
    text = log.read_text(errors="replace")[-3000:] if log.exists() else ""
    server.stop()
    raise RuntimeError(f"PostgreSQL did not start on port {port}:\n{text}")
