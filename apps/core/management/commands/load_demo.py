"""manage.py load_demo — the demo district and its demo accounts (DEBUG only)."""

import time

from django.core.management.base import BaseCommand

from apps.core import seeding


class Command(BaseCommand):
    help = (
        "加载参考数据和演示区县（街道、工作站、单位、干部、职工）并创建演示账号"
        "（密码 demo12345）。仅限 DEBUG 开启的开发环境；可重复运行。"
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--seeds-dir",
            help="种子数据目录（默认 settings.SEEDS_DIR 或项目下的 seeds/）",
        )

    def handle(self, *args, seeds_dir=None, verbosity=1, **options):
        started = time.monotonic()
        ctx = seeding.run_demo(seeds_dir)
        if not verbosity:
            return
        self.stdout.write(seeding.render_tally(ctx))
        for note in ctx.notes:
            self.stdout.write(note)
        self.stdout.write("")
        self.stdout.write(seeding.render_accounts(ctx))
        self.stdout.write("")
        state = "演示数据已加载" if ctx.changed else "演示数据已是最新，没有改动"
        self.stdout.write(
            self.style.SUCCESS(f"{state}（用时 {time.monotonic() - started:.1f} 秒）。")
        )
