"""The SQLite store: schema and migrations, the one access module, writes, queries, diffs."""

from nbtrack.store.access import connect, reading, writing
from nbtrack.store.schema import schema_version

__all__ = ["connect", "reading", "schema_version", "writing"]
