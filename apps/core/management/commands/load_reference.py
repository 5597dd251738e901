"""manage.py load_reference — load the reference data under seeds/reference/."""

from django.core.management.base import BaseCommand

from apps.core import seeding


class Command(BaseCommand):
    help = "加载参考数据（所有制类型等，seeds/reference/）并设置角色权限组；可重复运行。"

    def add_arguments(self, parser):
        parser.add_argument(
            "--seeds-dir",
            help="种子数据目录（默认 settings.SEEDS_DIR 或项目下的 seeds/）",
        )

    def handle(self, *args, seeds_dir=None, verbosity=1, **options):
        ctx = seeding.run_reference(seeds_dir)
        if verbosity:
            self.stdout.write(seeding.render_tally(ctx))
            self.stdout.write(self.style.SUCCESS("参考数据已加载，角色权限组已更新。"))
