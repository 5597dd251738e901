"""Migrations that run against a live district's database do not block its writes."""

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.operations import AddIndex

from apps.core.migration_operations import AddIndexOnline

PROJECT_APPS = {"core", "members", "workstations", "needs", "notifications", "projects", "reports"}


def _later_migrations():
    """Our migrations after the initial ones: the ones that meet tables already full."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    for (app, name), migration in loader.disk_migrations.items():
        if app in PROJECT_APPS and not name.endswith("_initial"):
            yield f"{app}.{name}", migration


def test_indexes_added_to_existing_tables_are_built_online():
    plain = [
        label
        for label, migration in _later_migrations()
        for operation in migration.operations
        if isinstance(operation, AddIndex) and not isinstance(operation, AddIndexOnline)
    ]
    assert plain == []


def test_migrations_building_indexes_online_are_not_atomic():
    atomic = [
        label
        for label, migration in _later_migrations()
        if any(isinstance(op, AddIndexOnline) for op in migration.operations) and migration.atomic
    ]
    assert atomic == []


@pytest.mark.django_db(transaction=True)
def test_the_sql_builds_concurrently_on_postgresql_only(capsys):
    call_command("sqlmigrate", "needs", "0003")
    sql = capsys.readouterr().out
    assert '"need_updated" ON "needs_need" ("updated_at")' in sql
    if connection.vendor == "postgresql":
        assert 'CREATE INDEX CONCURRENTLY "need_updated"' in sql
    else:
        assert "CONCURRENTLY" not in sql
