"""Database snapshots for ``manage.py backup`` / ``restore``, and a tar of the uploaded files.

SQLite is copied with the online backup API, which gives a consistent snapshot while the
site keeps running; PostgreSQL with ``pg_dump --format=custom`` and brought back with
``pg_restore`` in a single transaction. The functions take a connection's
``settings_dict`` rather than reading ``django.db.connection``, so the tests can point
them at scratch databases.

Every file is first written under a hidden ``.partial`` name, synced to disk and only then
renamed, so a file that carries a snapshot's name is always complete. Snapshots hold
personal data (phone and ID numbers): directories are created 0700 and files 0600.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError
from django.db.backends.postgresql.client import DatabaseClient as PostgresClient
from django.db.backends.sqlite3.creation import DatabaseCreation as SQLiteCreation

PREFIX = "zhigong"
# kind → file suffix; a database snapshot's kind is the vendor it came from.
SUFFIXES = {"sqlite": ".sqlite3", "postgresql": ".dump", "media": ".tar.gz"}
NAME_PATTERN = re.compile(
    rf"^{PREFIX}-(?P<stamp>\d{{8}}T\d{{6}}Z)-(?P<kind>sqlite|postgresql|media)"
    r"(?P<suffix>\.sqlite3|\.dump|\.tar\.gz)$"
)
KIND_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL", "media": "上传文件（media）"}

SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"
GZIP_MAGIC = b"\x1f\x8b"

# Every Django database has this table; its absence means the file is not this site's.
MIGRATIONS_TABLE = "django_migrations"


class BackupError(CommandError):
    """A backup or restore that cannot go ahead; the message tells the operator why."""


@dataclass(frozen=True)
class Written:
    """A file ``backup`` wrote: where, what, how big and how long it took."""

    path: Path
    kind: str
    size: int
    seconds: float


# Names and kinds ---------------------------------------------------------------------------


def vendor_of(settings_dict: dict[str, Any]) -> str:
    """``"sqlite"`` or ``"postgresql"`` for a connection's settings; anything else is refused."""
    engine = settings_dict.get("ENGINE", "")
    if engine.endswith("sqlite3") or engine.endswith("spatialite"):
        return "sqlite"
    if engine.endswith("postgresql") or engine.endswith("postgis"):
        return "postgresql"
    raise BackupError(
        f"不支持备份此类数据库：{engine}（只支持 SQLite 和 PostgreSQL）。"
        f"（Backup supports SQLite and PostgreSQL only, not {engine}.）"
    )


def describe_database(settings_dict: dict[str, Any]) -> str:
    """Where the configured database is, for messages; never includes the password."""
    if vendor_of(settings_dict) == "sqlite":
        return f"SQLite {settings_dict.get('NAME')}"
    user = settings_dict.get("USER") or ""
    host = settings_dict.get("HOST") or "localhost"
    port = settings_dict.get("PORT") or 5432
    return f"PostgreSQL {user + '@' if user else ''}{host}:{port}/{settings_dict.get('NAME')}"


def snapshot_name(kind: str, when: datetime) -> str:
    """``zhigong-20260115T083000Z-sqlite.sqlite3``: sorts by time, says what it holds."""
    stamp = when.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{PREFIX}-{stamp}-{kind}{SUFFIXES[kind]}"


def detect_kind(path: Path) -> str | None:
    """What a file holds, read from its first bytes (not its name, which may have changed)."""
    with path.open("rb") as fh:
        head = fh.read(len(SQLITE_MAGIC))
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PGDUMP_MAGIC):
        return "postgresql"
    if head.startswith(GZIP_MAGIC):
        return "media"
    return None


def format_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


# Writing files safely ----------------------------------------------------------------------


def prepare_directory(directory: Path) -> Path:
    directory = Path(directory).expanduser().resolve()
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise BackupError(
            f"无法创建备份目录 {directory}：{exc.strerror}。（Cannot create the backup directory.）"
        ) from exc
    if not directory.is_dir() or not os.access(directory, os.W_OK | os.X_OK):
        raise BackupError(
            f"备份目录 {directory} 不是可写的目录。（The backup directory is not writable.）"
        )
    return directory


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def _writing(final: Path) -> Iterator[Path]:
    """Yield a fresh 0600 ``.partial`` file; on success rename it to ``final``, else delete it."""
    if final.exists():
        raise BackupError(
            f"{final} 已存在，不会覆盖；请稍候一秒再运行。"
            f"（A snapshot with this name already exists; not overwriting.）"
        )
    partial = final.with_name(f".{final.name}.partial")
    try:
        os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError as exc:
        raise BackupError(
            f"另一个备份正在写入 {partial}。（Another backup is being written right now.）"
        ) from exc
    try:
        yield partial
        _fsync(partial)
        os.replace(partial, final)
        _fsync(final.parent)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def _check_readable(path: Path) -> Path:
    path = Path(path).expanduser()
    if not path.exists():
        raise BackupError(f"找不到文件 {path}。（File not found.）")
    if not path.is_file():
        raise BackupError(f"{path} 不是文件。（Not a regular file.）")
    if not os.access(path, os.R_OK):
        raise BackupError(f"没有读取 {path} 的权限。（File is not readable.）")
    return path.resolve()


# SQLite --------------------------------------------------------------------------------------


def _sqlite_path(settings_dict: dict[str, Any]) -> Path:
    name = settings_dict.get("NAME")
    if not name:
        raise BackupError("SQLite 数据库没有配置文件名（NAME）。（The SQLite NAME is empty.）")
    if SQLiteCreation.is_in_memory_db(name):
        raise BackupError(
            "当前配置的是内存中的 SQLite 数据库，没有可以备份或恢复的文件；"
            "请用 DATABASE_URL 指定数据库文件。"
            "（The configured SQLite database is in memory; there is no file to back up "
            "or restore into. Point DATABASE_URL at a database file.）"
        )
    return Path(name).expanduser().resolve()


def _open_read_only(path: Path) -> sqlite3.Connection:
    # mode=ro never creates a missing file and never writes to a snapshot.
    return sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=30)


def _check_sqlite_snapshot(conn: sqlite3.Connection, path: Path) -> None:
    try:
        (result,) = conn.execute("PRAGMA quick_check").fetchone()
        has_migrations = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (MIGRATIONS_TABLE,)
        ).fetchone()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} 已损坏：{exc}（The snapshot is damaged.）") from exc
    if result != "ok":
        raise BackupError(f"{path} 未通过完整性检查：{result}（The snapshot is damaged.）")
    if not has_migrations:
        raise BackupError(
            f"{path} 不是本站的数据库（没有 {MIGRATIONS_TABLE} 表）。"
            f"（Not a database of this site.）"
        )


def _sqlite_backup(settings_dict: dict[str, Any], partial: Path) -> None:
    source = _sqlite_path(settings_dict)
    if not source.is_file():
        raise BackupError(
            f"数据库文件 {source} 不存在，没有可备份的内容。（The database file does not exist.）"
        )
    try:
        with closing(_open_read_only(source)) as src, closing(sqlite3.connect(partial)) as dst:
            # One step copies every page under a single read lock: a consistent snapshot
            # even while the site writes.
            src.backup(dst)
            # A self-contained file: no -wal/-shm beside it when it is read later.
            dst.execute("PRAGMA journal_mode=DELETE")
            _check_sqlite_snapshot(dst, partial)
    except sqlite3.Error as exc:
        raise BackupError(f"SQLite 备份失败：{exc}（SQLite backup failed.）") from exc


def _sqlite_restore(settings_dict: dict[str, Any], snapshot: Path) -> None:
    target = _sqlite_path(settings_dict)
    if not target.parent.is_dir():
        raise BackupError(
            f"数据库所在目录 {target.parent} 不存在。（The database directory does not exist.）"
        )
    try:
        with closing(_open_read_only(snapshot)) as src:
            _check_sqlite_snapshot(src, snapshot)
            with closing(sqlite3.connect(target, timeout=30)) as dst:
                # The backup API in the other direction replaces every page of the target
                # in one locked step; other connections see either the old or the new data.
                src.backup(dst)
    except sqlite3.Error as exc:
        raise BackupError(f"SQLite 恢复失败：{exc}（SQLite restore failed.）") from exc


# PostgreSQL ----------------------------------------------------------------------------------


def _pg_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(
            f"找不到 {name}（PostgreSQL 客户端工具）。请安装与服务器同一主版本或更新的 "
            f"postgresql-client，并确保它在 PATH 中。"
            f"（{name} was not found on PATH; install the PostgreSQL client tools.）"
        )
    return path


def _pg_connection(settings_dict: dict[str, Any]) -> tuple[list[str], dict[str, str]]:
    """Connection arguments and the environment for a pg_* tool; the password goes in env."""
    settings_dict = {**settings_dict, "OPTIONS": settings_dict.get("OPTIONS") or {}}
    # Django's own dbshell mapping: PGPASSWORD, PGSSLMODE, PGSERVICE, PGPASSFILE, ...
    _, extra_env = PostgresClient.settings_to_cmd_args_env(settings_dict, [])
    args = ["--no-password"]  # never wait for a password prompt (cron has no terminal)
    for option, key in (("--host", "HOST"), ("--port", "PORT"), ("--username", "USER")):
        if settings_dict.get(key):
            args.append(f"{option}={settings_dict[key]}")
    if settings_dict.get("NAME"):
        args.append(f"--dbname={settings_dict['NAME']}")
    return args, {**os.environ, **(extra_env or {})}


def _run(tool: str, args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    try:
        result = subprocess.run(
            args, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True
        )
    except OSError as exc:
        raise BackupError(f"无法运行 {tool}：{exc}（Cannot run {tool}.）") from exc
    if result.returncode != 0:
        detail = result.stderr.strip() or result.stdout.strip()
        raise BackupError(
            f"{tool} 失败（退出码 {result.returncode}）：{detail}"
            f"（{tool} failed; the message above is from {tool}.）"
        )
    return result


def pg_dump_command(settings_dict: dict[str, Any], output: Path) -> tuple[list[str], dict]:
    connection_args, env = _pg_connection(settings_dict)
    return [_pg_tool("pg_dump"), "--format=custom", f"--file={output}", *connection_args], env


def pg_restore_command(settings_dict: dict[str, Any], snapshot: Path) -> tuple[list[str], dict]:
    connection_args, env = _pg_connection(settings_dict)
    # --single-transaction: a failed restore leaves the database as it was.
    options = ["--clean", "--if-exists", "--no-owner", "--single-transaction"]
    return [_pg_tool("pg_restore"), *options, *connection_args, str(snapshot)], env


def _check_pg_snapshot(snapshot: Path) -> None:
    listing = _run(
        "pg_restore", [_pg_tool("pg_restore"), "--list", str(snapshot)], dict(os.environ)
    )
    if MIGRATIONS_TABLE not in listing.stdout:
        raise BackupError(
            f"{snapshot} 不是本站的数据库（没有 {MIGRATIONS_TABLE} 表）。"
            f"（Not a database of this site.）"
        )


# Database snapshots --------------------------------------------------------------------------


def backup_database(
    settings_dict: dict[str, Any], directory: Path, *, now: datetime | None = None
) -> Written:
    """Write a consistent snapshot of the database into ``directory``."""
    vendor = vendor_of(settings_dict)
    directory = prepare_directory(directory)
    final = directory / snapshot_name(vendor, now or datetime.now(UTC))
    started = time.monotonic()
    with _writing(final) as partial:
        if vendor == "sqlite":
            _sqlite_backup(settings_dict, partial)
        else:
            args, env = pg_dump_command(settings_dict, partial)
            _run("pg_dump", args, env)
    return Written(final, vendor, final.stat().st_size, time.monotonic() - started)


def check_snapshot(settings_dict: dict[str, Any], path: Path) -> Path:
    """The snapshot's resolved path if it exists, is readable and fits the database."""
    path = _check_readable(path)
    vendor = vendor_of(settings_dict)
    try:
        kind = detect_kind(path)
    except OSError as exc:
        raise BackupError(f"无法读取 {path}：{exc.strerror}（Cannot read the file.）") from exc
    if kind == vendor:
        return path
    if kind is None:
        raise BackupError(f"{path} 不是数据库备份文件。（Not a database snapshot.）")
    raise BackupError(
        f"{path} 是{KIND_NAMES[kind]}备份，而当前数据库是 {KIND_NAMES[vendor]}，不能恢复。"
        f"（This is a {kind} file; the configured database is {vendor}.）"
    )


def restore_database(settings_dict: dict[str, Any], path: Path) -> float:
    """Replace the configured database's contents with a snapshot; returns the seconds taken."""
    path = check_snapshot(settings_dict, path)
    started = time.monotonic()
    if vendor_of(settings_dict) == "sqlite":
        _sqlite_restore(settings_dict, path)
    else:
        _check_pg_snapshot(path)
        args, env = pg_restore_command(settings_dict, path)
        _run("pg_restore", args, env)
    return time.monotonic() - started


def prune(directory: Path, kind: str, keep: int) -> list[Path]:
    """Delete all but the ``keep`` newest snapshots of ``kind`` (by the time in their names)."""
    if keep < 1:
        raise BackupError("--keep 至少为 1。（--keep must be at least 1.）")
    found = []
    for path in Path(directory).iterdir():
        match = NAME_PATTERN.match(path.name)
        if match and match["kind"] == kind and match["suffix"] == SUFFIXES[kind]:
            found.append((match["stamp"], path))
    found.sort()
    doomed = [path for _, path in found[:-keep]]
    for path in doomed:
        path.unlink(missing_ok=True)
    return doomed


# Uploaded files ------------------------------------------------------------------------------


def backup_media(media_root: Path, directory: Path, *, now: datetime | None = None) -> Written:
    """A gzipped tar of everything under MEDIA_ROOT, paths relative to it."""
    media_root = Path(media_root)
    directory = prepare_directory(directory)
    final = directory / snapshot_name("media", now or datetime.now(UTC))
    started = time.monotonic()
    with _writing(final) as partial, tarfile.open(partial, "w:gz") as tar:
        if media_root.is_dir():
            for child in sorted(media_root.iterdir()):
                tar.add(child, arcname=child.name)
    return Written(final, "media", final.stat().st_size, time.monotonic() - started)


def check_media_archive(path: Path) -> Path:
    path = _check_readable(path)
    if detect_kind(path) != "media":
        raise BackupError(f"{path} 不是上传文件的备份（.tar.gz）。（Not a media archive.）")
    return path


def restore_media(path: Path, media_root: Path) -> int:
    """Unpack a media archive into MEDIA_ROOT (adding and overwriting, never deleting)."""
    path = check_media_archive(path)
    media_root = Path(media_root)
    media_root.mkdir(parents=True, exist_ok=True)
    try:
        with tarfile.open(path, "r:gz") as tar:
            members = tar.getmembers()
            # The "data" filter refuses absolute paths, "..", devices and links that leave
            # MEDIA_ROOT, so an archive cannot write anywhere else.
            tar.extractall(media_root, filter="data")
    except (tarfile.TarError, OSError) as exc:
        raise BackupError(
            f"无法解开上传文件备份 {path}：{exc}（Cannot unpack the media archive.）"
        ) from exc
    return sum(1 for member in members if member.isfile())
