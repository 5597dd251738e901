"""回访抽查: who may draw a sample, what a sample takes, recording the calls, and the pages.

The shared district (tests/conftest.py): street A (东湖街道) with ws_a1 (alice) and ws_a2
(bob), street B (高新开发区) with ws_b1 (carol); the reviewer is posted at the district.
A second district (远山区) with its own worker and reviewer checks the borders.
"""

import datetime as dt
from types import SimpleNamespace

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from apps.members import services as member_services
from apps.needs import services as need_services
from apps.needs.models import Need
from apps.reports import services
from apps.reports.forms import last_month
from apps.reports.models import FollowUpSample
from apps.workstations.models import CadreAssignment, District, Street, Unit, Workstation
from tests.conftest import PASSWORD
from tests.needs import conftest as need_fixtures

pytestmark = pytest.mark.django_db

make_need = need_fixtures.make_need  # the shared fixture, for this module's tests

TODAY = timezone.localdate
LIST_URL = reverse("reports:follow-up-list")
DRAW_URL = reverse("reports:follow-up-draw")


def detail_url(sample):
    return reverse("reports:follow-up-detail", args=[sample.pk])


def call_url(call):
    return reverse("reports:follow-up-call", args=[call.sample_id, call.pk])


def done(need, by, *, close=False):
    """Accept and resolve a need (and let its worker close it, satisfied)."""
    need_services.need_accept(need=need, by=by)
    need_services.need_resolve(need=need, by=by, resolution="经协调，单位已补发拖欠的工资。")
    if close:
        need_services.need_rate(need=need, by=need.submitter.user, outcome="yes", score=5)
    need.refresh_from_db()
    return need


def draw(by, *, per_street=10, street=None, days=7):
    return services.draw_follow_up_sample(
        by=by,
        start=TODAY() - dt.timedelta(days=days),
        end=TODAY(),
        per_street=per_street,
        street=street,
    )


def sampled(sample) -> set[int]:
    return set(sample.calls.values_list("need_id", flat=True))


def messages_of(response):
    return [str(m.message) for m in response.wsgi_request._messages]


@pytest.fixture
def far(make_staff, ownerships):
    """Another district, with a worker, a resolved need's cadre and a reviewer of its own."""
    district = District.objects.create(code="330299", name="远山区", union_name="远山区总工会")
    street = Street.objects.create(district=district, code="F-S", name="远山街道", order=1)
    ws = Workstation.objects.create(
        street=street, code="F-W", name="远山网格工作站", address="远山路 1 号", hours="工作日"
    )
    unit = Unit.objects.create(
        workstation=ws, name="远山机械厂", ownership=ownerships["state"], industry="制造业"
    )
    worker = member_services.member_register(
        username="dave", name="刘远山", mobile="13900000009", password=PASSWORD, unit=unit
    )
    return SimpleNamespace(
        district=district,
        street=street,
        worker=worker,
        cadre=make_staff("far_cadre", "孙干部", district=district),
        reviewer=make_staff(
            "far_reviewer", "钱考核", role=CadreAssignment.Role.REVIEWER, district=district
        ),
    )


@pytest.fixture
def resolved(make_need, worker, district_cadre):
    """Alice's resolved need, raised today: the simplest need a sample may take."""
    return done(make_need(worker, title="公司拖欠三个月工资"), district_cadre)


@pytest.fixture
def sample(reviewer, resolved):
    return draw(reviewer)


@pytest.fixture
def call(sample):
    return sample.calls.get()


# --- who may draw --------------------------------------------------------------------------


def test_a_reviewer_and_a_superuser_may_draw(reviewer, superuser, resolved):
    assert sampled(draw(reviewer)) == {resolved.pk}
    assert draw(superuser).calls.count() == 0  # the need is already in the first sample


@pytest.mark.parametrize("who", ["district_cadre", "street_cadre", "cadre", "worker"])
def test_cadres_and_workers_may_not_draw(request, who, resolved):
    user = request.getfixturevalue(who)
    user = getattr(user, "user", user)  # the worker fixture is a Member
    with pytest.raises(PermissionDenied):
        draw(user)
    assert not FollowUpSample.objects.exists()


def test_a_street_outside_the_reviewers_district_is_refused(reviewer, far):
    with pytest.raises(PermissionDenied):
        draw(reviewer, street=far.street)


def test_the_period_must_be_in_order_and_the_size_1_to_50(reviewer):
    with pytest.raises(ValidationError, match="截止日期不能早于起始日期"):
        services.draw_follow_up_sample(
            by=reviewer, start=TODAY(), end=TODAY() - dt.timedelta(days=1), per_street=5
        )
    with pytest.raises(ValidationError, match="1–50"):
        draw(reviewer, per_street=51)


def test_a_superuser_over_several_districts_names_the_district(client, superuser, resolved, far):
    with pytest.raises(ValidationError, match="请选择要抽查的街道"):
        draw(superuser)
    sample = services.draw_follow_up_sample(
        by=superuser, start=TODAY(), end=TODAY(), per_street=5, district=far.district
    )
    assert sample.district == far.district
    assert sampled(sample) == set()

    client.force_login(superuser)
    form = client.get(LIST_URL).context["form"]
    assert {d.code for d in form.fields["district"].queryset} == {"330199", "330299"}
    response = client.post(DRAW_URL, {"start": "2026-01-01", "end": "2026-01-31", "per_street": 5})
    assert "请选择县区，或选择一个街道（开发区）。" in response.content.decode()


# --- what a sample takes -----------------------------------------------------------------


def test_only_resolved_or_closed_needs_raised_in_the_period_with_consent(
    make_need, worker, district_cadre, reviewer
):
    ok_resolved = done(make_need(worker, title="加班费没有按规定发放"), district_cadre)
    ok_closed = done(make_need(worker, title="公司不给缴社保"), district_cadre, close=True)
    ok_confidential = done(
        make_need(worker, title="举报单位违法用工", confidential=True), district_cadre
    )
    in_progress = make_need(worker, title="车间高温没有防暑措施")
    need_services.need_accept(need=in_progress, by=district_cadre)
    no_consent = done(
        make_need(worker, title="工资条看不明白", follow_up_consent=False), district_cadre
    )
    long_ago = done(
        make_need(worker, title="年休假被取消", at=timezone.now() - dt.timedelta(days=40)),
        district_cadre,
    )

    got = sampled(draw(reviewer, days=7))

    assert got == {ok_resolved.pk, ok_closed.pk, ok_confidential.pk}
    assert not got & {in_progress.pk, no_consent.pk, long_ago.pk}


def test_a_confidential_need_without_consent_never_appears(
    make_need, worker, district_cadre, reviewer, client
):
    secret = done(
        make_need(worker, title="举报老板偷税", confidential=True, follow_up_consent=False),
        district_cadre,
    )
    sample = draw(reviewer)
    assert secret.pk not in sampled(sample)

    client.force_login(reviewer)
    page = client.get(detail_url(sample)).content.decode()
    assert "举报老板偷税" not in page
    assert worker.mobile not in page


def test_at_most_per_street_needs_in_each_street(
    make_need, worker, other_worker, zone_worker, district_cadre, reviewer
):
    street_a = [
        done(make_need(worker, title=f"东湖诉求 {i}"), district_cadre) for i in range(3)
    ] + [done(make_need(other_worker, title="东湖诉求 bob"), district_cadre)]
    street_b = [
        done(make_need(zone_worker, title=f"高新诉求 {i}"), district_cadre) for i in range(3)
    ]

    sample = draw(reviewer, per_street=2)

    calls = list(sample.calls.select_related("street"))
    assert len(calls) == 4
    assert {c.need_id for c in calls if c.street.code == "S-A"} <= {n.pk for n in street_a}
    assert {c.need_id for c in calls if c.street.code == "S-B"} <= {n.pk for n in street_b}
    assert sum(c.street.code == "S-A" for c in calls) == 2
    # Every call's street is its need's street.
    assert all(c.street_id == Need.objects.get(pk=c.need_id).workstation.street_id for c in calls)


def test_a_need_is_never_in_two_samples(make_need, worker, district_cadre, reviewer):
    needs = [done(make_need(worker, title=f"诉求 {i}"), district_cadre) for i in range(3)]
    first = draw(reviewer, per_street=2)
    second = draw(reviewer, per_street=2)
    third = draw(reviewer, per_street=2)

    assert len(sampled(first)) == 2
    assert len(sampled(second)) == 1
    assert not sampled(first) & sampled(second)
    assert sampled(first) | sampled(second) == {n.pk for n in needs}
    # Nothing left: the draw is still recorded, with no calls.
    assert third.calls.count() == 0
    assert FollowUpSample.objects.count() == 3


def test_only_the_streets_of_the_reviewers_district(
    make_need, worker, zone_worker, district_cadre, reviewer, far
):
    mine = done(make_need(worker, title="本区诉求"), district_cadre)
    zone = done(make_need(zone_worker, title="开发区诉求"), district_cadre)
    theirs = done(make_need(far.worker, title="外区诉求"), far.cadre)

    assert sampled(draw(reviewer)) == {mine.pk, zone.pk}
    assert sampled(draw(far.reviewer)) == {theirs.pk}


def test_one_street_only(make_need, worker, zone_worker, district_cadre, reviewer, street_b):
    done(make_need(worker, title="本区诉求"), district_cadre)
    zone = done(make_need(zone_worker, title="开发区诉求"), district_cadre)

    sample = draw(reviewer, street=street_b)

    assert sample.street == street_b
    assert sampled(sample) == {zone.pk}


# --- recording a call ----------------------------------------------------------------------


def test_a_reached_call_records_outcome_score_and_who(call, reviewer):
    services.record_follow_up_call(
        call=call, by=reviewer, reached=True, outcome="partly", score=3, note=" 只补发了一半 "
    )
    call.refresh_from_db()
    assert (call.reached, call.outcome, call.score, call.note) == (
        True,
        "partly",
        3,
        "只补发了一半",
    )
    assert call.called_by == reviewer
    assert call.called_at is not None
    assert call.satisfied is True


def test_a_reached_call_needs_an_outcome_and_a_score(call, reviewer):
    with pytest.raises(ValidationError) as error:
        services.record_follow_up_call(call=call, by=reviewer, reached=True)
    assert error.value.message_dict == {
        "outcome": ["接通后请选择问题是否解决。"],
        "score": ["接通后请选择满意度（1–5 分）。"],
    }
    with pytest.raises(ValidationError, match="1–5"):
        services.record_follow_up_call(call=call, by=reviewer, reached=True, outcome="yes", score=6)
    call.refresh_from_db()
    assert call.reached is None


def test_an_unreached_call_keeps_no_answer_and_a_call_can_be_corrected(call, reviewer, superuser):
    services.record_follow_up_call(call=call, by=reviewer, reached=True, outcome="yes", score=5)
    services.record_follow_up_call(
        call=call, by=superuser, reached=False, outcome="yes", score=5, note="无人接听"
    )
    call.refresh_from_db()
    assert (call.reached, call.outcome, call.score, call.note) == (False, "", None, "无人接听")
    assert call.called_by == superuser


@pytest.mark.parametrize("who", ["district_cadre", "cadre"])
def test_cadres_may_not_record_a_call(request, who, call):
    with pytest.raises(PermissionDenied):
        services.record_follow_up_call(
            call=call, by=request.getfixturevalue(who), reached=True, outcome="yes", score=5
        )


def test_a_reviewer_of_another_district_may_not_record_a_call(call, far):
    with pytest.raises(PermissionDenied):
        services.record_follow_up_call(call=call, by=far.reviewer, reached=False)


# --- the pages: who gets in ----------------------------------------------------------------


def test_visitors_are_sent_to_log_in(client, call):
    for url in (LIST_URL, detail_url(call.sample)):
        response = client.get(url)
        assert response.status_code == 302
        assert reverse("members:login") in response["Location"]
    for url in (DRAW_URL, call_url(call)):
        response = client.post(url, {})
        assert response.status_code == 302
        assert reverse("members:login") in response["Location"]


@pytest.mark.parametrize("who", ["worker", "cadre", "street_cadre", "district_cadre"])
def test_workers_and_cadres_of_any_level_get_403(request, client, who, call):
    user = request.getfixturevalue(who)
    client.force_login(getattr(user, "user", user))
    assert client.get(LIST_URL).status_code == 403
    assert client.get(detail_url(call.sample)).status_code == 403
    assert client.post(DRAW_URL, {"start": "2026-01-01", "end": "2026-01-31"}).status_code == 403
    response = client.post(call_url(call), {f"call-{call.pk}-reached": "no"})
    assert response.status_code == 403
    call.refresh_from_db()
    assert call.reached is None
    assert FollowUpSample.objects.count() == 1


def test_a_sample_of_another_district_is_404(client, call, far):
    client.force_login(far.reviewer)
    assert client.get(detail_url(call.sample)).status_code == 404
    response = client.post(call_url(call), {f"call-{call.pk}-reached": "no"})
    assert response.status_code == 404
    call.refresh_from_db()
    assert call.reached is None


def test_a_call_of_another_sample_is_404(client, reviewer, call, make_need, worker, district_cadre):
    done(make_need(worker, title="另一件诉求"), district_cadre)
    other = draw(reviewer)
    client.force_login(reviewer)
    url = reverse("reports:follow-up-call", args=[other.pk, call.pk])
    assert client.post(url, {f"call-{call.pk}-reached": "no"}).status_code == 404


def test_draw_and_call_answer_405_to_get(client, reviewer, call):
    client.force_login(reviewer)
    assert client.get(DRAW_URL).status_code == 405
    assert client.get(call_url(call)).status_code == 405


# --- the list and the draw -----------------------------------------------------------------


def test_the_list_shows_the_districts_samples_and_a_draw_form_for_last_month(
    client, reviewer, call, far, street_b
):
    services.record_follow_up_call(call=call, by=reviewer, reached=False)
    theirs = services.draw_follow_up_sample(
        by=far.reviewer, start=TODAY(), end=TODAY(), per_street=3
    )
    client.force_login(reviewer)

    response = client.get(LIST_URL)

    assert response.status_code == 200
    assert list(response.context["samples"]) == [call.sample]
    page = response.content.decode()
    assert detail_url(call.sample) in page
    assert detail_url(theirs) not in page
    assert "已回访 1 / 1 件" in page
    assert "<script" not in page and "style=" not in page
    assert "吴考核" in page
    start, end = last_month(TODAY())
    form = response.context["form"]
    assert (form.initial["start"], form.initial["end"], form.initial["per_street"]) == (
        start,
        end,
        5,
    )
    # Only the district's streets to pick from.
    assert {s.code for s in form.fields["street"].queryset} == {"S-A", "S-B"}


def test_the_draw_form_follows_the_report_period_in_the_query_string(client, reviewer, street_b):
    client.force_login(reviewer)
    response = client.get(
        LIST_URL,
        {"period": "custom", "start": "2026-03-01", "end": "2026-03-31", "street": street_b.pk},
    )
    form = response.context["form"]
    assert (form.initial["start"], form.initial["end"]) == (
        dt.date(2026, 3, 1),
        dt.date(2026, 3, 31),
    )
    assert form.initial["street"] == street_b.pk


def test_the_list_runs_a_fixed_number_of_queries(
    client, reviewer, make_need, worker, district_cadre, django_assert_num_queries
):
    for i in range(3):
        done(make_need(worker, title=f"诉求 {i}"), district_cadre)
        draw(reviewer, per_street=1)
    client.force_login(reviewer)
    # session, user, reviewer posts, COUNT of samples, the header's unread messages, the
    # streets of the draw form, the page of samples (call counts, district, street and
    # drawer joined).
    with django_assert_num_queries(7):
        response = client.get(LIST_URL)
    assert len(response.context["samples"]) == 3


def test_posting_the_form_draws_and_shows_the_sample(client, reviewer, resolved):
    client.force_login(reviewer)
    response = client.post(
        DRAW_URL,
        {
            "start": (TODAY() - dt.timedelta(days=3)).isoformat(),
            "end": TODAY().isoformat(),
            "per_street": "5",
            "street": "",
        },
    )
    sample = FollowUpSample.objects.get()
    assert response.status_code == 302
    assert response["Location"] == detail_url(sample)
    assert sample.drawn_by == reviewer
    assert sample.per_street == 5
    assert sampled(sample) == {resolved.pk}
    assert messages_of(response) == ["已随机抽取 1 件诉求，请逐一电话回访。"]


def test_a_draw_that_finds_nothing_is_recorded_and_says_so(client, reviewer):
    client.force_login(reviewer)
    response = client.post(
        DRAW_URL,
        {"start": "2026-01-01", "end": "2026-01-31", "per_street": "5"},
        follow=True,
    )
    sample = FollowUpSample.objects.get()
    assert sample.calls.count() == 0
    page = response.content.decode()
    assert "本次抽查没有找到符合条件的诉求" in page
    assert "本次抽查没有抽到诉求" in page


def test_an_invalid_draw_shows_the_errors_in_chinese(client, reviewer):
    client.force_login(reviewer)
    response = client.post(
        DRAW_URL, {"start": "2026-02-01", "end": "2026-01-01", "per_street": "0"}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "截止日期不能早于起始日期。" in page
    assert "抽取件数须是 1–50 的整数。" in page
    assert not FollowUpSample.objects.exists()


# --- one sample -----------------------------------------------------------------------------


def test_the_sample_shows_the_sampled_workers_full_mobile_and_no_one_elses(
    client, reviewer, make_need, worker, other_worker, zone_worker, district_cadre
):
    done(make_need(worker, title="公司拖欠三个月工资"), district_cadre)
    done(make_need(zone_worker, title="举报单位违法用工", confidential=True), district_cadre)
    make_need(other_worker, title="还在办理中的诉求")  # not resolved: not sampled
    sample = draw(reviewer)
    client.force_login(reviewer)

    response = client.get(detail_url(sample))

    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=0")
    page = response.content.decode()
    assert "13800000001" in page and 'href="tel:13800000001"' in page
    assert "13800000003" in page
    assert "13800000002" not in page
    assert "还在办理中的诉求" not in page
    for text in ("公司拖欠三个月工资", "经协调，单位已补发拖欠的工资。", "张丽", "维护合法权益"):
        assert text in page
    # Grouped by street, in the district's order, the confidential need marked.
    assert page.index("东湖街道") < page.index("高新开发区")
    assert page.count(">保密 — 仅限回访</span>") == 1
    assert "<script" not in page and "style=" not in page


def test_a_street_with_nothing_to_draw_says_so(client, reviewer, resolved, street_b):
    sample = draw(reviewer)
    client.force_login(reviewer)
    page = client.get(detail_url(sample)).content.decode()
    assert "高新开发区" in page
    assert "本街道（开发区）没有符合条件的诉求。" in page


def test_the_sample_page_runs_a_fixed_number_of_queries(
    client, reviewer, make_need, worker, zone_worker, district_cadre, django_assert_num_queries
):
    for i in range(3):
        done(make_need(worker, title=f"东湖诉求 {i}"), district_cadre)
        done(make_need(zone_worker, title=f"高新诉求 {i}"), district_cadre)
    sample = draw(reviewer)
    client.force_login(reviewer)
    # session, user, reviewer posts, the sample (district, street, drawer joined), the
    # district's streets, its calls (needs, areas, workstations, workers, streets and
    # callers joined), the header's unread messages.
    with django_assert_num_queries(7):
        response = client.get(detail_url(sample))
    assert response.context["total"] == 6


def test_recording_a_call_saves_it_and_returns_to_it(client, reviewer, call):
    client.force_login(reviewer)
    prefix = f"call-{call.pk}"
    response = client.post(
        call_url(call),
        {
            f"{prefix}-reached": "yes",
            f"{prefix}-outcome": "no",
            f"{prefix}-score": "2",
            f"{prefix}-note": "工资只发了一个月",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == f"{detail_url(call.sample)}#call-{call.pk}"
    call.refresh_from_db()
    assert (call.reached, call.outcome, call.score, call.note) == (
        True,
        "no",
        2,
        "工资只发了一个月",
    )
    assert call.called_by == reviewer
    assert messages_of(response) == [f"已保存诉求 {call.need.number} 的回访记录（已接通）。"]

    page = client.get(detail_url(call.sample)).content.decode()
    assert "未解决，2 分" in page
    assert "更正回访记录" in page


def test_a_reached_call_without_an_answer_is_refused_with_a_chinese_message(client, reviewer, call):
    client.force_login(reviewer)
    response = client.post(call_url(call), {f"call-{call.pk}-reached": "yes"})
    assert response.status_code == 302
    [message] = messages_of(response)
    assert message.startswith(f"诉求 {call.need.number} 的回访未保存：")
    assert "接通后请选择问题是否解决" in message
    call.refresh_from_db()
    assert call.reached is None


def test_a_call_form_without_reached_is_refused(client, reviewer, call):
    client.force_login(reviewer)
    response = client.post(call_url(call), {})
    [message] = messages_of(response)
    assert "请选择是否接通。" in message
    call.refresh_from_db()
    assert call.called_at is None
