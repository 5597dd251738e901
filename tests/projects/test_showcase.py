"""/projects/ and /projects/<id>/: the public showcase — public projects only, no worker in sight."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from apps.needs import services as need_services
from apps.needs.models import Need, ServiceArea
from apps.projects import services
from apps.projects.models import ProgressPhoto, ServiceProject
from apps.projects.workflow import Status

LIST = reverse("projects:project-list")


def detail(project):
    return reverse("projects:project-detail", args=[project.pk])


def photo_url(photo, project=None):
    project_pk = project.pk if project else photo.update.project_id
    return reverse("projects:progress-photo", args=[project_pk, photo.pk])


def png(name="进展.png", size=(900, 600)):
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 60, 40)).save(buffer, "PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def accepted(make_project, need, cadre):
    """Alice's need, answered by a project that passed acceptance (score 86.7, verdict 90)."""
    return make_project(needs=[need], by=cadre, status=Status.ACCEPTED, title="东湖职工法律讲堂")


@pytest.fixture
def running(make_project, need, cadre):
    project = make_project(needs=[need], by=cadre, status=Status.IN_PROGRESS, title="进行中的项目")
    services.project_post_progress(
        project=project, by=cadre, text="已举办 4 场讲座，服务职工 35 人", percent=40
    )
    return project


# --- the list ---------------------------------------------------------------------------


def test_only_approved_and_later_projects_are_listed(
    client, make_project, make_need, worker, cadre
):
    for status in Status:
        make_project(needs=[make_need(worker)], by=cadre, status=status, title=f"项目-{status}")
    body = client.get(LIST).content.decode()
    for status in Status:
        shown = status not in {Status.PROPOSED, Status.CANCELLED}
        assert (f"项目-{status}" in body) is shown, status
    assert "共 6 个项目" in body


def test_a_card_shows_kind_area_street_status_progress_and_demand(
    client, running, other_worker, cadre
):
    need = running.needs.get()
    need_services.need_publish(need=need, by=cadre, public_title="职工想学劳动法")
    need_services.need_support(need=need, member=other_worker)
    body = client.get(LIST).content.decode()
    assert "进行中的项目" in body
    assert "实事" in body and "维护合法权益" in body
    assert "东湖街道 · 东湖第一网格工作站" in body
    assert "project-status-in_progress" in body and "实施中" in body
    assert 'aria-valuenow="40"' in body
    # One linked need, raised by Alice and supported by Bob: two workers.
    assert "回应 <strong>1</strong> 件职工诉求 · <strong>2</strong> 名职工反映" in body


def test_nothing_to_show(client, reference):
    body = client.get(LIST).content.decode()
    assert "目前还没有公开的服务项目" in body


@pytest.fixture
def spread(make_project, make_need, worker, zone_worker, cadre, make_staff, ws_b1):
    """Three public projects differing in kind, area, street and status."""
    zone_cadre = make_staff("cadre_b1", "高站长", workstation=ws_b1)
    culture = ServiceArea.objects.get(code="culture")
    return {
        "good": make_project(
            needs=[make_need(worker)],
            by=cadre,
            status=Status.APPROVED,
            title="好事项目",
            kind=ServiceProject.Kind.GOOD_DEED,
        ),
        "culture": make_project(
            needs=[make_need(worker, area=culture)],
            by=cadre,
            status=Status.ACCEPTED,
            title="文化项目",
            area=culture,
        ),
        "zone": make_project(
            needs=[make_need(zone_worker)],
            by=zone_cadre,
            status=Status.IN_PROGRESS,
            title="开发区项目",
            kind=ServiceProject.Kind.HARD,
        ),
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"kind": "good_deed"}, {"好事项目"}),
        ({"kind": "hard"}, {"开发区项目"}),
        ({"area": "culture"}, {"文化项目"}),
        ({"street": "zone"}, {"开发区项目"}),
        ({"status": "accepted"}, {"文化项目"}),
        ({"status": "in_progress", "kind": "hard"}, {"开发区项目"}),
        ({"status": "approved", "kind": "hard"}, set()),
    ],
)
def test_filters(client, spread, street_b, query, expected):
    params = dict(query)
    if params.get("area") == "culture":
        params["area"] = ServiceArea.objects.get(code="culture").pk
    if params.get("street") == "zone":
        params["street"] = street_b.pk
    body = client.get(LIST, params).content.decode()
    for title in ("好事项目", "文化项目", "开发区项目"):
        assert (title in body) is (title in expected), title
    if not expected:
        assert "没有符合条件的服务项目" in body


@pytest.mark.parametrize(
    "query",
    [
        {"area": "abc"},
        {"street": "999999"},
        {"kind": "bad"},
        {"status": "proposed"},
        {"status": "cancelled"},
        {"area": "1' OR 1=1"},
        {"page": "abc"},
    ],
)
def test_bad_filter_values_are_ignored_not_a_server_error(client, spread, query):
    response = client.get(LIST, query)
    assert response.status_code in (200, 404)
    if response.status_code == 200:
        body = response.content.decode()
        # An invalid filter narrows nothing: proposed or cancelled never slip in.
        assert "好事项目" in body and "开发区项目" in body


def test_pagination(client, make_project, make_need, worker, cadre):
    for i in range(13):
        make_project(
            needs=[make_need(worker)], by=cadre, status=Status.APPROVED, title=f"第{i:02d}号"
        )
    first = client.get(LIST)
    assert len(first.context["projects"]) == 12
    assert "第 1 / 2 页" in first.content.decode()
    second = client.get(LIST, {"page": 2})
    assert [p.title for p in second.context["projects"]] == ["第00号"]
    assert client.get(LIST, {"page": 3}).status_code == 404


def test_pagination_keeps_the_filters(client, make_project, make_need, worker, cadre):
    for i in range(13):
        make_project(
            needs=[make_need(worker)], by=cadre, status=Status.APPROVED, title=f"第{i:02d}号"
        )
    body = client.get(LIST, {"kind": "practical"}).content.decode()
    assert "?kind=practical&amp;page=2" in body


def _many(make_project, make_need, worker, other_worker, cadre, count):
    for i in range(count):
        project = make_project(
            needs=[make_need(worker)], by=cadre, status=Status.IN_PROGRESS, title=f"项目{i}"
        )
        services.project_post_progress(project=project, by=cadre, text="进展", percent=10 + i)
        need = project.needs.get()
        need_services.need_publish(need=need, by=cadre, public_title=f"公开{i}")
        need_services.need_support(need=need, member=other_worker)


@pytest.mark.parametrize("count", [3, 30])
def test_query_count_does_not_grow_with_the_list(
    client, make_project, make_need, worker, other_worker, cadre, django_assert_num_queries, count
):
    _many(make_project, make_need, worker, other_worker, cadre, count)
    # 1. COUNT of public projects (paginator)
    # 2. the page, with area, street and workstation (JOINs) and the latest percent (subquery)
    # 3. the linked needs' workers and 4. their supporters, for the whole page
    # 5. service areas and 6. streets for the filter's selects
    # (anonymous: no session, no user, no message count, no reviewer look-up)
    with django_assert_num_queries(6):
        response = client.get(LIST)
    assert response.status_code == 200
    assert len(response.context["projects"]) == min(count, 12)


@pytest.mark.parametrize("count", [3, 30])
def test_query_count_for_a_signed_in_worker(
    client, make_project, make_need, worker, other_worker, cadre, django_assert_num_queries, count
):
    _many(make_project, make_need, worker, other_worker, cadre, count)
    client.force_login(worker.user)
    # 1. the session  2. the user  3–8. as for anonymous visitors
    # 9. the header's unread message count (whether to link 项目验收 comes from the session)
    with django_assert_num_queries(9):
        response = client.get(LIST)
    assert response.status_code == 200


# --- one project ------------------------------------------------------------------------


def test_detail_shows_standard_indicators_score_and_formula(client, accepted):
    body = client.get(detail(accepted)).content.decode()
    assert accepted.standard in body
    # 服务职工: target 100 人, actual 80 人, 80%, weight 2; 法律讲座: 10 次 → 12 次, 120% capped.
    for text in ("服务职工", "100 人", "80 人", "80%", "法律讲座", "10 次", "12 次", "120%"):
        assert text in body, text
    assert "按 100% 计" in body
    assert '考核得分 <strong class="score-value">86.7</strong>' in body
    assert "Σ权重×min(实际/目标,1)÷Σ权重×100" in body
    assert "(2×80% + 1×100%) ÷ 3 × 100 = 86.7" in body


def test_detail_shows_acceptance_with_the_panels_comments(client, accepted):
    body = client.get(detail(accepted)).content.decode()
    assert "验收通过" in body
    assert '验收得分 <strong class="score-value">90.0</strong>' in body
    assert "资料齐全" in body
    assert "讲座已办 12 场，服务职工 80 人" in body  # the result


def test_detail_shows_progress_budget_demand_and_rewards(
    client, make_project, need, cadre, district_cadre
):
    project = make_project(needs=[need], by=cadre, status=Status.REWARDED, title="获奖项目")
    body = client.get(detail(project)).content.decode()
    assert "10,000.00 元" in body  # budget
    assert "8,000.00 元" in body  # spent at assessment
    assert "2,000.00 元" in body  # left
    assert "回应 <strong>1</strong> 件职工诉求" in body
    assert "通报表彰" in body and "服务职工成效明显" in body
    assert "东湖第一网格工作站" in body


def test_progress_updates_with_photos(client, running, cadre, media):
    services.project_post_progress(
        project=running, by=cadre, text="讲座现场", percent=60, photos=[png()]
    )
    photo = ProgressPhoto.objects.get()
    body = client.get(detail(running)).content.decode()
    assert "已举办 4 场讲座，服务职工 35 人" in body and "讲座现场" in body
    assert f"{photo_url(photo)}?size=thumb" in body
    assert "60%" in body


def test_proposed_and_cancelled_projects_are_404(client, make_project, make_need, worker, cadre):
    proposed = make_project(needs=[make_need(worker)], by=cadre)
    cancelled = make_project(needs=[make_need(worker)], by=cadre, status=Status.CANCELLED)
    for project in (proposed, cancelled):
        assert client.get(detail(project)).status_code == 404
    client.force_login(cadre)  # cadres too: they use the admin
    assert client.get(detail(proposed)).status_code == 404


def test_unknown_project_is_404(client, reference):
    assert client.get("/projects/987654/").status_code == 404


# --- no personal data -------------------------------------------------------------------


@pytest.fixture
def confidential(make_need, worker, other_worker, street_cadre, make_project):
    """Alice's confidential wage claim and Bob's need, in an accepted project."""
    alice = make_need(
        worker,
        title="东湖机械拖欠我三个月工资",
        description="张丽在东湖机械有限公司上班，工资从八月起没发。",
        confidential=True,
    )
    bob = make_need(other_worker, title="王强的加班费没有算", description="王强反映加班费问题。")
    project = make_project(needs=[alice, bob], by=street_cadre, status=Status.ACCEPTED)
    return project, [alice, bob]


def test_no_personal_data_on_the_list_or_the_page(
    client, confidential, worker, other_worker, zone_worker
):
    project, needs = confidential
    private = [
        worker.user.name,
        worker.mobile,
        "138****0001",
        worker.unit_name,
        worker.user.username,
        other_worker.user.name,
        other_worker.mobile,
        other_worker.unit_name,
    ]
    for need in needs:
        private += [need.title, need.description, need.number]
    for viewer in (None, zone_worker.user, worker.user):
        if viewer:
            client.force_login(viewer)
        for url in (LIST, detail(project)):
            body = client.get(url).content.decode()
            # The signed-in worker's own name is in the header: look below it.
            body = body.split('id="main"', 1)[1]
            for text in private:
                assert text not in body, (url, text)


def test_published_needs_show_only_their_public_title(client, confidential, cadre):
    project, (alice, _) = confidential
    # Published before acceptance would be the norm; publishing reads the same afterwards.
    Need.objects.filter(pk=alice.pk).update(
        is_public=True, public_title="部分企业拖欠职工工资", public_summary="涉及多家企业"
    )
    body = client.get(detail(project)).content.decode()
    assert "部分企业拖欠职工工资" in body
    assert alice.title not in body
    # Counts by status, not rows by worker.
    assert "已办结待评价 <strong>2</strong> 件" in body


# --- photos -----------------------------------------------------------------------------


def test_photo_of_a_public_project_is_served_to_anyone(client, running, cadre, media):
    services.project_post_progress(
        project=running, by=cadre, text="现场", percent=50, photos=[png()]
    )
    photo = ProgressPhoto.objects.get()
    response = client.get(photo_url(photo))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    thumb = client.get(photo_url(photo) + "?size=thumb")
    assert thumb.status_code == 200
    assert thumb["Content-Type"] == "image/jpeg"
    image = Image.open(io.BytesIO(thumb.content))
    assert max(image.size) <= 480


def test_photo_of_a_withdrawn_project_is_404(client, make_project, need, cadre, media):
    project = make_project(needs=[need], by=cadre, status=Status.APPROVED)
    services.project_post_progress(
        project=project, by=cadre, text="筹备", percent=5, photos=[png()]
    )
    photo = ProgressPhoto.objects.get()
    assert client.get(photo_url(photo)).status_code == 200
    services.project_cancel(project=project, by=cadre, reason="情况变化")
    assert client.get(photo_url(photo)).status_code == 404
    assert client.get(photo_url(photo) + "?size=thumb").status_code == 404


def test_photo_under_another_project_is_404(
    client, running, make_project, make_need, worker, cadre, media
):
    other = make_project(needs=[make_need(worker)], by=cadre, status=Status.APPROVED)
    services.project_post_progress(
        project=running, by=cadre, text="现场", percent=50, photos=[png()]
    )
    photo = ProgressPhoto.objects.get()
    assert client.get(photo_url(photo, project=other)).status_code == 404


def test_photo_view_is_get_only(client, running, cadre, media):
    services.project_post_progress(
        project=running, by=cadre, text="现场", percent=50, photos=[png()]
    )
    assert client.post(photo_url(ProgressPhoto.objects.get())).status_code == 405


# --- the header -------------------------------------------------------------------------


def test_the_main_navigation_links_the_showcase(client, reference):
    body = client.get(reverse("home")).content.decode()
    assert f'href="{LIST}"' in body
    assert reverse("projects:review-queue") not in body


@pytest.mark.parametrize("count", [1, 6])
def test_detail_query_count_does_not_grow_with_updates_and_photos(
    client, running, make_need, worker, cadre, media, django_assert_num_queries, count
):
    for i in range(count):
        services.project_post_progress(
            project=running, by=cadre, text=f"进展{i}", percent=50 + i, photos=[png(), png()]
        )
    # 1. the project with area, street, workstation and lead  2. its indicators
    # 3. its reviews  4. progress updates  5. their photos
    # 6. linked needs by status  7. by area  8. published public titles
    # 9. the linked needs' workers  10. their supporters  11. rewards  12. milestones
    with django_assert_num_queries(12):
        response = client.get(detail(running))
    assert response.status_code == 200
    assert response.content.decode().count("?size=thumb") == 2 * count
