"""manage.py backup — a consistent snapshot of the database (and optionally the uploads)."""

from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections

from apps.core import backup


class Command(BaseCommand):
    help = (
        "备份数据库：SQLite 用在线备份接口，PostgreSQL 用 pg_dump（custom 格式），网站运行时也可备份。"
        "文件写入 BACKUP_DIR（或 --output 指定的目录），文件名含 UTC 时间和数据库类型。"
        "上传的文件（MEDIA_ROOT）只在加 --media 时一并打包。"
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--output",
            metavar="DIR",
            help="备份目录（默认 settings.BACKUP_DIR，即环境变量 BACKUP_DIR 或 var/backups）",
        )
        parser.add_argument(
            "--media",
            action="store_true",
            help="同时把 MEDIA_ROOT 打包为同一时间戳的 …-media.tar.gz",
        )
        parser.add_argument(
            "--keep",
            type=int,
            metavar="N",
            help="备份成功后，每类（本数据库类型；加 --media 时还有上传文件）只保留最新的 N 份",
        )
        parser.add_argument(
            "--database", default=DEFAULT_DB_ALIAS, help="数据库别名（默认 default）"
        )

    def handle(self, *args, output, media, keep, database, **options):
        if keep is not None and keep < 1:
            raise CommandError("--keep 至少为 1。（--keep must be at least 1.）")
        directory = Path(output) if output else Path(settings.BACKUP_DIR)
        settings_dict = connections[database].settings_dict
        now = datetime.now(UTC)

        written = [backup.backup_database(settings_dict, directory, now=now)]
        if media:
            written.append(backup.backup_media(Path(settings.MEDIA_ROOT), directory, now=now))
        for item in written:
            what = "上传文件" if item.kind == "media" else "数据库"
            self.stdout.write(
                self.style.SUCCESS(
                    f"{what}备份已写入 {item.path}"
                    f"（{backup.format_size(item.size)}，用时 {item.seconds:.1f} 秒）"
                )
            )

        if keep:
            for item in written:
                for path in backup.prune(item.path.parent, item.kind, keep):
                    self.stdout.write(f"已删除旧备份 {path}")
