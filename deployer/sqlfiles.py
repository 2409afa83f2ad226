"""The SQL that ships with the package (db/ in the repository, deployer/sql once installed)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path


def sql_root() -> Path:
    """deployer/sql in an installed wheel; the repository's db/ in a source or editable checkout."""
    installed = Path(__file__).parent / "sql"
    if (installed / "migrations").is_dir():
        return installed
    checkout = Path(__file__).resolve().parent.parent / "db"
    if (checkout / "migrations").is_dir():
        return checkout
    raise FileNotFoundError(f"zorina-db SQL files not found in {installed} or {checkout}")


@dataclass(frozen=True)
class SqlFile:
    kind: str      # 'source', 'function', 'view'
    name: str      # file stem, e.g. refresh_customer_analytics
    path: Path

    @property
    def text(self) -> str:
        return self.path.read_text(encoding="utf-8")

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.path.read_bytes()).hexdigest()


def files(kind: str) -> list[SqlFile]:
    folder = {"source": "source", "function": "functions", "view": "views"}[kind]
    return [SqlFile(kind, p.stem, p) for p in sorted((sql_root() / folder).glob("*.sql"))]


def migrations_dir() -> Path:
    return sql_root() / "migrations"
