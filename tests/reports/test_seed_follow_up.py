"""The demo's ranking weights and 回访抽查 (seeds/demo/ranking_weights.csv, follow_up_*.csv).

The sample follows the draw's rules; the answers tell the report's story — in the
development zone the district's caller hears far less satisfaction than the workers
reported on the portal, in the streets the two agree —; a second load changes
nothing and a bad line stops the load with its file and line.

The demo is loaded once for the module inside a transaction rolled back afterwards.
"""

import csv
import datetime as dt
import io
import shutil
from collections import defaultdict

import pytest
from django.conf import settings as django_settings
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from apps.core.seeding import SeedError, run_demo
from apps.needs.models import Rating
from apps.needs.workflow import DONE
from apps.reports.models import FollowUpCall, FollowUpSample, RankingWeights
from apps.reports.services import local_midnight
from apps.workstations.models import Street

pytestmark = pytest.mark.django_db

SEEDS = django_settings.BASE_DIR / "seeds"
ZONE = "明湖经济开发区"


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker, tmp_path_factory):
    with (
        django_db_blocker.unblock(),
        override_settings(DEBUG=True, MEDIA_ROOT=tmp_path_factory.mktemp("media")),
        transaction.atomic(),
    ):
        ctx = run_demo()
        yield ctx
        transaction.set_rollback(True)


def rates(sample) -> dict[str, tuple[float, float]]:
    """Per street: (sampled 满意率, self-reported 满意率) over the sample's period, in %."""
    calls = defaultdict(lambda: [0, 0])
    for call in sample.calls.filter(reached=True).select_related("street"):
        calls[call.street.name][0] += 1
        calls[call.street.name][1] += call.satisfied
    ratings = defaultdict(lambda: [0, 0])
    latest = Rating.objects.latest_per_need().filter(
        need__created_at__gte=local_midnight(sample.period_start),
        need__created_at__lt=local_midnight(sample.period_end + dt.timedelta(days=1)),
    )
    for rating in latest.select_related("need__workstation__street"):
        ratings[rating.need.workstation.street.name][0] += 1
        ratings[rating.need.workstation.street.name][1] += rating.satisfied
    return {
        name: (calls[name][1] * 100 / calls[name][0], ratings[name][1] * 100 / ratings[name][0])
        for name in calls
    }


def test_the_district_has_its_ranking_weights(demo):
    weights = RankingWeights.objects.get(district__name="明湖区")
    assert weights.as_dict == {
        "responsiveness": 30,
        "resolution": 30,
        "satisfaction": 25,
        "projects": 15,
    }


def test_the_reviewer_drew_a_sample_by_the_draws_rules(demo):
    sample = FollowUpSample.objects.select_related("drawn_by").get()
    assert sample.drawn_by.username == "reviewer"
    assert sample.street is None
    calls = list(sample.calls.select_related("need__workstation", "street"))
    per_street = defaultdict(int)
    for call in calls:
        need = call.need
        per_street[call.street_id] += 1
        assert call.street_id == need.workstation.street_id
        assert need.status in DONE
        assert need.follow_up_consent
        assert sample.period_start <= timezone.localtime(need.created_at).date()
        assert timezone.localtime(need.created_at).date() <= sample.period_end
        assert need.resolved_at < sample.drawn_at
        assert sample.drawn_at < call.called_at < timezone.now()
        assert call.called_by == sample.drawn_by
    assert set(per_street) == set(Street.objects.values_list("pk", flat=True))
    assert max(per_street.values()) <= sample.per_street
    assert any(call.need.confidential for call in calls)
    assert any(call.reached is False for call in calls)


def test_the_zone_tells_the_caller_less_than_it_reported_the_streets_agree(demo):
    by_street = rates(FollowUpSample.objects.get())
    assert len(by_street) == 4
    sampled, reported = by_street.pop(ZONE)
    assert reported - sampled >= 20, (sampled, reported)
    for name, (sampled, reported) in by_street.items():
        assert abs(reported - sampled) <= 6, (name, sampled, reported)
    assert any("回访抽查满意率" in note for note in demo.notes)


def test_a_second_load_changes_nothing(demo):
    before = list(FollowUpCall.objects.order_by("pk").values_list())
    samples = list(FollowUpSample.objects.order_by("pk").values_list())
    weights = list(RankingWeights.objects.values_list())
    with override_settings(DEBUG=True):
        ctx = run_demo()
    assert list(FollowUpCall.objects.order_by("pk").values_list()) == before
    assert list(FollowUpSample.objects.order_by("pk").values_list()) == samples
    assert list(RankingWeights.objects.values_list()) == weights
    assert ctx.tally["回访抽查"] == {"created": 0, "updated": 0, "unchanged": 1}
    assert ctx.tally["回访记录"] == {"created": 0, "updated": 0, "unchanged": len(before)}


def line(file: str, **values) -> str:
    header = (SEEDS / "demo" / file).read_text(encoding="utf-8").split("\n", 1)[0]
    row = dict.fromkeys(header.split(","), "")
    row.update(values)
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(row.values())
    return out.getvalue()


def with_lines(tmp_path, **lines):
    """The seeds folder with one line appended to each named file; its line numbers."""
    seeds = tmp_path / "seeds"
    shutil.copytree(SEEDS, seeds)
    numbers = {}
    for file, text in lines.items():
        path = seeds / "demo" / file
        content = path.read_text(encoding="utf-8").rstrip("\n")
        numbers[file] = content.count("\n") + 2
        path.write_text(f"{content}\n{text}\n", encoding="utf-8")
    return seeds, numbers


SAMPLE_2 = {
    "sample": "S2",
    "drawn_by": "reviewer",
    "drawn_on": "today-2",
    "period_start": "today-180",
    "period_end": "today-3",
    "per_street": "3",
}


@pytest.mark.parametrize(
    ("need", "file", "message"),
    [
        # Still being handled: the draw could not have taken it.
        (
            "19969621768 入职8个月未签劳动合同",
            "follow_up_samples.csv",
            "无法抽取：诉求 XQ",
        ),
        ("19969621768 没有这件诉求", "follow_up_calls.csv", "need：找不到手机号码为 19969621768"),
    ],
)
def test_a_bad_line_stops_the_load_with_its_file_and_line(demo, tmp_path, need, file, message):
    seeds, numbers = with_lines(
        tmp_path,
        **{
            "follow_up_samples.csv": line("follow_up_samples.csv", **SAMPLE_2),
            "follow_up_calls.csv": line(
                "follow_up_calls.csv", sample="S2", need=need, called_on="today-1", reached="否"
            ),
        },
    )
    with override_settings(DEBUG=True), pytest.raises(SeedError) as error:
        run_demo(seeds)
    assert f"seeds/demo/{file}:{numbers[file]}" in str(error.value)
    assert message in str(error.value)
    assert FollowUpSample.objects.count() == 1
