"""/projects/review/ and /projects/<id>/review/: acceptance (验收) by the district's reviewers."""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from apps.needs.models import Need
from apps.needs.workflow import Status as NeedStatus
from apps.notifications.models import Notification
from apps.projects.models import Evidence, Review, ServiceProject
from apps.projects.workflow import Status
from apps.workstations.jurisdiction import Jurisdiction
from apps.workstations.models import CadreAssignment, District

QUEUE = reverse("projects:review-queue")
GOOD = {"verdict": "pass", "score": "88.5", "comments": "指标达成，材料齐全。"}


def page(project):
    return reverse("projects:project-review", args=[project.pk])


def submit(project):
    return reverse("projects:project-review-submit", args=[project.pk])


@pytest.fixture
def assessed(make_project, need, cadre):
    """Alice's need in a project of ws_a1 led by its cadre, assessed (score 86.7)."""
    return make_project(needs=[need], by=cadre, status=Status.ASSESSED, title="待验收的项目")


@pytest.fixture
def second_reviewer(make_staff, district):
    return make_staff("reviewer2", "郑评审", role=CadreAssignment.Role.REVIEWER, district=district)


@pytest.fixture
def outside_reviewer(make_staff, db):
    other = District.objects.create(code="330299", name="邻区", union_name="邻区总工会")
    return make_staff("reviewer_x", "外区考核", role=CadreAssignment.Role.REVIEWER, district=other)


def panel_of_two(project):
    ServiceProject.objects.filter(pk=project.pk).update(panel_size=2)


# --- the queue --------------------------------------------------------------------------


def test_reviewer_sees_the_assessed_projects_of_their_district(
    client, assessed, make_project, make_need, worker, cadre, reviewer
):
    make_project(needs=[make_need(worker)], by=cadre, status=Status.IN_PROGRESS, title="还在实施")
    client.force_login(reviewer)
    response = client.get(QUEUE)
    assert response.status_code == 200
    body = response.content.decode()
    assert "待验收的项目" in body and page(assessed) in body
    assert "还在实施" not in body
    assert "评审 0 / 1" in body


def test_queue_leaves_out_what_the_reviewer_reviewed_or_leads(
    client, assessed, reviewer, second_reviewer, district, cadre
):
    panel_of_two(assessed)
    client.force_login(reviewer)
    client.post(submit(assessed), GOOD)
    body = client.get(QUEUE).content.decode()
    assert "目前没有等待您验收的项目" in body
    assert "我最近的验收" in body and "通过 · 88.5 分" in body
    # The lead, also posted as a reviewer, does not find their own project in the queue.
    CadreAssignment.objects.create(
        user=cadre, role=CadreAssignment.Role.REVIEWER, district=district, title="兼考核"
    )
    client.force_login(cadre)
    assert "待验收的项目" not in client.get(QUEUE).content.decode()


def test_reviewer_of_another_district_sees_an_empty_queue(client, assessed, outside_reviewer):
    client.force_login(outside_reviewer)
    body = client.get(QUEUE).content.decode()
    assert "待验收的项目" not in body


@pytest.mark.parametrize("who", ["worker", "cadre", "district_cadre"])
def test_queue_is_for_reviewers_only(client, assessed, request, who):
    person = request.getfixturevalue(who)
    client.force_login(getattr(person, "user", person))
    assert client.get(QUEUE).status_code == 403


def test_queue_needs_a_login(client, assessed):
    response = client.get(QUEUE)
    assert response.status_code == 302
    assert reverse("members:login") in response["Location"]


@pytest.mark.parametrize("count", [3, 30])
def test_queue_query_count_does_not_grow(
    client, make_project, make_need, worker, cadre, reviewer, django_assert_num_queries, count
):
    for i in range(count):
        make_project(needs=[make_need(worker)], by=cadre, status=Status.ASSESSED, title=f"项目{i}")
    client.force_login(reviewer)
    # 1. the session  2. the user  3. the reviewer's posts (their district)
    # 4. COUNT of the queue  5. the page, with area, street, workstation and review counts
    # 6. the reviewer's own recent reviews  7. the header's unread message count
    with django_assert_num_queries(7):
        response = client.get(QUEUE)
    assert response.status_code == 200
    assert len(response.context["projects"]) == min(count, 20)


def test_header_links_the_queue_for_reviewers_only(client, assessed, reviewer, worker, cadre):
    client.force_login(reviewer)
    assert f'href="{QUEUE}"' in client.get(reverse("home")).content.decode()
    for person in (worker.user, cadre):
        client.force_login(person)
        assert f'href="{QUEUE}"' not in client.get(reverse("home")).content.decode()


# --- the review page --------------------------------------------------------------------


def test_review_page_shows_what_the_verdict_rests_on(client, assessed, reviewer, cadre, media):
    Evidence.objects.create(
        project=assessed,
        kind=Evidence.Kind.SIGNOFF,
        file=SimpleUploadedFile("签字.pdf", b"%PDF-1.4\n%%EOF\n"),
        note="受益职工签字表",
        uploaded_by=cadre,
    )
    Evidence.objects.create(
        project=assessed, kind=Evidence.Kind.ATTENDANCE, attendance=80, uploaded_by=cadre
    )
    client.force_login(reviewer)
    response = client.get(page(assessed))
    assert response.status_code == 200
    body = response.content.decode()
    assert assessed.standard in body
    assert "服务职工" in body and "86.7" in body and "Σ权重×min(实际/目标,1)÷Σ权重×100" in body
    assert "10,000.00 元" in body and "8,000.00 元" in body
    assert "受益职工签字表" in body and "共 80 人次" in body
    assert "经费使用明细" in body and "未提交" in body  # a missing kind shows as a gap
    assert "讲座已办 12 场" in body  # the result the cadre reported
    assert submit(assessed) in body and 'name="comments"' in body


@pytest.mark.parametrize("who", ["worker", "other_worker", "other_cadre", "street_cadre"])
def test_review_page_is_404_for_non_reviewers(client, assessed, request, who):
    person = request.getfixturevalue(who)
    client.force_login(getattr(person, "user", person))
    assert client.get(page(assessed)).status_code == 404
    assert client.post(submit(assessed), GOOD).status_code == 404
    assert not Review.objects.exists()


def test_review_page_is_404_for_another_districts_reviewer(client, assessed, outside_reviewer):
    client.force_login(outside_reviewer)
    assert client.get(page(assessed)).status_code == 404
    assert client.post(submit(assessed), GOOD).status_code == 404
    assert not Review.objects.exists()


def test_review_page_needs_a_login(client, assessed):
    for response in (client.get(page(assessed)), client.post(submit(assessed), GOOD)):
        assert response.status_code == 302
        assert reverse("members:login") in response["Location"]
    assert not Review.objects.exists()


def test_review_page_query_count(
    client, assessed, reviewer, cadre, media, django_assert_num_queries
):
    for kind in (Evidence.Kind.ATTENDANCE, Evidence.Kind.BUDGET, Evidence.Kind.OTHER):
        Evidence.objects.create(project=assessed, kind=kind, note="材料", uploaded_by=cadre)
    client.force_login(reviewer)
    # 1. the session  2. the user  3. the reviewer's posts  4. the project (JOINs)
    # 5. indicators  6. reviews  7–11. the needs behind it (status, area, public titles,
    # workers, supporters)  12. evidence  13. progress updates  14. the header's messages
    with django_assert_num_queries(14):
        response = client.get(page(assessed))
    assert response.status_code == 200


def test_proposed_project_has_no_review_page(client, make_project, need, cadre, reviewer):
    proposed = make_project(needs=[need], by=cadre)
    client.force_login(reviewer)
    assert client.get(page(proposed)).status_code == 404


def test_lead_is_refused_with_a_clear_message(client, assessed, cadre, district):
    CadreAssignment.objects.create(
        user=cadre, role=CadreAssignment.Role.REVIEWER, district=district, title="兼考核"
    )
    Jurisdiction.forget(cadre)
    client.force_login(cadre)
    response = client.get(page(assessed))
    assert response.status_code == 403
    assert "项目负责人不能验收自己的项目" in response.content.decode()
    response = client.post(submit(assessed), GOOD)
    assert response.status_code == 403
    assert not Review.objects.exists()


def test_submit_is_post_only(client, assessed, reviewer):
    client.force_login(reviewer)
    assert client.get(submit(assessed)).status_code == 405


def test_not_yet_assessed_project_cannot_be_reviewed(client, make_project, need, cadre, reviewer):
    running = make_project(needs=[need], by=cadre, status=Status.IN_PROGRESS)
    client.force_login(reviewer)
    body = client.get(page(running)).content.decode()
    assert 'name="comments"' not in body
    response = client.post(submit(running), GOOD, follow=True)
    assert "不能执行" in response.content.decode()
    assert not Review.objects.exists()


# --- giving the verdict -----------------------------------------------------------------


def test_a_single_reviewer_accepts_and_the_needs_follow(client, assessed, reviewer, worker):
    client.force_login(reviewer)
    response = client.post(submit(assessed), GOOD, follow=True)
    assert response.redirect_chain[-1][0] == QUEUE
    assert "通过验收，验收得分 88.5 分" in response.content.decode()
    assessed.refresh_from_db()
    assert assessed.status == Status.ACCEPTED
    assert assessed.acceptance_score == Decimal("88.5")
    review = Review.objects.get()
    assert (review.reviewer, review.verdict, review.comments) == (
        reviewer,
        "pass",
        GOOD["comments"],
    )
    assert Need.objects.get().status == NeedStatus.RESOLVED
    assert Notification.objects.filter(user=worker.user, title__contains="请您评价").exists()


def test_a_panel_of_two_concludes_on_the_second_review(
    client, assessed, reviewer, second_reviewer, worker
):
    panel_of_two(assessed)
    client.force_login(reviewer)
    response = client.post(submit(assessed), GOOD, follow=True)
    assert "还需 1 位考核人员" in response.content.decode()
    assessed.refresh_from_db()
    assert assessed.status == Status.ASSESSED
    assert Need.objects.get().status == NeedStatus.IN_PROGRESS

    # The second reviewer sees how far the panel is, not what the first one said.
    client.force_login(second_reviewer)
    body = client.get(page(assessed)).content.decode()
    assert "已有 1 人提交意见" in body
    assert GOOD["comments"] not in body

    client.post(submit(assessed), {"verdict": "pass", "score": "71.5", "comments": "基本达标"})
    assessed.refresh_from_db()
    assert assessed.status == Status.ACCEPTED
    assert assessed.acceptance_score == Decimal("80.0")  # (88.5 + 71.5) ÷ 2
    assert Need.objects.get().status == NeedStatus.RESOLVED
    assert Notification.objects.filter(user=worker.user, title__contains="请您评价").exists()
    # Now the panel's verdicts are shown, with the reviewers' names, to reviewers …
    body = client.get(page(assessed)).content.decode()
    assert "吴考核" in body and "郑评审" in body and GOOD["comments"] in body
    # … and on the public page, without their names.
    public = client.get(reverse("projects:project-detail", args=[assessed.pk])).content.decode()
    assert GOOD["comments"] in public and "基本达标" in public
    assert "吴考核" not in public


def test_a_failed_project_returns_its_needs_to_the_cadres(client, assessed, reviewer, cadre):
    client.force_login(reviewer)
    response = client.post(
        submit(assessed),
        {"verdict": "fail", "score": "45", "comments": "签到表与实际人数不符"},
        follow=True,
    )
    assert "未通过验收（45.0 分）" in response.content.decode()
    assessed.refresh_from_db()
    assert assessed.status == Status.FAILED
    need = Need.objects.get()
    assert need.status == NeedStatus.IN_PROGRESS
    assert need.resolve_due is not None
    assert Notification.objects.filter(user=cadre, title__contains="验收未通过").exists()


def test_a_reviewer_reviews_once(client, assessed, reviewer, second_reviewer):
    panel_of_two(assessed)
    client.force_login(reviewer)
    client.post(submit(assessed), GOOD)
    body = client.get(page(assessed)).content.decode()
    assert "您已于" in body and 'name="comments"' not in body
    response = client.post(submit(assessed), {**GOOD, "score": "20"}, follow=True)
    assert "已经提交过" in response.content.decode()
    assert Review.objects.get().score == Decimal("88.5")
    assessed.refresh_from_db()
    assert assessed.status == Status.ASSESSED


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({**GOOD, "score": "150"}, "评分须在 0 到 100 之间"),
        ({**GOOD, "score": "-1"}, "评分须在 0 到 100 之间"),
        ({**GOOD, "score": "abc"}, "评分须是 0 到 100 之间的数字"),
        ({**GOOD, "score": "88.25"}, "评分最多保留一位小数"),
        ({**GOOD, "score": ""}, "请填写评分"),
        ({**GOOD, "comments": "   "}, "请填写验收意见"),
        ({**GOOD, "verdict": "maybe"}, "验收结论只能是"),
        ({"score": "80", "comments": "好"}, "请选择验收结论"),
    ],
)
def test_bad_input_is_refused_and_nothing_saved(client, assessed, reviewer, data, message):
    client.force_login(reviewer)
    response = client.post(submit(assessed), data)
    assert response.status_code == 200
    body = response.content.decode()
    assert "提交未成功" in body and message in body
    assert not Review.objects.exists()
    assessed.refresh_from_db()
    assert assessed.status == Status.ASSESSED


# --- evidence ---------------------------------------------------------------------------


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def signoff(assessed, cadre, media):
    return Evidence.objects.create(
        project=assessed,
        kind=Evidence.Kind.SIGNOFF,
        file=SimpleUploadedFile("x.pdf", b"%PDF-1.4\n%%EOF\n"),
        note="签字表",
        uploaded_by=cadre,
    )


def evidence_url(evidence):
    return reverse("projects:evidence-download", args=[evidence.project_id, evidence.pk])


@pytest.mark.parametrize("who", ["reviewer", "cadre", "street_cadre", "district_cadre"])
def test_evidence_is_for_the_districts_reviewers_and_the_projects_cadres(
    client, signoff, request, who
):
    client.force_login(request.getfixturevalue(who))
    response = client.get(evidence_url(signoff))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"]
    assert "no-store" in response["Cache-Control"]


@pytest.mark.parametrize("who", ["worker", "other_worker", "other_cadre", "outside_reviewer"])
def test_evidence_is_404_for_everyone_else(client, signoff, request, who):
    person = request.getfixturevalue(who)
    client.force_login(getattr(person, "user", person))
    assert client.get(evidence_url(signoff)).status_code == 404


def test_evidence_needs_a_login(client, signoff):
    assert client.get(evidence_url(signoff)).status_code == 302
