"""The SQLite store: schema and migrations, batched writes, queries, diffs."""

from nbtrack.store.schema import connect, schema_version

__all__ = ["connect", "schema_version"]
