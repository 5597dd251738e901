"""Kept report figures (apps/reports/cache.py): when they are reused, when they are computed
again, and that the page and its downloads always say how old they are."""

import dataclasses
import datetime as dt
import io
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from apps.members.models import Member
from apps.needs import services as need_services
from apps.reports import cache as report_cache
from apps.reports.filters import ReportFilter
from apps.reports.models import RankingWeights
from apps.reports.scope import report_scope
from tests.needs import conftest as need_fixtures

make_need = need_fixtures.make_need

REPORT = reverse("reports:report")
OUTDATED = "此后又有新的办理记录"
CURRENT = "之后没有新的记录，是最新数据"


def raised_total(body: str) -> int:
    """The whole scope's number of needs, from the first balance table's total row."""
    foot = re.search(r"<tfoot>(.*?)</tfoot>", body, re.S).group(1)
    cells = re.findall(r"<t[hd][^>]*>\s*([^<]*?)\s*</t[hd]>", foot)
    return int(cells[1].replace(",", ""))


@pytest.fixture
def raised(make_need, worker, settings):
    settings.NEED_SUBMISSIONS_PER_DAY = 100

    def raise_one(title="又一件诉求"):
        return make_need(worker, title=title)

    return raise_one


@pytest.fixture
def viewer(client, reviewer):
    client.force_login(reviewer)

    def view(query=""):
        response = client.get(REPORT + query)
        assert response.status_code == 200
        return response.content.decode()

    return view


def test_first_view_says_when_figures_were_computed_and_that_they_are_current(viewer, raised):
    raised()
    before = timezone.localtime().replace(second=0, microsecond=0)
    body = viewer()
    stamp = re.search(r'id="report-freshness">\s*数据统计于 <time datetime="([^"]+)"', body)
    computed = dt.datetime.fromisoformat(stamp.group(1))
    assert before <= computed <= timezone.now()
    assert CURRENT in body
    assert raised_total(body) == 1


def test_new_records_show_the_kept_figures_marked_outdated_with_their_deadline(
    viewer, raised, settings
):
    settings.REPORT_STALE_SECONDS = 300
    raised("第一件")
    assert raised_total(viewer()) == 1
    raised("第二件")
    body = viewer()
    assert raised_total(body) == 1
    assert OUTDATED in body
    assert CURRENT not in body


def test_outdated_figures_are_computed_again_after_the_stale_window(viewer, raised, settings):
    raised("第一件")
    viewer()
    raised("第二件")
    settings.REPORT_STALE_SECONDS = 0
    body = viewer()
    assert raised_total(body) == 2
    assert CURRENT in body


def test_update_now_is_offered_and_honoured_only_after_the_refresh_interval(
    viewer, raised, settings
):
    settings.REPORT_REFRESH_SECONDS = 3600
    raised("第一件")
    viewer()
    raised("第二件")
    body = viewer()
    assert "立即更新" not in body
    assert raised_total(viewer("?period=month&refresh=1")) == 1  # asked too soon: kept

    settings.REPORT_REFRESH_SECONDS = 0
    body = viewer()
    link = re.search(r'<a href="([^"]+)">立即更新</a>', body).group(1).replace("&amp;", "&")
    assert link == f"{REPORT}?period=month&refresh=1"
    assert raised_total(viewer(link[len(REPORT) :])) == 2


def test_refresh_of_current_figures_does_not_compute_again(
    viewer, raised, settings, django_assert_num_queries
):
    settings.REPORT_REFRESH_SECONDS = 0
    raised()
    viewer()
    with django_assert_num_queries(7):
        viewer("?period=month&refresh=1")


def test_no_figures_are_kept_beyond_the_maximum_age(viewer, raised, settings, monkeypatch):
    raised()
    first = viewer()
    settings.REPORT_MAX_AGE_SECONDS = 60
    later = timezone.now() + dt.timedelta(seconds=61)
    monkeypatch.setattr(report_cache.timezone, "now", lambda: later)
    second = viewer()
    stamp = re.compile(r'<time datetime="([^"]+)"')
    assert stamp.search(first).group(1) != stamp.search(second).group(1)


def test_kept_figures_belong_to_their_scope_and_filters(
    client, reviewer, street_cadre, raised, zone_worker, make_need, street_b
):
    raised()
    make_need(zone_worker, title="高新区的诉求")
    client.force_login(reviewer)
    assert raised_total(client.get(REPORT).content.decode()) == 2
    client.force_login(street_cadre)
    assert raised_total(client.get(REPORT).content.decode()) == 1
    client.force_login(reviewer)
    body = client.get(REPORT + f"?period=month&street={street_b.pk}").content.decode()
    assert raised_total(body) == 1
    assert raised_total(client.get(REPORT + "?period=year").content.decode()) == 2


def test_downloads_carry_the_same_kept_figures_as_the_page(client, reviewer, raised, settings):
    settings.REPORT_STALE_SECONDS = 300
    raised("第一件")
    client.force_login(reviewer)
    client.get(REPORT)
    raised("第二件")
    url = reverse("reports:export", args=["balance-street", "xlsx"]) + "?period=month"
    sheet = load_workbook(io.BytesIO(client.get(url).content)).active
    header = [cell.value for cell in sheet[3]]
    total = [cell.value for cell in sheet[sheet.max_row]]
    assert total[header.index("诉求数")] == 1
    assert "数据统计于" in sheet["A2"].value


def _fingerprint():
    return report_cache.data_fingerprint("default")


@pytest.mark.parametrize(
    "change",
    [
        "raise",
        "accept",
        "rate",
        "edit_member",
        "weights",
    ],
)
def test_every_kind_of_change_moves_the_fingerprint(
    change, raised, cadre, worker, reference, district
):
    need = raised()
    need_services.need_accept(need=need, by=cadre)
    need_services.need_resolve(need=need, by=cadre, resolution="已解决")
    need.refresh_from_db()
    before = _fingerprint()
    if change == "raise":
        raised("新的一件")
    elif change == "accept":
        other = raised("待受理")
        before = _fingerprint()
        need_services.need_accept(need=other, by=cadre)
    elif change == "rate":
        need_services.need_rate(need=need, by=worker.user, outcome="yes", score=5)
    elif change == "edit_member":
        member = Member.objects.get(pk=worker.pk)
        member.unit_name = "新单位"
        member.save()
    elif change == "weights":
        RankingWeights.objects.create(district=district)
    assert _fingerprint() != before


def test_cache_key_differs_by_scope_and_period(reviewer, street_cadre, reference):
    def key(user, data):
        filterset = ReportFilter(data, scope=report_scope(user))
        return report_cache.cache_key(filterset.params())

    assert key(reviewer, None) == key(reviewer, {"period": "month"})
    assert key(reviewer, None) != key(street_cadre, None)
    assert key(reviewer, None) != key(reviewer, {"period": "year"})


def test_the_sections_are_rendered_once_per_computed_report(client, reviewer, raised, settings):
    settings.REPORT_STALE_SECONDS = 0
    raised("第一件")
    client.force_login(reviewer)

    def body_rendered(response) -> bool:
        return "reports/_report_body.html" in [t.name for t in response.templates]

    first = client.get(REPORT)
    again = client.get(REPORT)
    assert body_rendered(first) and not body_rendered(again)

    def sections(response) -> str:
        body = response.content.decode()
        return body[body.index('<section id="balance"') : body.index("</main>")]

    assert sections(first) == sections(again)
    raised("第二件")  # new figures, new sections
    third = client.get(REPORT)
    assert body_rendered(third)
    assert raised_total(third.content.decode()) == 2


def test_the_follow_up_button_is_kept_apart_for_those_who_may_draw(
    client, reviewer, district_cadre, raised
):
    """The only part of the sections that depends on who looks has its own kept copy."""
    raised()
    client.force_login(reviewer)
    assert "回访抽查：抽取样本" in client.get(REPORT).content.decode()
    client.force_login(district_cadre)
    assert "回访抽查：抽取样本" not in client.get(REPORT).content.decode()
    client.force_login(reviewer)
    assert "回访抽查：抽取样本" in client.get(REPORT).content.decode()


def _params(reviewer):
    return ReportFilter(None, scope=report_scope(reviewer)).params()


def test_a_request_waits_for_the_same_figures_being_computed_elsewhere(
    reviewer, raised, settings, monkeypatch
):
    """Another process holds the lock and delivers: this one does not compute at all."""
    import threading

    raised()
    params = _params(reviewer)
    key = report_cache.cache_key(params)
    from django.core.cache import cache

    theirs = report_cache.get_report(params)  # what the other process will deliver
    cache.delete(key)
    cache.add(f"{key}:computing", 1, timeout=30)
    monkeypatch.setattr(report_cache, "WAIT_STEP_SECONDS", 0.05)
    built = []
    monkeypatch.setattr(report_cache, "build_report", lambda *a, **k: built.append(1))

    def deliver():
        cache.set(key, dataclasses.replace(theirs, computed_now=False), 60)
        cache.delete(f"{key}:computing")

    timer = threading.Timer(0.3, deliver)
    timer.start()
    mine = report_cache.get_report(params)
    timer.join()
    assert built == []
    assert mine.computed_at == theirs.computed_at and not mine.computed_now


def test_a_lock_whose_holder_never_delivers_is_waited_out(reviewer, raised, settings, monkeypatch):
    from django.core.cache import cache

    raised()
    params = _params(reviewer)
    key = report_cache.cache_key(params)
    settings.REPORT_COMPUTE_WAIT_SECONDS = 1
    monkeypatch.setattr(report_cache, "WAIT_STEP_SECONDS", 0.05)
    cache.add(f"{key}:computing", 1, timeout=30)
    mine = report_cache.get_report(params)
    assert mine.computed_now
    assert cache.get(f"{key}:computing") is None  # released for the next one
