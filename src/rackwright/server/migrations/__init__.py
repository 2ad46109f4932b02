"""Alembic migrations of the server's schema; applied by :func:`rackwright.server.db.upgrade` on start."""
