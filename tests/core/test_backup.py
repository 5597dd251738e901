"""manage.py backup / restore: the demo district survives a round trip on SQLite and PostgreSQL.

The test database is in memory (SQLite) or owned by pytest-django (PostgreSQL), so the round
trips run ``manage.py`` in subprocesses against scratch databases of their own: a SQLite file
under tmp, or a PostgreSQL database created and dropped here. The demo district is loaded
once per module (it takes several seconds); each test works on its own copy.
"""

import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tarfile
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
import pytest
from django.conf import settings

from apps.core import backup
from apps.core.backup import BackupError

ROOT = Path(__file__).resolve().parents[2]
# Tables whose counts must come back; every other table is compared as well.
COUNTED = [
    "members_member",
    "needs_need",
    "projects_serviceproject",
    "needs_needevent",
    "projects_projectevent",
]
CONFIGURED_VENDOR = backup.vendor_of(settings.DATABASES["default"])
WRITTEN_LINE = re.compile(r"数据库备份已写入 (?P<path>\S+)（(?P<size>[\d.]+ [KMG]?B)")
SQLITE_ENGINE = "django.db.backends.sqlite3"
POSTGRES_ENGINE = "django.db.backends.postgresql"


def manage(*args, database_url, media_root, backup_dir):
    """Run manage.py in a subprocess against another database, with DEBUG on (for load_demo)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DJANGO_SETTINGS_MODULE", "DATABASE_URL", "DEBUG"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.local",
        DEBUG="true",
        DATABASE_URL=database_url,
        MEDIA_ROOT=str(media_root),
        BACKUP_DIR=str(backup_dir),
    )
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,  # not a terminal: restore must not wait for an answer
        capture_output=True,
        text=True,
        timeout=600,
    )


def ok(result):
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def written_snapshot(stdout):
    match = WRITTEN_LINE.search(stdout)
    assert match, stdout
    return Path(match["path"])


def media_files(root):
    return sorted(
        (str(path.relative_to(root)), path.read_bytes())
        for path in root.rglob("*")
        if path.is_file()
    )


def sqlite_counts(path):
    with sqlite3.connect(path) as conn:
        tables = [
            name
            for (name,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        return {
            table: conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0] for table in tables
        }


def small_sqlite(path, rows=3):
    """A tiny file that passes for this site's database: a django_migrations table and data."""
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE django_migrations (id INTEGER PRIMARY KEY, app TEXT)")
        conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
        conn.executemany("INSERT INTO notes (body) VALUES (?)", [(f"n{i}",) for i in range(rows)])
    conn.close()
    return {"ENGINE": SQLITE_ENGINE, "NAME": str(path)}


def note_count(path):
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT count(*) FROM notes").fetchone()[0]


# SQLite round trip ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sqlite_demo(tmp_path_factory):
    """A migrated SQLite file holding the demo district, and the uploads load_demo made."""
    if CONFIGURED_VENDOR != "sqlite":
        pytest.skip("SQLite round trip runs in the SQLite run of the suite")
    base = tmp_path_factory.mktemp("sqlite-demo")
    db = base / "demo.sqlite3"
    run = {
        "database_url": f"sqlite:///{db}",
        "media_root": base / "media",
        "backup_dir": base / "unused",
    }
    ok(manage("migrate", "--noinput", "-v0", **run))
    ok(manage("load_demo", "-v0", **run))
    counts = sqlite_counts(db)
    assert all(counts[table] > 0 for table in COUNTED), counts
    return db, base / "media", counts


@pytest.fixture
def sqlite_site(sqlite_demo, tmp_path):
    """A private copy of the demo database and its uploads, and where its backups go."""
    pristine, pristine_media, counts = sqlite_demo
    db = tmp_path / "site.sqlite3"
    shutil.copy(pristine, db)
    media = tmp_path / "media"
    if pristine_media.exists():
        shutil.copytree(pristine_media, media)
    run = {
        "database_url": f"sqlite:///{db}",
        "media_root": media,
        "backup_dir": tmp_path / "backups",
    }
    return db, run, counts


def test_sqlite_round_trip_brings_back_demo_data_and_uploads(sqlite_site):
    db, run, counts = sqlite_site
    uploads = media_files(run["media_root"])

    # No --output: the files go to BACKUP_DIR.
    result = ok(manage("backup", "--media", **run))
    snapshot = written_snapshot(result.stdout)
    assert snapshot.parent == run["backup_dir"]
    assert re.fullmatch(r"zhigong-\d{8}T\d{6}Z-sqlite\.sqlite3", snapshot.name)
    archive = snapshot.with_name(snapshot.name.replace("-sqlite.sqlite3", "-media.tar.gz"))
    assert str(archive) in result.stdout
    assert sqlite_counts(snapshot) == counts
    # Personal data: only the owner may read the snapshots; no half-written leftovers.
    assert {path.stat().st_mode & 0o777 for path in (snapshot, archive)} == {0o600}
    assert sorted(p.name for p in run["backup_dir"].iterdir()) == sorted(
        [snapshot.name, archive.name]
    )

    with sqlite3.connect(db) as conn:
        for table in COUNTED:
            conn.execute(f"DELETE FROM {table}")
        conn.execute("DROP TABLE reports_followupcall")
    conn.close()
    shutil.rmtree(run["media_root"], ignore_errors=True)

    result = ok(manage("restore", str(snapshot), "--yes", "--media", str(archive), **run))
    assert "已用" in result.stdout

    assert sqlite_counts(db) == counts
    assert media_files(run["media_root"]) == uploads


def test_restore_without_yes_refuses_and_changes_nothing(sqlite_site):
    db, run, counts = sqlite_site
    snapshot = written_snapshot(ok(manage("backup", **run)).stdout)
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM needs_needevent")
    conn.close()

    result = manage("restore", str(snapshot), **run)

    assert result.returncode != 0
    assert "--yes" in result.stderr
    assert sqlite_counts(db)["needs_needevent"] == 0


# SQLite, on small files ----------------------------------------------------------------------


def test_backup_is_consistent_while_another_connection_writes(tmp_path):
    site = small_sqlite(tmp_path / "site.sqlite3", rows=3)
    writer = sqlite3.connect(site["NAME"], isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO notes (body) VALUES ('not yet committed')")
    try:
        written = backup.backup_database(site, tmp_path / "backups")
    finally:
        writer.execute("ROLLBACK")
        writer.close()

    assert note_count(written.path) == 3
    assert written.size == written.path.stat().st_size > 0


def test_restore_replaces_the_database_file(tmp_path):
    site = small_sqlite(tmp_path / "site.sqlite3", rows=3)
    written = backup.backup_database(site, tmp_path / "backups")
    with sqlite3.connect(site["NAME"]) as conn:
        conn.execute("DELETE FROM notes")
        conn.execute("CREATE TABLE added_later (id INTEGER)")
    conn.close()

    backup.restore_database(site, written.path)

    assert note_count(site["NAME"]) == 3
    assert "added_later" not in sqlite_counts(site["NAME"])


@pytest.mark.parametrize("name", [":memory:", "file:memorydb_default?mode=memory&cache=shared"])
def test_in_memory_database_is_refused(tmp_path, name):
    snapshot = backup.backup_database(small_sqlite(tmp_path / "s.sqlite3"), tmp_path).path
    memory = {"ENGINE": SQLITE_ENGINE, "NAME": name}

    with pytest.raises(BackupError, match="内存"):
        backup.restore_database(memory, snapshot)
    with pytest.raises(BackupError, match="in memory"):
        backup.backup_database(memory, tmp_path / "backups")


def test_backup_of_a_missing_database_file_creates_nothing(tmp_path):
    site = {"ENGINE": SQLITE_ENGINE, "NAME": str(tmp_path / "missing.sqlite3")}

    with pytest.raises(BackupError, match="不存在"):
        backup.backup_database(site, tmp_path / "backups")

    assert not (tmp_path / "missing.sqlite3").exists()
    assert list((tmp_path / "backups").iterdir()) == []


def test_backup_never_overwrites_a_snapshot(tmp_path):
    site = small_sqlite(tmp_path / "site.sqlite3", rows=3)
    when = datetime(2026, 1, 15, 8, 30, tzinfo=UTC)
    first = backup.backup_database(site, tmp_path / "backups", now=when)
    before = first.path.read_bytes()
    with sqlite3.connect(site["NAME"]) as conn:
        conn.execute("DELETE FROM notes")
    conn.close()

    with pytest.raises(BackupError, match="已存在"):
        backup.backup_database(site, tmp_path / "backups", now=when)

    assert first.path.read_bytes() == before
    assert [p.name for p in (tmp_path / "backups").iterdir()] == [first.path.name]


def test_restore_refuses_missing_and_foreign_files(tmp_path):
    site = small_sqlite(tmp_path / "site.sqlite3")
    garbage = tmp_path / "notes.txt"
    garbage.write_text("not a backup")
    foreign = tmp_path / "foreign.sqlite3"
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE other (id INTEGER)")
    conn.close()

    with pytest.raises(BackupError, match="找不到文件"):
        backup.restore_database(site, tmp_path / "nope.sqlite3")
    with pytest.raises(BackupError, match="不是数据库备份文件"):
        backup.restore_database(site, garbage)
    with pytest.raises(BackupError, match="不是本站的数据库"):
        backup.restore_database(site, foreign)
    assert note_count(site["NAME"]) == 3


def test_restore_refuses_a_snapshot_of_the_other_vendor(tmp_path):
    site = small_sqlite(tmp_path / "site.sqlite3")
    sqlite_snapshot = backup.backup_database(site, tmp_path / "backups").path
    pg_dump_file = tmp_path / "zhigong-20260115T083000Z-postgresql.dump"
    pg_dump_file.write_bytes(b"PGDMP\x01\x0e\x00" + b"\x00" * 64)
    postgres = {"ENGINE": POSTGRES_ENGINE, "NAME": "zhigong", "HOST": "127.0.0.1"}

    with pytest.raises(BackupError, match="PostgreSQL备份，而当前数据库是 SQLite"):
        backup.restore_database(site, pg_dump_file)
    with pytest.raises(BackupError, match="SQLite备份，而当前数据库是 PostgreSQL"):
        backup.restore_database(postgres, sqlite_snapshot)


def test_keep_prunes_only_older_snapshots_of_the_same_kind(tmp_path):
    names = [
        "zhigong-20250101T000000Z-sqlite.sqlite3",
        "zhigong-20250102T000000Z-sqlite.sqlite3",
        "zhigong-20250103T000000Z-sqlite.sqlite3",
        "zhigong-20250101T000000Z-media.tar.gz",
        "zhigong-20250101T000000Z-postgresql.dump",
        "notes.txt",
        ".zhigong-20250104T000000Z-sqlite.sqlite3.partial",
    ]
    for name in names:
        (tmp_path / name).write_bytes(b"x")

    removed = backup.prune(tmp_path, "sqlite", keep=2)

    assert [p.name for p in removed] == ["zhigong-20250101T000000Z-sqlite.sqlite3"]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(names[1:])


# Uploaded files ------------------------------------------------------------------------------


def test_media_archive_round_trip(tmp_path):
    media = tmp_path / "media"
    (media / "needs" / "2026").mkdir(parents=True)
    (media / "needs" / "2026" / "a1b2.jpg").write_bytes(b"\xff\xd8photo")
    (media / "projects").mkdir()
    (media / "projects" / "c3d4.pdf").write_bytes(b"%PDF-1.7")
    archive = backup.backup_media(media, tmp_path / "backups").path
    expected = media_files(media)
    shutil.rmtree(media)

    count = backup.restore_media(archive, media)

    assert count == 2
    assert media_files(media) == expected


def test_media_archive_cannot_write_outside_media_root(tmp_path):
    evil = tmp_path / "evil.tar.gz"
    payload = tmp_path / "payload"
    payload.write_text("owned")
    with tarfile.open(evil, "w:gz") as tar:
        tar.add(payload, arcname="../escaped.txt")

    with pytest.raises(BackupError, match="无法解开"):
        backup.restore_media(evil, tmp_path / "media")

    assert not (tmp_path / "escaped.txt").exists()


# PostgreSQL, without a server ----------------------------------------------------------------


def test_postgres_password_goes_in_the_environment_not_the_command_line(tmp_path):
    if shutil.which("pg_dump") is None:
        pytest.skip("pg_dump is not installed")
    site = {
        "ENGINE": POSTGRES_ENGINE,
        "NAME": "zhigong",
        "USER": "union",
        "PASSWORD": "s3cret-Pa55",
        "HOST": "db.internal",
        "PORT": "5433",
        "OPTIONS": {"sslmode": "require"},
    }

    args, env = backup.pg_dump_command(site, tmp_path / "out.dump")

    assert not any("s3cret" in arg for arg in args)
    assert env["PGPASSWORD"] == "s3cret-Pa55"
    assert env["PGSSLMODE"] == "require"
    for expected in ("--format=custom", "--host=db.internal", "--port=5433", "--dbname=zhigong"):
        assert expected in args


def test_missing_pg_dump_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    site = {"ENGINE": POSTGRES_ENGINE, "NAME": "zhigong", "OPTIONS": {}}

    with pytest.raises(BackupError, match="找不到 pg_dump"):
        backup.backup_database(site, tmp_path / "backups")

    assert list((tmp_path / "backups").iterdir()) == []


def test_failed_pg_dump_leaves_no_file(tmp_path):
    if shutil.which("pg_dump") is None:
        pytest.skip("pg_dump is not installed")
    # Nothing listens on port 1: pg_dump fails at once.
    site = {"ENGINE": POSTGRES_ENGINE, "NAME": "zhigong", "HOST": "127.0.0.1", "PORT": "1"}

    with pytest.raises(BackupError, match="pg_dump 失败"):
        backup.backup_database(site, tmp_path / "backups")

    assert list((tmp_path / "backups").iterdir()) == []


# PostgreSQL round trip -----------------------------------------------------------------------


def postgres_url(name):
    parts = urlsplit(os.environ["DATABASE_URL"])
    return parts._replace(path=f"/{name}").geturl()


def postgres_admin():
    """An autocommit connection to the server's maintenance database."""
    import psycopg

    config = dj_database_url.parse(postgres_url("postgres"))
    return psycopg.connect(
        dbname="postgres",
        host=config["HOST"] or None,
        port=config["PORT"] or None,
        user=config["USER"] or None,
        password=config["PASSWORD"] or None,
        autocommit=True,
    )


def postgres_counts(url):
    import psycopg

    config = dj_database_url.parse(url)
    with psycopg.connect(
        dbname=config["NAME"],
        host=config["HOST"] or None,
        port=config["PORT"] or None,
        user=config["USER"] or None,
        password=config["PASSWORD"] or None,
    ) as conn:
        tables = [
            name
            for (name,) in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
            )
        ]
        return {
            table: conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0] for table in tables
        }


def postgres_execute(url, *statements):
    import psycopg

    config = dj_database_url.parse(url)
    with psycopg.connect(
        dbname=config["NAME"],
        host=config["HOST"] or None,
        port=config["PORT"] or None,
        user=config["USER"] or None,
        password=config["PASSWORD"] or None,
    ) as conn:
        for statement in statements:
            conn.execute(statement)


@pytest.fixture(scope="module")
def postgres_scratch():
    """Create and finally drop scratch databases on the configured server; yield a factory."""
    if CONFIGURED_VENDOR != "postgresql":
        pytest.skip("PostgreSQL round trip runs when DATABASE_URL points to PostgreSQL")
    missing = [tool for tool in ("pg_dump", "pg_restore") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"{' and '.join(missing)} not installed")
    created = []

    def create(suffix):
        name = f"zhigong_backup_test_{os.getpid()}_{suffix}"
        with postgres_admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
        created.append(name)
        return postgres_url(name)

    yield create
    with postgres_admin() as conn:
        for name in created:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def postgres_demo(postgres_scratch, tmp_path_factory):
    url = postgres_scratch("demo")
    base = tmp_path_factory.mktemp("postgres-demo")
    run = {"database_url": url, "media_root": base / "media", "backup_dir": base / "backups"}
    ok(manage("migrate", "--noinput", "-v0", **run))
    ok(manage("load_demo", "-v0", **run))
    counts = postgres_counts(url)
    assert all(counts[table] > 0 for table in COUNTED), counts
    return run, counts


def test_postgresql_round_trip_brings_back_demo_data(postgres_demo, postgres_scratch):
    run, counts = postgres_demo

    result = ok(manage("backup", "--keep", "3", **run))
    snapshot = written_snapshot(result.stdout)
    assert re.fullmatch(r"zhigong-\d{8}T\d{6}Z-postgresql\.dump", snapshot.name)
    assert snapshot.stat().st_mode & 0o777 == 0o600

    postgres_execute(
        run["database_url"],
        "TRUNCATE members_member, projects_serviceproject CASCADE",
        "DROP TABLE projects_projectevent",
    )
    assert postgres_counts(run["database_url"])["members_member"] == 0

    ok(manage("restore", str(snapshot), "--yes", **run))
    assert postgres_counts(run["database_url"]) == counts

    # A fresh, empty database (a new server after a disaster) takes the same snapshot.
    empty = postgres_scratch("empty")
    ok(manage("restore", str(snapshot), "--yes", **{**run, "database_url": empty}))
    assert postgres_counts(empty) == counts
