"""manage.py generate_district — a large generated district for benchmarks (empty database)."""

import datetime as dt
import resource
import sys

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from apps.core import generator

DEFAULT_PASSWORD = "bench12345"


class Command(BaseCommand):
    help = (
        "在刚迁移的空数据库中生成一个用于性能测试的区县：街道、工作站、各种所有制的单位、"
        "干部、职工，两年来各种状态的诉求及其完整办理记录，以及各阶段的服务项目。"
        "默认 50 万职工、100 万件诉求；--small 为 2 万职工、5 万件诉求。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--members", type=int, help="职工人数（默认 500000）")
        parser.add_argument("--needs", type=int, help="诉求件数（默认 1000000）")
        parser.add_argument("--units", type=int, help="单位数（默认 10000）")
        parser.add_argument("--projects", type=int, help="服务项目数（默认 20000）")
        parser.add_argument("--streets", type=int, help="街道（开发区）数（默认 30）")
        parser.add_argument("--workstations", type=int, help="工作站数（默认 300）")
        parser.add_argument(
            "--small",
            action="store_true",
            help="快速检查用的规模：2 万职工、5 万诉求、2000 家单位、1000 个项目（可再单独覆盖）",
        )
        parser.add_argument(
            "--seed", type=int, default=1, help="随机种子（默认 1，相同种子数据相同）"
        )
        parser.add_argument(
            "--password",
            default=DEFAULT_PASSWORD,
            help=f"所有生成账号的密码（默认 {DEFAULT_PASSWORD}）",
        )
        parser.add_argument(
            "--now",
            metavar="ISO-DATETIME",
            help="以指定时刻为“现在”生成（例如 2026-10-09T10:00，未写时区按北京时间）；"
            "相同种子和时刻生成相同数据",
        )

    def handle(self, *args, verbosity=1, **options):
        sizes = sizes_from(options)
        now = _parse_moment(options["now"]) if options["now"] else timezone.now()
        self.verbosity = verbosity
        if verbosity:
            self.stdout.write(
                f"生成区县：{sizes.streets} 个街道（开发区）、{sizes.workstations} 个工作站、"
                f"{sizes.units:,} 家单位、{sizes.members:,} 名职工、{sizes.needs:,} 件诉求、"
                f"{sizes.projects:,} 个服务项目（种子 {options['seed']}）"
            )
        try:
            outcome = generator.generate(
                sizes,
                seed=options["seed"],
                password=options["password"],
                now=now,
                report=self.progress,
            )
        except generator.GeneratorError as error:
            raise CommandError(str(error)) from None
        if not verbosity:
            return
        self.stdout.write("")
        width = max(len(name) for name in outcome.rows)
        for name, count in sorted(outcome.rows.items()):
            self.stdout.write(f"  {name:<{width}}  {count:>12,}")
        self.stdout.write("")
        self.stdout.write(f"账号（密码均为 {options['password']}）：")
        roles = {
            "bench-worker": "职工，50 件诉求",
            "bench-poster": "同一工作站的职工，没有诉求",
            "bench-cadre": "该工作站的工会干部",
            "bench-street": "该工作站所在街道的工会干部",
            "bench-district": "区县工会干部",
            "bench-reviewer": "考核人员",
        }
        for login in generator.ACCOUNTS:
            self.stdout.write(f"  {login:<15} {outcome.accounts.get(login, ''):<4} {roles[login]}")
        if verbosity > 1:
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            if sys.platform == "darwin":
                peak //= 1024  # bytes there, kilobytes on Linux
            self.stdout.write(f"峰值内存（RSS）：{peak / 1024:,.0f} MB")
            self.stdout.write(f"其中写入数据库：{outcome.write_seconds:,.1f} 秒")
        self.stdout.write(self.style.SUCCESS(f"完成，用时 {outcome.seconds:,.1f} 秒。"))

    def progress(self, label: str, rows: int, seconds: float) -> None:
        if not self.verbosity:
            return
        rate = f"，{rows / seconds:,.0f} 行/秒" if rows and seconds > 0 else ""
        self.stdout.write(f"  {label}：{rows:,} 行，{seconds:,.1f} 秒{rate}")


def sizes_from(options: dict) -> generator.Sizes:
    """The preset (--small or the full size), then each size given on the command line."""
    preset = generator.SMALL if options.get("small") else generator.FULL
    given = {
        name: options[name]
        for name in ("members", "needs", "units", "projects", "streets", "workstations")
        if options.get(name) is not None
    }
    for name, value in given.items():
        if value < 0:
            raise CommandError(f"--{name} 不能为负数")
    return generator.Sizes(**{**preset.__dict__, **given})


def _parse_moment(value: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--now 的格式不正确：{value}（示例：2026-10-09T10:00）") from None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    if moment > timezone.now():
        raise CommandError("--now 不能晚于当前时间")
    return moment
