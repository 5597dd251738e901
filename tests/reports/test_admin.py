"""The admin of the reports app: the district's ranking weights and the 回访抽查 audit.

Weights: superusers and district cadres view and change their district's; street and
workstation cadres neither see nor open them; bad values get Chinese messages.
Samples: read-only, for superusers and reviewers; mobiles masked; cadres kept out.
"""

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from apps.needs import services as need_services
from apps.reports import services
from apps.reports.models import FollowUpSample, RankingWeights
from apps.workstations.models import CadreAssignment, District
from tests.needs import conftest as need_fixtures

pytestmark = pytest.mark.django_db

make_need = need_fixtures.make_need  # the shared fixture, for this module's tests

WEIGHTS_LIST = reverse("admin:reports_rankingweights_changelist")
WEIGHTS_ADD = reverse("admin:reports_rankingweights_add")
SAMPLES_LIST = reverse("admin:reports_followupsample_changelist")


def change_url(weights):
    return reverse("admin:reports_rankingweights_change", args=[weights.pk])


def sample_url(sample):
    return reverse("admin:reports_followupsample_change", args=[sample.pk])


def weights_form(district=None, **values):
    data = {"responsiveness": 30, "resolution": 30, "satisfaction": 25, "projects": 15}
    data.update(values)
    if district is not None:
        data["district"] = district.pk
    return data


@pytest.fixture
def weights(district):
    return RankingWeights.objects.create(district=district)


@pytest.fixture
def far_weights(db):
    far = District.objects.create(code="330299", name="远山区", union_name="远山区总工会")
    return RankingWeights.objects.create(district=far, satisfaction=40)


# --- 考核权重: who ------------------------------------------------------------------------


def test_a_district_cadre_sees_and_changes_the_districts_weights(
    client, district_cadre, weights, far_weights
):
    client.force_login(district_cadre)

    listing = client.get(WEIGHTS_LIST)
    assert listing.status_code == 200
    assert list(listing.context["cl"].result_list) == [weights]

    page = client.get(change_url(weights))
    assert page.status_code == 200
    html = page.content.decode()
    assert "考核得分 = Σ（权重 × 分项得分）÷ Σ 权重" in html
    assert "响应 30%，办结 30%，满意 25%，项目 15%" in html

    response = client.post(change_url(weights), weights_form(satisfaction=40, projects=0))
    assert response.status_code == 302
    weights.refresh_from_db()
    assert weights.as_dict == {
        "responsiveness": 30,
        "resolution": 30,
        "satisfaction": 40,
        "projects": 0,
    }
    assert weights.updated_by == district_cadre


def test_a_district_cadre_cannot_open_another_districts_weights(
    client, district_cadre, far_weights
):
    client.force_login(district_cadre)
    assert client.get(change_url(far_weights)).status_code == 404
    assert client.post(change_url(far_weights), weights_form()).status_code == 404
    far_weights.refresh_from_db()
    assert far_weights.satisfaction == 40


def test_a_district_cadre_sets_weights_for_a_district_that_has_none(
    client, district_cadre, district
):
    client.force_login(district_cadre)
    response = client.post(WEIGHTS_ADD, weights_form(district, projects=20))
    assert response.status_code == 302
    weights = RankingWeights.objects.get()
    assert (weights.district, weights.projects) == (district, 20)
    assert weights.updated_by == district_cadre


@pytest.mark.parametrize("who", ["street_cadre", "cadre"])
def test_street_and_workstation_cadres_cannot_see_the_weights(request, client, who, weights):
    client.force_login(request.getfixturevalue(who))
    assert client.get(WEIGHTS_LIST).status_code == 403
    assert client.get(WEIGHTS_ADD).status_code == 403
    # Refused before the object is looked up: the same answer for any id.
    assert client.get(change_url(weights)).status_code == 403
    assert client.post(change_url(weights), weights_form(projects=100)).status_code == 403
    index = client.get(reverse("admin:index")).content.decode()
    assert "考核权重" not in index
    weights.refresh_from_db()
    assert weights.projects == 15


def test_a_superuser_sees_every_districts_weights(client, superuser, weights, far_weights):
    client.force_login(superuser)
    listing = client.get(WEIGHTS_LIST)
    assert set(listing.context["cl"].result_list) == {weights, far_weights}


# --- 考核权重: validation ------------------------------------------------------------------


def test_all_zero_weights_are_refused_in_chinese(client, district_cadre, weights):
    client.force_login(district_cadre)
    response = client.post(
        change_url(weights),
        weights_form(responsiveness=0, resolution=0, satisfaction=0, projects=0),
    )
    assert response.status_code == 200
    assert "四项权重不能全为 0。" in response.content.decode()
    weights.refresh_from_db()
    assert weights.as_dict == RankingWeights.DEFAULTS


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("101", "权重不能超过 100。"),
        ("-1", "权重不能小于 0。"),
        ("三十", "权重须是 0–100 的整数。"),
    ],
)
def test_a_weight_outside_0_to_100_is_refused_in_chinese(
    client, district_cadre, weights, value, message
):
    client.force_login(district_cadre)
    response = client.post(change_url(weights), weights_form(resolution=value))
    assert response.status_code == 200
    assert message in response.content.decode()
    weights.refresh_from_db()
    assert weights.resolution == 30


# --- 回访抽查 audit -------------------------------------------------------------------------


@pytest.fixture
def sample(make_need, worker, district_cadre, reviewer):
    need = make_need(worker, title="公司拖欠三个月工资")
    need_services.need_accept(need=need, by=district_cadre)
    need_services.need_resolve(need=need, by=district_cadre, resolution="已补发。")
    today = timezone.localdate()
    sample = services.draw_follow_up_sample(
        by=reviewer, start=today - dt.timedelta(days=7), end=today, per_street=5
    )
    services.record_follow_up_call(
        call=sample.calls.get(), by=reviewer, reached=True, outcome="partly", score=3
    )
    return sample


def test_a_superuser_audits_samples_with_masked_mobiles(client, superuser, sample, worker):
    client.force_login(superuser)
    listing = client.get(SAMPLES_LIST)
    assert listing.status_code == 200
    assert "1 / 1" in listing.content.decode()

    page = client.get(sample_url(sample))
    assert page.status_code == 200
    html = page.content.decode()
    assert "公司拖欠三个月工资" in html
    assert "138****0001" in html
    assert worker.mobile not in html
    assert "张*" in html and "张丽" not in html
    assert "部分解决" in html


def test_samples_are_read_only_in_the_admin(client, superuser, sample):
    client.force_login(superuser)
    assert client.get(reverse("admin:reports_followupsample_add")).status_code == 403
    assert client.post(sample_url(sample), {"per_street": 50}).status_code == 403
    delete = reverse("admin:reports_followupsample_delete", args=[sample.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    sample.refresh_from_db()
    assert sample.per_street == 5


@pytest.mark.parametrize("who", ["district_cadre", "street_cadre", "cadre"])
def test_the_cadres_being_checked_do_not_see_the_samples(request, client, who, sample):
    client.force_login(request.getfixturevalue(who))
    assert client.get(SAMPLES_LIST).status_code == 403
    assert client.get(sample_url(sample)).status_code == 403
    assert "回访抽查" not in client.get(reverse("admin:index")).content.decode()
    assert FollowUpSample.objects.count() == 1


def test_a_reviewer_with_admin_access_audits_only_their_districts_samples(
    client, reviewer, sample, make_staff
):
    far = District.objects.create(code="330299", name="远山区", union_name="远山区总工会")
    outsider = make_staff(
        "far_reviewer", "钱考核", role=CadreAssignment.Role.REVIEWER, district=far
    )
    get_user_model().objects.filter(pk__in=[reviewer.pk, outsider.pk]).update(is_staff=True)

    client.force_login(reviewer)
    assert client.get(sample_url(sample)).status_code == 200
    client.force_login(outsider)
    assert list(client.get(SAMPLES_LIST).context["cl"].result_list) == []
    assert client.get(sample_url(sample)).status_code == 404
