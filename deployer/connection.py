"""Where a command connects: --dsn, else DATABASE_URL, else the embedded cluster."""

from __future__ import annotations

import os
import sys
from urllib.parse import quote, urlencode

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from .embedded import EmbeddedCluster


def resolve_dsn(dsn: str | None, quiet: bool = False) -> str:
    if dsn:
        return dsn
    if os.environ.get("DATABASE_URL"):
        return os.environ["DATABASE_URL"]
    cluster = EmbeddedCluster()
    was_running = cluster.running()
    url = cluster.start()
    if not quiet and not was_running:
        print(f"embedded cluster started at {cluster.home} ({url})", file=sys.stderr)
    return url


def connect(dsn: str, **kwargs) -> psycopg.Connection:
    # application_name lets a DBA see the deployer in pg_stat_activity
    return psycopg.connect(dsn, application_name="zorina-db", **kwargs)


def with_dbname(dsn: str, dbname: str) -> str:
    return make_conninfo(dsn, dbname=dbname)


def yoyo_uri(dsn: str) -> str:
    """yoyo wants a URL; pass every libpq parameter through as a query argument."""
    params = conninfo_to_dict(dsn)
    dbname = params.pop("dbname", None) or params.get("user") or "postgres"
    return f"postgresql+psycopg:///{quote(str(dbname))}?{urlencode({k: str(v) for k, v in params.items()})}"


def describe(dsn: str) -> str:
    """The DSN without its password, for messages."""
    params = conninfo_to_dict(dsn)
    params.pop("password", None)
    return " ".join(f"{k}={v}" for k, v in params.items())
