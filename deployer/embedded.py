"""The embedded default: a throwaway local PostgreSQL 15 cluster with pg_cron preloaded.

With no --dsn and no DATABASE_URL every zorina-db command runs against this cluster. It lives
in a project-local folder (``$ZORINA_HOME``, else ``./.zorina``), listens on 127.0.0.1 only, on a
free port chosen at initdb time, and trusts local connections: it is for demos, development and
tests, never for production data.

initdb refuses to run as root, so when we are root the server runs as an unprivileged system
user (``zorina``), created on first use. Only the server runs as that user; the client side
(this process) stays root.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

from psycopg.conninfo import make_conninfo

SERVER_USER = "zorina"
DEFAULT_DBNAME = "zorina"
SUPERUSER = "postgres"


class EmbeddedError(RuntimeError):
    """A problem with the embedded cluster, phrased for the user."""


def default_home() -> Path:
    return Path(os.environ.get("ZORINA_HOME") or Path.cwd() / ".zorina").resolve()


def find_bindir() -> Path:
    """The directory holding initdb and pg_ctl for PostgreSQL 15."""
    candidates = []
    if os.environ.get("ZORINA_PG_BINDIR"):
        candidates.append(Path(os.environ["ZORINA_PG_BINDIR"]))
    candidates.append(Path("/usr/lib/postgresql/15/bin"))
    if shutil.which("pg_config"):
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True)
        if out.returncode == 0:
            candidates.append(Path(out.stdout.strip()))
    for candidate in candidates:
        if (candidate / "initdb").exists() and (candidate / "pg_ctl").exists():
            return candidate
    raise EmbeddedError(
        "PostgreSQL server binaries not found (looked in "
        + ", ".join(str(c) for c in candidates)
        + "); install them with: apt-get install -y postgresql-15 postgresql-15-cron"
    )


def pg_cron_available(bindir: Path) -> bool:
    """True when pg_cron's shared library is installed for this server."""
    pg_config = bindir / "pg_config"
    if not pg_config.exists():
        pg_config = Path(shutil.which("pg_config") or "pg_config")
    out = subprocess.run([str(pg_config), "--pkglibdir"], capture_output=True, text=True)
    pkglibdir = Path(out.stdout.strip()) if out.returncode == 0 else bindir.parent / "lib"
    return (pkglibdir / "pg_cron.so").exists()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


@dataclass
class EmbeddedStatus:
    home: str
    initialized: bool
    running: bool
    port: int | None
    dsn: str | None
    pg_cron: bool


class EmbeddedCluster:
    """One local cluster under ``home``: data/, run/ (socket), server.log, port."""

    def __init__(self, home: Path | str | None = None, dbname: str = DEFAULT_DBNAME,
                 extra_settings: dict[str, str] | None = None):
        self.home = Path(home).resolve() if home else default_home()
        self.dbname = dbname
        self.extra_settings = extra_settings or {}
        self.data_dir = self.home / "data"
        self.socket_dir = self.home / "run"
        self.log_file = self.home / "server.log"
        self.port_file = self.home / "port"
        self._bindir: Path | None = None

    # -- plumbing ---------------------------------------------------------------------------
    @property
    def bindir(self) -> Path:
        if self._bindir is None:
            self._bindir = find_bindir()
        return self._bindir

    def _as_server_user(self, argv: list[str]) -> list[str]:
        if os.geteuid() != 0:
            return argv
        return ["runuser", "-u", SERVER_USER, "--"] + argv

    def _run(self, argv: list[str], check: bool = True) -> subprocess.CompletedProcess:
        proc = subprocess.run(self._as_server_user(argv), capture_output=True, text=True)
        if check and proc.returncode != 0:
            detail = (proc.stderr or proc.stdout).strip().splitlines()
            raise EmbeddedError(f"{Path(argv[0]).name} failed: {detail[-1] if detail else proc.returncode}"
                                f" (server log: {self.log_file})")
        return proc

    def _ensure_server_user(self) -> None:
        if os.geteuid() != 0:
            return
        try:
            pwd.getpwnam(SERVER_USER)
        except KeyError:
            subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/bin/false",
                            SERVER_USER], check=True, capture_output=True)
        # The server user must be able to reach its folder: every parent needs o+x.
        for parent in self.home.parents:
            if parent.exists() and not os.stat(parent).st_mode & 0o001:
                raise EmbeddedError(
                    f"{parent} is not traversable by the server user '{SERVER_USER}'; "
                    f"set ZORINA_HOME to a folder outside it (e.g. /var/tmp/zorina)")
        user = pwd.getpwnam(SERVER_USER)
        for path in [self.home, *self.home.rglob("*")]:
            os.chown(path, user.pw_uid, user.pw_gid, follow_symlinks=False)

    @property
    def port(self) -> int | None:
        try:
            return int(self.port_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None

    @property
    def initialized(self) -> bool:
        return (self.data_dir / "PG_VERSION").exists()

    def _write_settings(self, port: int) -> None:
        settings = {
            "listen_addresses": "'127.0.0.1'",
            "port": str(port),
            "unix_socket_directories": f"'{self.socket_dir}'",
            "max_connections": "50",
            # what README.md tells users to set for zorina-db; the benchmarks depend on these
            "shared_buffers": "'1GB'",
            "work_mem": "'64MB'",
            "maintenance_work_mem": "'512MB'",
            "max_wal_size": "'4GB'",
        }
        if pg_cron_available(self.bindir):
            settings["shared_preload_libraries"] = "'pg_cron'"
            settings["cron.database_name"] = f"'{self.dbname}'"
            # jobs run in background workers: no libpq connection, no pg_hba entry needed
            settings["cron.use_background_workers"] = "on"
            settings["max_worker_processes"] = "16"
        settings.update(self.extra_settings)
        lines = ["# written by zorina-db embedded; edit freely, `zorina-db embedded start` keeps it"]
        lines += [f"{key} = {value}" for key, value in settings.items()]
        conf = self.data_dir / "zorina.conf"
        conf.write_text("\n".join(lines) + "\n")
        main_conf = self.data_dir / "postgresql.conf"
        include = "include_if_exists = 'zorina.conf'\n"
        if include not in main_conf.read_text():
            with main_conf.open("a") as fh:
                fh.write(include)
        self.port_file.write_text(f"{port}\n")

    # -- lifecycle --------------------------------------------------------------------------
    def init(self) -> None:
        if self.initialized:
            return
        self.home.mkdir(parents=True, exist_ok=True)
        os.chmod(self.home, 0o755)
        self.socket_dir.mkdir(exist_ok=True)
        self._ensure_server_user()
        self._run([str(self.bindir / "initdb"), "-D", str(self.data_dir), "-U", SUPERUSER,
                   "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-instructions"])
        self._write_settings(free_port())
        self._ensure_server_user()

    def running(self) -> bool:
        if not self.initialized:
            return False
        proc = self._run([str(self.bindir / "pg_ctl"), "-D", str(self.data_dir), "status"], check=False)
        return proc.returncode == 0

    def start(self) -> str:
        """Start the cluster (initializing it on first use); return the DSN. Idempotent."""
        self.init()
        if not self.running():
            port = self.port
            if port is None or not port_is_free(port):
                self._write_settings(free_port())
            self._ensure_server_user()
            self._run([str(self.bindir / "pg_ctl"), "-D", str(self.data_dir), "-l", str(self.log_file),
                       "-w", "-t", "60", "start"])
        self.ensure_database(self.dbname)
        return self.dsn()

    def stop(self) -> bool:
        """Stop the cluster; False when it was not running."""
        if not self.running():
            return False
        self._run([str(self.bindir / "pg_ctl"), "-D", str(self.data_dir), "-m", "fast", "-w", "stop"])
        return True

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.home, ignore_errors=True)

    def dsn(self, dbname: str | None = None) -> str:
        if self.port is None:
            raise EmbeddedError(f"embedded cluster at {self.home} is not initialized; run `zorina-db embedded start`")
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{dbname or self.dbname}"

    def ensure_database(self, dbname: str) -> None:
        import psycopg

        with psycopg.connect(make_conninfo(self.dsn(), dbname="postgres"), autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [dbname]).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{dbname}"')

    def status(self) -> EmbeddedStatus:
        running = self.running()
        return EmbeddedStatus(
            home=str(self.home),
            initialized=self.initialized,
            running=running,
            port=self.port,
            dsn=self.dsn() if self.port else None,
            pg_cron=self.initialized and "pg_cron" in (self.data_dir / "zorina.conf").read_text(),
        )
