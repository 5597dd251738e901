"""manage.py restore — replace the database with a snapshot written by manage.py backup."""

import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor

from apps.core import backup


class Command(BaseCommand):
    help = (
        "用 manage.py backup 写出的备份替换当前数据库的全部数据（SQLite 或 PostgreSQL，"
        "须与当前数据库类型一致）。会要求确认，非交互运行须加 --yes。恢复前请先停止网站。"
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="数据库备份文件（.sqlite3 或 .dump）")
        parser.add_argument("--yes", action="store_true", help="不再询问，直接替换数据库")
        parser.add_argument(
            "--media",
            metavar="ARCHIVE",
            help="同时把上传文件备份（…-media.tar.gz）解开到 MEDIA_ROOT（只添加和覆盖，不删除）",
        )
        parser.add_argument(
            "--database", default=DEFAULT_DB_ALIAS, help="数据库别名（默认 default）"
        )

    def handle(self, *args, path, yes, media, database, **options):
        connection = connections[database]
        settings_dict = connection.settings_dict
        # Everything that can be checked is checked before anyone is asked to confirm.
        snapshot = backup.check_snapshot(settings_dict, Path(path))
        archive = backup.check_media_archive(Path(media)) if media else None
        target = backup.describe_database(settings_dict)
        if not yes:
            self._confirm(snapshot, target, archive)

        connection.close()
        seconds = backup.restore_database(settings_dict, snapshot)
        self.stdout.write(
            self.style.SUCCESS(f"已用 {snapshot} 恢复数据库 {target}（用时 {seconds:.1f} 秒）。")
        )
        if archive:
            count = backup.restore_media(archive, Path(settings.MEDIA_ROOT))
            self.stdout.write(
                self.style.SUCCESS(f"已把 {count} 个上传文件解开到 {settings.MEDIA_ROOT}。")
            )
        self._report_migrations(database)

    def _confirm(self, snapshot, target, archive):
        if not sys.stdin.isatty():
            raise CommandError(
                "恢复会替换数据库中的全部数据；非交互运行时请加 --yes 确认。"
                "（Restore replaces the whole database; pass --yes to confirm.）"
            )
        self.stdout.write(f"将用 {snapshot} 替换数据库 {target} 中的全部数据。")
        if archive:
            self.stdout.write(f"并把 {archive} 解开到 {settings.MEDIA_ROOT}。")
        answer = input("确认恢复请输入 yes（type 'yes' to continue）：")
        if answer.strip().lower() != "yes":
            raise CommandError("已取消，数据库没有改动。（Cancelled; nothing was changed.）")

    def _report_migrations(self, database):
        connection = connections[database]
        connection.close()
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
        unknown = set(executor.loader.applied_migrations) - set(executor.loader.graph.nodes)
        if pending:
            self.stdout.write(
                self.style.WARNING(
                    f"备份早于当前代码：还有 {len(pending)} 个迁移未应用，"
                    "请运行 python manage.py migrate。"
                )
            )
        if unknown:
            self.stdout.write(
                self.style.WARNING(
                    f"备份晚于当前代码：其中有 {len(unknown)} 个当前代码没有的迁移，"
                    "请部署与备份相同或更新的代码。"
                )
            )
        connection.close()
