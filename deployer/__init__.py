"""zorina-db: the deployer behind the `zorina-db` command (apply, refresh, embedded cluster...).

Thin on purpose: parse arguments, connect, run the SQL that ships in deployer/sql, print.
"""

__version__ = "0.1.0"
