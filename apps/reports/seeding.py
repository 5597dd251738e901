"""Seed data of the reports app: the demo district's ranking weights and 回访抽查.

Demo only (``load_demo``, after the needs and the projects):

* ``demo/ranking_weights.csv`` — 明湖区's weights (a plain table, step 300);
* ``demo/follow_up_samples.csv`` and ``demo/follow_up_calls.csv`` — samples the demo
  ``reviewer`` drew, each with the needs it picked and what their workers said on
  the phone, replayed through ``apps.reports.services`` (step 310). The answers tell
  the report's story: in 明湖经济开发区 the workers tell the district's caller far
  less satisfaction than they reported on the portal; in the streets the two agree.
"""

from __future__ import annotations

import datetime as dt
import zlib
from collections import defaultdict

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q

from apps.core.seeding import (
    Column,
    HistoryClock,
    Row,
    SeedContext,
    TableSpec,
    boolean,
    choice,
    day,
    demo_step,
    demo_table,
    integer,
    ref,
    username,
)
from apps.needs.models import Need, Rating
from apps.projects.seeding import need_refs
from apps.workstations.models import District, Street

from . import services
from .models import FollowUpCall, FollowUpSample, RankingWeights
from .scope import may_draw_follow_up

demo_table(
    TableSpec(
        "demo/ranking_weights.csv",
        RankingWeights,
        key=("district",),
        columns=(
            Column("district", ref(District)),
            Column("responsiveness", integer),
            Column("resolution", integer),
            Column("satisfaction", integer),
            Column("projects", integer),
        ),
    ),
    order=300,
)


def one_need(value: str) -> tuple[str, str]:
    """One demo need as ``手机号码 诉求标题`` (as in projects.csv)."""
    refs = need_refs(value)
    if len(refs) != 1:
        raise ValueError("每行只填写一件诉求")
    return refs[0]


SAMPLE_COLUMNS = (
    Column("sample"),  # the sample's name inside the files; never stored
    Column("drawn_by", username),
    Column("drawn_on", day),
    Column("period_start", day),
    Column("period_end", day),
    Column("per_street", integer),
    Column("street", ref(Street), required=False, default=None),
)
CALL_COLUMNS = (
    Column("sample"),
    Column("need", one_need),
    Column("called_on", day, required=False, default=None),
    Column("reached", boolean, required=False, default=None),
    Column("outcome", choice(FollowUpCall.Outcome), required=False),
    Column("score", integer, required=False, default=None),
    Column("note", required=False),
)
# Samples are drawn in the morning; calls are made in office hours.
DRAW_AT, CALLS_FROM, CALL_WINDOW = dt.time(9, 0), dt.time(9, 30), 7 * 60


def _message(error: Exception) -> str:
    return "；".join(getattr(error, "messages", None) or [str(error)])


def _read(ctx: SeedContext) -> list[tuple[Row, list[Row]]]:
    samples: dict[str, tuple[Row, list[Row]]] = {}
    for row in ctx.read("demo/follow_up_samples.csv", SAMPLE_COLUMNS):
        if row["sample"] in samples:
            raise row.error(f"sample“{row['sample']}”与第 {samples[row['sample']][0].line} 行重复")
        samples[row["sample"]] = (row, [])
    for row in ctx.read("demo/follow_up_calls.csv", CALL_COLUMNS):
        if row["sample"] not in samples:
            raise row.error(f"sample：follow_up_samples.csv 中没有“{row['sample']}”")
        if row["reached"] is None and (row["called_on"] or row["outcome"] or row["score"]):
            raise row.error("尚未回访（reached 为空）时，called_on、outcome、score 应留空")
        if row["reached"] is not None and row["called_on"] is None:
            raise row.error("已回访（reached 已填）时，called_on 必须填写")
        samples[row["sample"]][1].append(row)
    return list(samples.values())


def _needs(rows: list[Row]) -> dict[tuple[str, str], Need]:
    """The demo needs named in the calls, by (submitter mobile, title), in one query."""
    mobiles = {row["need"][0] for row in rows}
    found = Need.objects.filter(submitter__mobile__in=mobiles).select_related("submitter")
    return {(need.submitter.mobile, need.title): need for need in found}


def _replay(
    ctx: SeedContext, sample_row: Row, call_rows: list[Row], needs, reviewer
) -> FollowUpSample:
    now = ctx.now
    seen: dict[tuple[str, str], int] = {}
    picked = []
    for row in call_rows:
        key = row["need"]
        if key in seen:
            raise row.error(f"need：与第 {seen[key]} 行是同一件诉求")
        seen[key] = row.line
        if key not in needs:
            raise row.error(
                f"need：找不到手机号码为 {key[0]} 的职工提出的诉求“{key[1]}”（见 needs.csv）"
            )
        picked.append(needs[key])
        if row["called_on"] is not None and row["called_on"] < sample_row["drawn_on"]:
            raise row.error("called_on 不能早于抽取日期 drawn_on")

    clock = HistoryClock(now, zlib.crc32(sample_row["sample"].encode()))
    drawn_at = clock.on(sample_row["drawn_on"], DRAW_AT, 60)
    try:
        sample = services.follow_up_sample_replay(
            by=reviewer,
            start=sample_row["period_start"],
            end=sample_row["period_end"],
            per_street=sample_row["per_street"],
            street=sample_row["street"],
            needs=picked,
            at=drawn_at,
        )
    except (ValidationError, PermissionDenied) as error:
        raise sample_row.error(f"无法抽取：{_message(error)}") from None

    calls = {call.need_id: call for call in sample.calls.all()}
    for row, need in zip(call_rows, picked, strict=True):
        if row["reached"] is None:
            continue
        # Each call at its own stable moment of the day (seeded by the need), after the draw.
        call_clock = HistoryClock(now, zlib.crc32(f"{row['need'][0]} {row['need'][1]}".encode()))
        call_clock.take(drawn_at)
        try:
            services.record_follow_up_call(
                call=calls[need.pk],
                by=reviewer,
                reached=row["reached"],
                outcome=row["outcome"],
                score=row["score"],
                note=row["note"],
                at=call_clock.on(row["called_on"], CALLS_FROM, CALL_WINDOW),
            )
        except (ValidationError, PermissionDenied) as error:
            raise row.error(f"无法记录回访：{_message(error)}") from None
        ctx.count("回访记录", "created")
    return sample


def _percent(part: int, whole: int) -> str:
    return f"{part * 100 / whole:.0f}%" if whole else "—"


def _summary(sample: FollowUpSample) -> str:
    """Sampled and self-reported 满意率 per street, as the report will show them."""
    calls = (
        sample.calls.values("street__name", "street__order")
        .annotate(
            n_reached=Count("pk", filter=Q(reached=True)),
            n_satisfied=Count("pk", filter=Q(reached=True) & Rating.satisfied_q()),
        )
        .order_by("street__order")
    )
    ratings = defaultdict(lambda: [0, 0])
    latest = Rating.objects.latest_per_need().filter(
        need__workstation__street__district=sample.district,
        need__created_at__gte=services.local_midnight(sample.period_start),
        need__created_at__lt=services.local_midnight(sample.period_end + dt.timedelta(days=1)),
    )
    for name, outcome, score in latest.values_list(
        "need__workstation__street__name", "outcome", "score"
    ):
        ratings[name][0] += 1
        ratings[name][1] += Rating.is_satisfied(outcome, score)
    parts = [
        f"{row['street__name']} {_percent(row['n_satisfied'], row['n_reached'])}"
        f"（自评 {_percent(ratings[row['street__name']][1], ratings[row['street__name']][0])}）"
        for row in calls
    ]
    return "回访抽查满意率：" + "，".join(parts)


@demo_step(order=310, name="follow_up")
def load_follow_up(ctx: SeedContext) -> None:
    """Demo 回访抽查 (seeds/demo/follow_up_*.csv), drawn and called through the services.

    A sample whose needs are already in a sample is left as it is (a need is drawn
    once, and the reviewer may have corrected its calls since), so a second load
    changes nothing. A new one is recorded as drawn on its day by its reviewer —
    every need checked against the draw's rules — and its calls are recorded on
    their days, at moments seeded by the need so that every load gives the same demo.
    """
    samples = _read(ctx)
    needs = _needs([row for _, rows in samples for row in rows])
    reviewers: dict[str, object] = {}
    for sample_row, call_rows in samples:
        login = sample_row["drawn_by"]
        if login not in reviewers:
            reviewers[login] = get_user_model().objects.filter(username=login).first()
        reviewer = reviewers[login]
        if reviewer is None or not may_draw_follow_up(reviewer):
            raise sample_row.error(f"drawn_by：“{login}”不是考核人员（见 cadres.csv）")
        ids = [needs[row["need"]].pk for row in call_rows if row["need"] in needs]
        earlier = FollowUpCall.objects.filter(need_id__in=ids).select_related("sample").first()
        if earlier is not None:
            sample = earlier.sample
            ctx.count("回访抽查", "unchanged")
            for _row in call_rows:
                ctx.count("回访记录", "unchanged")
        else:
            ctx.count("回访抽查", "created")
            sample = _replay(ctx, sample_row, call_rows, needs, reviewer)
        ctx.notes.append(_summary(sample))
