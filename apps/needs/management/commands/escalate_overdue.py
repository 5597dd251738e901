"""manage.py escalate_overdue — reminders, 督办 and auto-close; safe to run again."""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from apps.needs import escalation


class Command(BaseCommand):
    help = (
        "按办理时限处理诉求：临近时限提醒干部；超时提请街道督办，街道督办后仍超时提请县区督办；"
        "办结后逾期未评价的自动完结。可重复运行：同一天再次运行不会重复处理。"
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--now",
            metavar="ISO-DATETIME",
            help="按指定时刻运行（例如 2026-10-09T08:00，未写时区按北京时间），默认为当前时间",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="只统计将要处理的诉求，不做任何更改"
        )

    def handle(self, *args, now=None, dry_run=False, verbosity=1, **options):
        moment = _parse_moment(now) if now else timezone.now()
        outcome = escalation.run(now=moment, dry_run=dry_run)

        local = timezone.localtime(moment)
        self.stdout.write(
            f"诉求时限检查：{local:%Y-%m-%d %H:%M}（{timezone.get_current_timezone_name()}）"
        )
        if dry_run:
            self.stdout.write("试运行：以下为将会处理的数量，未做任何更改。")
        for rule in outcome.rules:
            self.stdout.write(f"{rule.label}：{outcome.count(rule.name)} 件")
            if verbosity > 1:
                for number in outcome.done[rule.name]:
                    self.stdout.write(f"  {number}")
        if outcome.failures:
            failed = "；".join(
                f"{rule.label} {'、'.join(outcome.failed[rule.name])}"
                for rule in outcome.rules
                if outcome.failed[rule.name]
            )
            raise CommandError(f"处理失败 {outcome.failures} 件（{failed}），详见日志。")
        if not dry_run:
            self.stdout.write(self.style.SUCCESS("完成。"))


def _parse_moment(value: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise CommandError(
            f"--now 的格式不正确：{value}（示例：2026-10-09T08:00 或 2026-10-09T08:00+08:00）"
        ) from None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)  # the site's time zone, Asia/Shanghai
    return moment
