"""The control plane's PostgreSQL in multi-machine mode, when no DATABASE_URL is given.

run-all keeps a cluster of its own in ``<data_dir>/postgres`` and runs its
server like any other child (:meth:`Cluster.spec`): in the foreground, dying
with run-all, listening on one address (the controller machine's underlay
address, inside that machine's network namespace: ``exec_prefix`` is
``ip netns exec NS``) and on a unix socket in ``<data_dir>/postgres-run``,
which every namespace reaches because it is a file. The supervisor's order::

    cluster.ensure()                       # initdb the first time; clear a stale lock
    supervisor.start(cluster.spec())       # returns once the socket exists
    cluster.wait_ready()                   # the socket exists before recovery ends
    cluster.create_databases(["identity", ...])
    ...  # every component gets database_url = cluster.url(its database)

:meth:`Cluster.start` and :meth:`Cluster.stop` do the same through ``pg_ctl``,
for a cluster nobody supervises (tests, tools).

initdb and postgres refuse to run as root. As root they run in a user
namespace of their own (``unshare --user``) where our uid 0 is ``nobody``:
there they are not root, the root-owned data directory is their own, and what
they write lands on disk owned by root, inside the data directory. Nothing is
chowned and no system user is made.
"""

from __future__ import annotations

import contextlib
import dataclasses
import glob
import logging
import os
import pwd
import re
import shlex
import shutil
import signal
import subprocess
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

from components.supervisor.plan import ProcessSpec

log = logging.getLogger(__name__)

USER = "stratus"
# Ten processes of the control plane, each holding a connection per thread that used
# the database (up to its 64 RPC workers and its background threads): 195 were open
# with 10 boots in flight, and 300 ran out at 50 (an INTERNAL error). Idle backends
# cost a few MB each.
MAX_CONNECTIONS = 1000
# The longest unix socket path the kernel takes (sun_path, with its final NUL).
MAX_SOCKET_PATH = 107
DATABASE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
# Who may connect: the superuser stratus, without a password, from anywhere it
# can reach the server. The server listens only on the controller's underlay
# address, which only the rack's machines reach (a development cloud's rack is
# network namespaces on one host); a cloud across real machines would want
# scram-sha-256 and a password under <data_dir>/secrets instead.
HBA = f"""\
# Written by Stratus (components/supervisor/postgres.py).
local all {USER} trust
host all {USER} 0.0.0.0/0 trust
host all {USER} ::/0 trust
"""
# A development cloud: a crash of the machine (not of postgres) may lose the last
# transactions or damage the cluster (then delete <data_dir>/postgres); in exchange
# no write waits for the disk. A commit still hands its WAL to the kernel before it
# returns (synchronous_commit stays on, which costs a write(), no fsync), so a
# server killed with SIGKILL loses nothing that was committed.
DURABILITY = {"fsync": "off", "full_page_writes": "off"}


class ClusterError(Exception):
    """The cluster cannot be made, started or stopped; the message says why."""


def bin_dir() -> Path | None:
    """Where initdb, pg_ctl, postgres, pg_isready and psql are (the newest version),
    or None when PostgreSQL is not installed."""
    found = shutil.which("initdb")
    if found:
        return Path(os.path.realpath(found)).parent
    # /usr/lib/postgresql/<version>/bin (Debian's layout), the highest version.
    versions = [Path(path).parent for path in glob.glob("/usr/lib/postgresql/*/bin/initdb")]
    versions = [path for path in versions if path.parent.name.isdigit()]
    return max(versions, key=lambda path: int(path.parent.name), default=None)


def as_postgres_user() -> list[str]:
    """The prefix that runs initdb, pg_ctl or postgres as a user they accept: as root, a
    user namespace where root is ``nobody``; otherwise nothing."""
    if os.geteuid() != 0:
        return []
    try:
        nobody = pwd.getpwnam("nobody")
    except KeyError:
        raise ClusterError(
            "no user 'nobody' to run PostgreSQL as (initdb looks its uid up)"
        ) from None
    return [
        "unshare",
        "--user",
        f"--map-user={nobody.pw_uid}",
        f"--map-group={nobody.pw_gid}",
        "--",
    ]


@dataclasses.dataclass(frozen=True)
class Cluster:
    """One PostgreSQL cluster: ``<data_dir>/postgres``, served on ``host:port`` by a
    server started through ``exec_prefix`` (``["ip", "netns", "exec", NS]``, or nothing)."""

    data_dir: Path
    host: str
    port: int
    exec_prefix: Sequence[str] = ()  # kept as a tuple

    def __post_init__(self) -> None:
        object.__setattr__(self, "data_dir", Path(self.data_dir).absolute())
        object.__setattr__(self, "exec_prefix", tuple(self.exec_prefix))

    @property
    def pgdata(self) -> Path:
        return self.data_dir / "postgres"

    @property
    def socket_dir(self) -> Path:
        return self.data_dir / "postgres-run"

    @property
    def socket(self) -> Path:
        return self.socket_dir / f".s.PGSQL.{self.port}"

    @property
    def log_path(self) -> Path:
        """Where the server started by :meth:`start` logs (the supervisor's own log of
        a child named ``postgres`` is the same file)."""
        return self.data_dir / "logs" / "postgres.log"

    def url(self, database: str) -> str:
        """What a component is given as its database URL."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"postgresql://{USER}@{host}:{self.port}/{database}"

    def settings(self) -> dict[str, str]:
        return {
            "listen_addresses": self.host,
            "port": str(self.port),
            "unix_socket_directories": str(self.socket_dir),
            "max_connections": str(MAX_CONNECTIONS),
            **DURABILITY,
        }

    def options(self) -> list[str]:
        return [arg for key, value in self.settings().items() for arg in ("-c", f"{key}={value}")]

    def argv(self) -> list[str]:
        """The server in the foreground, as the supervisor runs it. Every program of the
        chain execs the next, so the child's pid is the postmaster's."""
        postgres = str(self._bin("postgres"))
        return [
            *self.exec_prefix,
            *as_postgres_user(),
            postgres,
            "-D",
            str(self.pgdata),
            *self.options(),
        ]

    def spec(self) -> ProcessSpec:
        """The server as a supervised child, ready once its unix socket answers (which it
        does from any network namespace). It answers before crash recovery is over:
        call :meth:`wait_ready` after. SIGTERM (the supervisor's stop) is PostgreSQL's
        smart shutdown, which waits for the components' sessions to end."""
        # The port is checked free only where the check looks (this namespace).
        port = 0 if self.exec_prefix else self.port
        return ProcessSpec(
            "postgres",
            "",
            port,
            dict(os.environ),
            command=tuple(self.argv()),
            unix_socket=str(self.socket),
        )

    def ensure(self, timeout: float = 30.0) -> None:
        """Make the cluster if it is not there, and clear what a killed server left
        (waiting up to ``timeout`` for one still shutting down). Call before each start."""
        if len(str(self.socket)) > MAX_SOCKET_PATH:
            raise ClusterError(
                f"{self.socket} is too long for a unix socket; use a shorter data directory"
            )
        if not (self.pgdata / "PG_VERSION").exists():
            self._initdb()
        self._clear_stale_lock(timeout)
        self.socket_dir.mkdir(parents=True, exist_ok=True)

    def start(self, timeout: float = 30.0) -> None:
        """:meth:`ensure`, then the server in the background (``pg_ctl start``), until it
        accepts connections."""
        self.ensure(timeout)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        pg_ctl = [
            str(self._bin("pg_ctl")),
            "start",
            "-D",
            str(self.pgdata),
            "-l",
            str(self.log_path),
        ]
        pg_ctl += ["-w", "-t", str(int(timeout)), "-o", shlex.join(self.options())]
        result = self._run([*self.exec_prefix, *as_postgres_user(), *pg_ctl], timeout + 10)
        if result.returncode != 0:
            raise ClusterError(
                f"postgres did not start ({result.stdout.strip()}); see {self.log_path}"
            )
        self.wait_ready(timeout)

    def wait_ready(self, timeout: float = 30.0) -> None:
        """Until the server accepts connections on ``host:port`` (asked from inside the
        server's namespace), at most ``timeout`` seconds."""
        isready = [str(self._bin("pg_isready")), "-h", self.host, "-p", str(self.port)]
        isready += ["-U", USER, "-d", "postgres", "-t", "2"]
        deadline = time.monotonic() + timeout
        while True:
            result = self._run([*self.exec_prefix, *isready], 10)
            if result.returncode == 0:
                return
            if result.returncode == 3:  # no attempt made: the parameters are wrong
                raise ClusterError(f"pg_isready: {result.stdout.strip()}")
            if time.monotonic() >= deadline:
                raise TimeoutError(
                    f"postgres on {self.host}:{self.port} not ready within {timeout:.0f}s"
                )
            time.sleep(0.1)

    def create_databases(self, names: Iterable[str]) -> list[str]:
        """Create those of ``names`` that do not exist; return them. Through the unix
        socket, so from any namespace."""
        names = list(dict.fromkeys(names))
        for name in names:
            if not DATABASE_NAME.fullmatch(name):
                raise ValueError(f"not a database name Stratus uses: {name!r}")
        existing = set(self._psql("SELECT datname FROM pg_database").split())
        created = [name for name in names if name not in existing]
        for name in created:
            self._psql(f'CREATE DATABASE "{name}"')
            log.info("created database %s", name)
        return created

    def running_pid(self) -> int | None:
        """The postmaster's pid if one runs on this cluster."""
        pid = self._lock_pid()
        return pid if pid is not None and pid in self.server_pids() else None

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the server (fast: sessions are cut, the cluster is consistent), killing it
        if ``pg_ctl stop`` cannot within ``timeout``; return once none of its processes
        is left. Nothing running: nothing to do."""
        stopped = True
        if self.running_pid() is not None:
            pg_ctl = [str(self._bin("pg_ctl")), "stop", "-D", str(self.pgdata), "-m", "fast"]
            pg_ctl += ["-w", "-t", str(int(timeout))]
            # Signals only: no need to enter the server's network namespace.
            result = self._run([*as_postgres_user(), *pg_ctl], timeout + 10)
            stopped = result.returncode == 0
            if not stopped:
                log.warning("pg_ctl stop failed (%s); killing postgres", result.stdout.strip())
        # The children of a postmaster that was killed end once they notice (in a second).
        if stopped and self._wait_gone(5.0):
            return
        for pid in self.server_pids():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if not self._wait_gone(10.0):
            raise ClusterError(f"postgres processes {self.server_pids()} outlived SIGKILL")

    def _initdb(self) -> None:
        if self.pgdata.exists() and any(self.pgdata.iterdir()):
            raise ClusterError(f"{self.pgdata} is not empty and holds no cluster (no PG_VERSION)")
        # Made aside and renamed: a killed initdb never leaves half a cluster in place.
        staging = self.data_dir / "postgres.initdb"
        shutil.rmtree(staging, ignore_errors=True)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        initdb = [str(self._bin("initdb")), "-D", str(staging), "-U", USER, "-A", "trust"]
        initdb += ["-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"]
        result = self._run([*as_postgres_user(), *initdb], 120)
        if result.returncode != 0:
            raise ClusterError(f"initdb failed: {result.stdout.strip()}")
        (staging / "pg_hba.conf").write_text(HBA)
        os.replace(staging, self.pgdata)  # an empty pgdata is replaced
        log.info("made PostgreSQL cluster %s", self.pgdata)

    def _clear_stale_lock(self, timeout: float) -> None:
        """A server killed with SIGKILL leaves postmaster.pid and the socket's lock; its
        pid may since be another root process's, which postgres would take for itself
        (as root in a user namespace it may signal every root process). Once none of
        the cluster's processes is left, both files are removed."""
        if not self._wait_gone(timeout):
            raise ClusterError(
                f"postgres already runs on {self.pgdata} (pids {self.server_pids()})"
            )
        stale = [
            self.pgdata / "postmaster.pid",
            self.socket,
            self.socket.with_name(self.socket.name + ".lock"),
        ]
        for path in stale:
            if path.exists():
                log.info("removing %s left by a server that is gone", path)
                path.unlink(missing_ok=True)

    def _wait_gone(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while self.server_pids():
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.1)
        return True

    def server_pids(self) -> list[int]:
        """The live processes of this cluster's server: the postmaster and its children
        run the postgres binary and work in the data directory (a zombie does neither)."""
        binary = os.path.realpath(self._bin("postgres"))
        cwd = str(self.pgdata.resolve())
        pids = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            with contextlib.suppress(OSError):
                if os.readlink(entry / "cwd") == cwd and os.readlink(entry / "exe") == binary:
                    pids.append(int(entry.name))
        return pids

    def _lock_pid(self) -> int | None:
        try:
            first = (self.pgdata / "postmaster.pid").read_text().split("\n", 1)[0].strip()
        except OSError:
            return None
        return int(first) if first.isdigit() else None

    def _psql(self, sql: str) -> str:
        psql = [str(self._bin("psql")), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"]
        psql += ["-h", str(self.socket_dir), "-p", str(self.port), "-U", USER, "-d", "postgres"]
        result = self._run([*psql, "-c", sql], 30)
        if result.returncode != 0:
            raise ClusterError(f"psql {sql!r} failed: {result.stdout.strip()}")
        return result.stdout

    def _bin(self, name: str) -> Path:
        found = bin_dir()
        if found is None:
            raise ClusterError(
                "PostgreSQL is not installed (no initdb on PATH or in /usr/lib/postgresql)"
            )
        return found / name

    @staticmethod
    def _run(command: list[str], timeout: float) -> subprocess.CompletedProcess:
        try:
            return subprocess.run(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                timeout=timeout,
            )
        except FileNotFoundError:
            raise ClusterError(f"{command[0]} is not installed") from None
        except subprocess.TimeoutExpired:
            raise ClusterError(f"{' '.join(command[:6])} ... took over {timeout:.0f}s") from None
