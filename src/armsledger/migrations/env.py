"""Alembic's environment: migrate over the connection :func:`armsledger.migrations.upgrade`
hands in (never a URL of its own, never offline SQL)."""

from __future__ import annotations

from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
