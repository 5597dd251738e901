"""The project page's action panel: only what the state machine and the cadre's level allow,
each through its service; refusals are messages and change nothing."""

import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from apps.needs import services as need_services
from apps.needs.workflow import Status as NeedStatus
from apps.notifications.models import Notification
from apps.projects.models import Evidence, ProgressUpdate, Reward
from apps.projects.workflow import Status
from tests.projects.conftest import ready


def change_url(project):
    return reverse("admin:projects_serviceproject_change", args=[project.pk])


def act(client, project, action, expected_status=None, **data):
    """Post one action of the panel, as its form would."""
    return client.post(
        change_url(project),
        {"_project_action": action, "expected_status": expected_status or project.status, **data},
    )


def messages_of(response):
    return [str(m.message) for m in response.wsgi_request._messages]


def last_message(response):
    """The message of this response (those of earlier posts wait unread in the session)."""
    return messages_of(response)[-1]


def panel(client, project):
    response = client.get(change_url(project))
    return {form.action: form for form in response.context.get("action_forms", [])}


def png(name="photo.png", size=(8, 8)):
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, "PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def status_of(project):
    project.refresh_from_db()
    return project.status


@pytest.fixture
def alice_need(make_need, worker):
    return make_need(worker, title="想学劳动合同法")


@pytest.fixture
def proposal(make_project, alice_need, cadre):
    """A proposal of ws_a1 led by its cadre, with no standard or indicators yet."""
    return make_project(needs=[alice_need], by=cadre)


@pytest.fixture
def make(make_project, make_need, worker, cadre):
    def at(status):
        return make_project(
            needs=[make_need(worker, title=f"诉求 {status}")], by=cadre, status=status
        )

    return at


# --- what the panel offers ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "offered"),
    [
        (Status.PROPOSED, ["approve", "link", "cancel"]),
        (Status.APPROVED, ["start", "progress", "link", "cancel"]),
        (Status.IN_PROGRESS, ["progress", "assess", "evidence", "link"]),
        (Status.ASSESSED, ["evidence"]),
        (Status.ACCEPTED, ["reward"]),
        (Status.FAILED, []),
        (Status.REWARDED, ["reward"]),
        (Status.CANCELLED, []),
    ],
)
def test_the_panel_offers_only_what_the_workflow_allows(
    client, district_cadre, make, status, offered
):
    project = make(status)
    client.force_login(district_cadre)
    assert list(panel(client, project)) == offered


# --- approve ------------------------------------------------------------------------------


def test_a_workstation_cadre_cannot_approve(client, cadre, proposal):
    ready(proposal)
    client.force_login(cadre)
    section = panel(client, proposal)["approve"]
    assert section.refusal.startswith("立项须由街道（开发区）或县区工会干部批准")
    response = act(client, proposal, "approve")  # a forged post
    assert messages_of(response) == ["立项须由街道（开发区）或县区工会干部批准。"]
    assert status_of(proposal) == Status.PROPOSED


def test_approval_is_refused_without_a_standard_and_an_indicator(client, street_cadre, proposal):
    client.force_login(street_cadre)
    assert panel(client, proposal)["approve"].missing == ["项目标准", "至少一项考核指标"]
    response = act(client, proposal, "approve")
    assert messages_of(response) == ["立项前须填写项目标准和至少一项考核指标。"]
    assert status_of(proposal) == Status.PROPOSED
    ready(proposal, indicators=[])
    response = act(client, proposal, "approve")
    assert last_message(response) == "立项前须填写至少一项考核指标。"
    assert status_of(proposal) == Status.PROPOSED


def test_a_street_cadre_approves_and_workers_are_told(client, street_cadre, proposal, worker):
    ready(proposal)
    client.force_login(street_cadre)
    response = act(client, proposal, "approve", note="同意立项")
    assert messages_of(response) == [
        f"项目 {proposal.number} 已批准立项，关联诉求的职工已收到通知。"
    ]
    assert status_of(proposal) == Status.APPROVED
    event = proposal.events.order_by("-id").first()
    assert (event.action, event.by, event.note) == ("approve", street_cadre, "同意立项")
    assert Notification.objects.filter(
        user=worker.user, title__startswith="您关注的服务项目已立项"
    ).exists()


def test_a_stale_page_changes_nothing(client, street_cadre, proposal):
    ready(proposal)
    client.force_login(street_cadre)
    response = act(client, proposal, "approve", expected_status=Status.APPROVED)
    assert "刚刚已被他人处理" in messages_of(response)[0]
    assert status_of(proposal) == Status.PROPOSED


def test_a_transition_out_of_order_is_a_message(client, cadre, proposal):
    client.force_login(cadre)
    response = act(client, proposal, "start", on=timezone.localdate().isoformat())
    assert response.status_code == 302
    assert messages_of(response) == ["项目当前状态为“立项申请”，不能执行“开始实施”。"]
    assert status_of(proposal) == Status.PROPOSED
    assert proposal.events.count() == 1


def test_an_unknown_action_is_a_message(client, cadre, proposal):
    client.force_login(cadre)
    assert messages_of(act(client, proposal, "accept")) == ["未知的操作。"]
    assert status_of(proposal) == Status.PROPOSED


# --- start and progress --------------------------------------------------------------------


def test_start(client, cadre, make):
    project = make(Status.APPROVED)
    client.force_login(cadre)
    today = timezone.localdate()
    act(client, project, "start", on=today.isoformat())
    assert status_of(project) == Status.IN_PROGRESS
    assert project.actual_start == today


def test_progress_with_photos_reaches_every_worker_behind_the_project(
    client, cadre, make_project, alice_need, make_need, other_worker, street_cadre, street_a
):
    bobs = make_need(other_worker, title="也想学劳动法")
    project = make_project(
        needs=[alice_need, bobs], by=street_cadre, street=street_a, status=Status.IN_PROGRESS
    )
    client.force_login(street_cadre)
    response = act(
        client,
        project,
        "progress",
        text="第一场讲座已举办，60 名职工参加",
        percent="40",
        photos=[png("a.png"), png("b.png")],
    )
    assert messages_of(response) == [
        f"已发布项目 {project.number} 的进展，关联诉求的职工已收到通知。"
    ]
    update = ProgressUpdate.objects.get()
    assert (update.percent, update.photos.count()) == (40, 2)
    for member in (alice_need.submitter, bobs.submitter):
        assert Notification.objects.filter(
            user=member.user, title__startswith="服务项目进展 40%"
        ).exists()
    # The photos are served to the cadre through the project, by their content.
    photo = update.photos.first()
    url = reverse("admin:projects_serviceproject_photo", args=[project.pk, photo.pk])
    assert client.get(url)["Content-Type"] == "image/png"
    assert client.get(url + "?size=thumb")["Content-Type"] == "image/jpeg"


def test_a_progress_photo_that_is_not_an_image_is_refused(client, cadre, make):
    project = make(Status.IN_PROGRESS)
    client.force_login(cadre)
    fake = SimpleUploadedFile("photo.png", b"<html>not an image</html>", content_type="image/png")
    response = act(client, project, "progress", text="进展", percent="10", photos=[fake])
    assert "不是可以识别的照片" in messages_of(response)[0]
    assert not ProgressUpdate.objects.exists()


def test_a_pdf_is_not_a_progress_photo(client, cadre, make):
    project = make(Status.IN_PROGRESS)
    client.force_login(cadre)
    pdf = SimpleUploadedFile("a.pdf", b"%PDF-1.4 test", content_type="application/pdf")
    response = act(client, project, "progress", text="进展", percent="10", photos=[pdf])
    assert "不是照片" in messages_of(response)[0]
    assert not ProgressUpdate.objects.exists()


@pytest.mark.parametrize("percent", ["101", "-1", "一半", ""])
def test_a_bad_percent_is_refused(client, cadre, make, percent):
    project = make(Status.IN_PROGRESS)
    client.force_login(cadre)
    response = act(client, project, "progress", text="进展", percent=percent)
    assert messages_of(response)[0].startswith("完成进度（%）：")
    assert not ProgressUpdate.objects.exists()


def test_progress_cannot_go_back(client, cadre, make):
    project = make(Status.IN_PROGRESS)
    client.force_login(cadre)
    act(client, project, "progress", text="过半", percent="60")
    response = act(client, project, "progress", text="倒退", percent="30")
    assert last_message(response) == "进度不能低于上次发布的 60%。"
    assert ProgressUpdate.objects.count() == 1


# --- assess --------------------------------------------------------------------------------


def assessment(project, first="80", second="12", **extra):
    one, two = project.indicators.order_by("order", "id")
    return {
        f"actual_{one.pk}": first,
        f"actual_{two.pk}": second,
        "spent": "8000",
        "overspend_reason": "",
        "result": "讲座已办 12 场，服务职工 80 人",
        "finished_on": timezone.localdate().isoformat(),
        **extra,
    }


def test_assess_computes_the_score(client, cadre, make):
    """Targets 100 人 (weight 2) and 10 次 (weight 1), actuals 80 and 12:
    (2 × 0.8 + 1 × min(1.2, 1)) ÷ 3 × 100 = 86.7."""
    project = make(Status.IN_PROGRESS)
    client.force_login(cadre)
    page = client.get(change_url(project)).content.decode()
    assert "考核得分 = Σ(权重 × min(实际值 ÷ 目标值, 1)) ÷ Σ权重 × 100" in page
    response = act(client, project, "assess", **assessment(project))
    assert messages_of(response) == [
        f"项目 {project.number} 已完成考核，考核得分 86.7，等待考核人员验收。"
    ]
    assert status_of(project) == Status.ASSESSED
    assert project.assessment_score == Decimal("86.7")
    assert project.spent == Decimal("8000")
    assert list(project.indicators.values_list("actual", flat=True)) == [
        Decimal("80"),
        Decimal("12"),
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"spent": "12000"}, "须说明理由"),
        ({"spent": "很多"}, "请填写金额"),
        ({"spent": "-1"}, "金额不能为负数"),
        ({"result": ""}, "项目成果"),
        ({"finished_on": "2000-01-01"}, "不能早于实际开始日期"),
    ],
)
def test_bad_assessments_are_refused_and_nothing_is_saved(client, cadre, make, data, message):
    project = make(Status.IN_PROGRESS)
    client.force_login(cadre)
    response = act(client, project, "assess", **assessment(project, **data))
    assert message in messages_of(response)[0]
    assert status_of(project) == Status.IN_PROGRESS
    assert project.spent == 0
    assert not project.indicators.filter(actual__isnull=False).exists()


@pytest.mark.parametrize(
    ("first", "message"), [("", "请填写实际值"), ("多", "实际值须是数字"), ("-3", "不能为负数")]
)
def test_every_indicator_needs_a_valid_actual(client, cadre, make, first, message):
    project = make(Status.IN_PROGRESS)
    client.force_login(cadre)
    response = act(client, project, "assess", **assessment(project, first=first))
    assert message in messages_of(response)[0]
    assert status_of(project) == Status.IN_PROGRESS


def test_overspending_with_a_reason_is_accepted(client, cadre, make):
    project = make(Status.IN_PROGRESS)
    client.force_login(cadre)
    act(
        client,
        project,
        "assess",
        **assessment(project, spent="12000", overspend_reason="参加人数超出预期，增订教材"),
    )
    assert status_of(project) == Status.ASSESSED
    assert project.spent == Decimal("12000")


# --- evidence ------------------------------------------------------------------------------


def test_evidence_is_added_with_a_file_checked_by_content(client, cadre, make):
    project = make(Status.ASSESSED)
    client.force_login(cadre)
    response = act(
        client, project, "evidence", kind="attendance", note="第一场签到表", file=png("sign.png")
    )
    assert messages_of(response) == [f"已为项目 {project.number} 添加验收材料。"]
    evidence = Evidence.objects.get()
    assert (evidence.kind, evidence.uploaded_by) == ("attendance", cadre)
    url = reverse("admin:projects_serviceproject_evidence", args=[project.pk, evidence.pk])
    assert client.get(url)["Content-Type"] == "image/png"


def test_empty_or_fake_evidence_is_refused(client, cadre, make):
    project = make(Status.IN_PROGRESS)
    client.force_login(cadre)
    response = act(client, project, "evidence", kind="other")
    assert messages_of(response) == ["请上传文件，或填写说明或参与人数。"]
    fake = SimpleUploadedFile("x.pdf", b"MZ executable", content_type="application/pdf")
    response = act(client, project, "evidence", kind="other", file=fake)
    assert "不是可以识别的照片" in last_message(response)
    assert not Evidence.objects.exists()


def test_evidence_of_another_jurisdiction_is_404(
    client, cadre, make_project, make_need, other_worker, other_cadre
):
    project = make_project(needs=[make_need(other_worker)], by=other_cadre, status=Status.ASSESSED)
    evidence = Evidence.objects.create(
        project=project, kind="other", note="明细", uploaded_by=other_cadre
    )
    client.force_login(cadre)
    url = reverse("admin:projects_serviceproject_evidence", args=[project.pk, evidence.pk])
    assert client.get(url).status_code == 404


# --- reward ----------------------------------------------------------------------------------


def test_reward_only_after_acceptance(client, district_cadre, make, ws_a1):
    project = make(Status.ASSESSED)
    client.force_login(district_cadre)
    response = act(
        client, project, "reward", kind="commendation", workstation=ws_a1.pk, reason="好"
    )
    assert messages_of(response) == ["项目当前状态为“已考核待验收”，不能执行“奖励”。"]
    assert not Reward.objects.exists()


def test_only_a_district_cadre_rewards(client, street_cadre, district_cadre, make, ws_a1):
    project = make(Status.ACCEPTED)
    client.force_login(street_cadre)
    assert panel(client, project)["reward"].refusal == "奖励由县区工会决定。"
    data = {"kind": "award", "workstation": ws_a1.pk, "amount": "2000", "reason": "成效明显"}
    response = act(client, project, "reward", **data)
    assert messages_of(response) == ["奖励由县区工会决定。"]
    assert not Reward.objects.exists()
    client.force_login(district_cadre)
    response = act(client, project, "reward", **data)
    assert last_message(response) == f"已记录对项目 {project.number} 的奖励。"
    assert status_of(project) == Status.REWARDED
    reward = Reward.objects.get()
    assert (reward.kind, reward.workstation, reward.amount) == ("award", ws_a1, Decimal("2000"))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"kind": "award", "amount": ""}, "奖励资金须填写大于 0 的金额。"),
        ({"kind": "award", "amount": "0"}, "奖励资金须填写大于 0 的金额。"),
        ({"kind": "commendation", "workstation": ""}, "请选择获奖工作站或获奖干部。"),
        ({"kind": "commendation", "reason": ""}, "奖励理由"),
    ],
)
def test_bad_rewards_are_refused(client, district_cadre, make, ws_a1, data, message):
    project = make(Status.ACCEPTED)
    client.force_login(district_cadre)
    full = {"workstation": ws_a1.pk, "reason": "成效明显", **data}
    response = act(client, project, "reward", **full)
    assert message in messages_of(response)[0]
    assert not Reward.objects.exists()


# --- link and cancel -----------------------------------------------------------------------


def test_link_needs_by_number(client, cadre, proposal, make_need, worker, other_worker):
    mine = make_need(worker, title="再加一件")
    foreign = make_need(other_worker)
    client.force_login(cadre)
    response = act(client, proposal, "link", numbers=f"{mine.number}，{foreign.number}")
    assert messages_of(response) == [f"未找到诉求 {foreign.number}（只能关联您管辖范围内的诉求）。"]
    assert proposal.links.count() == 1
    response = act(client, proposal, "link", numbers=mine.number.lower())
    assert last_message(response) == f"已将 1 件诉求关联到项目 {proposal.number}，职工已收到通知。"
    mine.refresh_from_db()
    assert mine.project_link.project == proposal


def test_cancel_needs_a_reason_and_returns_the_needs(client, cadre, proposal, alice_need):
    client.force_login(cadre)
    response = act(client, proposal, "cancel", reason="")
    assert messages_of(response) == ["撤销理由：这个字段是必填项。"]
    assert status_of(proposal) == Status.PROPOSED
    act(client, proposal, "cancel", reason="并入街道统一项目")
    assert status_of(proposal) == Status.CANCELLED
    alice_need.refresh_from_db()
    assert alice_need.status == NeedStatus.IN_PROGRESS
    assert alice_need.resolve_due is not None  # back with the workstation, on the clock again
    assert "并入街道统一项目" in alice_need.events.order_by("-id").first().internal_note


def test_a_worker_cannot_reach_the_admin(client, worker, proposal):
    client.force_login(worker.user)
    response = act(client, proposal, "cancel", reason="x")
    assert response.status_code == 302 and response.url.startswith(reverse("admin:login"))
    assert status_of(proposal) == Status.PROPOSED


def test_a_cadre_who_may_only_look_gets_403(client, cadre, proposal):
    from django.contrib.auth.models import Permission

    cadre.groups.clear()
    cadre.user_permissions.add(
        Permission.objects.get(codename="view_serviceproject", content_type__app_label="projects")
    )
    client.force_login(cadre)
    assert "action_forms" not in client.get(change_url(proposal)).context
    response = act(client, proposal, "cancel", reason="x")
    assert response.status_code == 403
    assert status_of(proposal) == Status.PROPOSED


def test_a_need_rejected_meanwhile_is_not_linked(client, cadre, proposal, make_need, worker):
    other = make_need(worker, title="别的")
    need_services.need_reject(need=other, by=cadre, reason="不属于工会职责")
    client.force_login(cadre)
    response = act(client, proposal, "link", numbers=other.number)
    assert "以下诉求不能纳入项目" in messages_of(response)[0]
    assert proposal.links.count() == 1
