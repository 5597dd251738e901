"""A need's change page in the admin: the facts, the timeline and the action panel."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import NoReverseMatch, reverse

from apps.needs import services
from apps.needs.models import Need, NeedEvent, Referral, ReplyTemplate, Support
from apps.needs.workflow import Action, Status

CHANGELIST = reverse("admin:needs_need_changelist")


def change_url(need):
    return reverse("admin:needs_need_change", args=[need.pk])


def act(client, need, action, expected_status=None, **data):
    """Post one action of the panel, as its form would."""
    return client.post(
        change_url(need),
        {
            "_need_action": action,
            "expected_status": expected_status or need.status,
            **data,
        },
    )


def messages_of(response):
    return [str(m.message) for m in response.wsgi_request._messages]


def last_event(need):
    return need.events.order_by("-created_at", "-id").first()


@pytest.fixture
def accepted(need, cadre):
    return services.need_accept(need=need, by=cadre)


@pytest.fixture
def in_progress(accepted, cadre):
    return services.need_start(need=accepted, by=cadre)


# --- the facts ------------------------------------------------------------------------


def test_change_page_shows_the_worker_in_full_to_the_acting_cadre(client, cadre, need, worker):
    client.force_login(cadre)
    response = client.get(change_url(need))
    assert response.status_code == 200
    body = response.content.decode()
    assert "张丽" in body
    assert "13800000001" in body  # the full mobile: the cadre calls the worker back
    assert "东湖机械有限公司" in body
    assert "网上提交" in body
    assert "公司拖欠三个月工资" in body


def test_confidential_need_is_flagged_prominently(client, cadre, make_need, worker):
    need = make_need(worker, confidential=True)
    client.force_login(cadre)
    body = client.get(change_url(need)).content.decode()
    assert "保密诉求：提出人的身份只限承办干部知悉" in body


def test_timeline_includes_internal_notes(client, cadre, need):
    services.need_add_note(need=need, by=cadre, internal_note="已电话联系职工，约定周三面谈")
    client.force_login(cadre)
    body = client.get(change_url(need)).content.decode()
    assert "已电话联系职工，约定周三面谈" in body
    assert "职工在线提交" in body


def test_text_is_escaped(client, cadre, make_need, worker):
    need = make_need(worker, title="<script>alert(1)</script>", description="<b>加粗</b>")
    client.force_login(cadre)
    body = client.get(change_url(need)).content.decode()
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;" in body and "&lt;b&gt;" in body


# --- scoping --------------------------------------------------------------------------


@pytest.fixture
def bobs_need(make_need, other_worker):
    """A need at ws_a2, outside the cadre's jurisdiction."""
    return make_need(other_worker, title="纺织车间高温")


@pytest.mark.parametrize("view", ["change", "history", "delete"])
def test_another_workstations_need_is_404(client, cadre, bobs_need, view):
    client.force_login(cadre)
    url = reverse(f"admin:needs_need_{view}", args=[bobs_need.pk])
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("action", [Action.ACCEPT, Action.REJECT, Action.NOTE])
def test_acting_on_another_workstations_need_is_404(client, cadre, bobs_need, action):
    client.force_login(cadre)
    response = act(client, bobs_need, action, reason="理由", internal_note="备注")
    assert response.status_code == 404
    bobs_need.refresh_from_db()
    assert bobs_need.status == Status.SUBMITTED
    assert bobs_need.events.count() == 1


def test_street_cadre_acts_on_needs_of_their_street(client, street_cadre, bobs_need):
    client.force_login(street_cadre)
    act(client, bobs_need, Action.ACCEPT)
    bobs_need.refresh_from_db()
    assert bobs_need.status == Status.ACCEPTED


def test_a_cadre_who_may_only_look_gets_403(client, cadre, need):
    cadre.groups.clear()
    cadre.user_permissions.add(Permission.objects.get(codename="view_need"))
    client.force_login(cadre)
    assert client.get(change_url(need)).status_code == 200
    assert "办理操作" not in client.get(change_url(need)).content.decode()
    assert act(client, need, Action.ACCEPT).status_code == 403
    need.refresh_from_db()
    assert need.status == Status.SUBMITTED


# --- the panel ------------------------------------------------------------------------


def panel(response):
    return [form.action for form in response.context["action_forms"]]


def test_panel_offers_only_what_the_state_machine_allows(client, cadre, need):
    client.force_login(cadre)
    assert panel(client.get(change_url(need))) == [
        Action.ACCEPT,
        Action.REJECT,
        Action.REPLY,
        Action.NOTE,
        Action.MERGE,
        Action.PUBLISH,
    ]
    services.need_accept(need=need, by=cadre)
    assert panel(client.get(change_url(need))) == [
        Action.START,
        Action.REPLY,
        Action.NOTE,
        Action.REFER,
        Action.RESOLVE,
        Action.MERGE,
        Action.PUBLISH,
    ]
    services.need_resolve(need=need, by=cadre, resolution="已协调发放")
    assert panel(client.get(change_url(need))) == [Action.REPLY, Action.NOTE, Action.PUBLISH]


def test_closed_need_offers_nothing_and_cannot_be_saved(client, cadre, need):
    services.need_reject(need=need, by=cadre, reason="重复提交")
    client.force_login(cadre)
    response = client.get(change_url(need))
    assert panel(response) == []
    assert "没有可以执行的办理操作" in response.content.decode()
    assert 'name="_save"' not in response.content.decode()


# --- every action, recorded with the right from/to ---------------------------------------


def test_accept(client, cadre, need, worker):
    client.force_login(cadre)
    response = act(client, need, Action.ACCEPT, public_note="已受理，三日内联系您")
    assert response.status_code == 302
    assert "已受理" in messages_of(response)[0]
    need.refresh_from_db()
    assert need.status == Status.ACCEPTED and need.handler == cadre
    event = last_event(need)
    assert (event.action, event.from_status, event.to_status, event.by) == (
        Action.ACCEPT,
        Status.SUBMITTED,
        Status.ACCEPTED,
        cadre,
    )
    assert event.public_note == "已受理，三日内联系您"


def test_reject_with_reason(client, cadre, need):
    client.force_login(cadre)
    act(client, need, Action.REJECT, reason="属于劳动仲裁受理范围", internal_note="已电话解释")
    need.refresh_from_db()
    assert need.status == Status.REJECTED
    assert need.rejection_reason == "属于劳动仲裁受理范围"
    event = last_event(need)
    assert (event.from_status, event.to_status) == (Status.SUBMITTED, Status.REJECTED)
    assert event.internal_note == "已电话解释"


def test_start(client, cadre, accepted):
    client.force_login(cadre)
    act(client, accepted, Action.START)
    accepted.refresh_from_db()
    assert accepted.status == Status.IN_PROGRESS
    event = last_event(accepted)
    assert (event.action, event.from_status, event.to_status) == (
        Action.START,
        Status.ACCEPTED,
        Status.IN_PROGRESS,
    )


def test_reply_and_internal_note_keep_the_status(client, cadre, accepted):
    client.force_login(cadre)
    act(client, accepted, Action.REPLY, public_note="已约企业负责人周五面谈", internal_note="")
    act(client, accepted, Action.NOTE, internal_note="企业负责人态度消极")
    accepted.refresh_from_db()
    assert accepted.status == Status.ACCEPTED
    reply, note = accepted.events.order_by("-id")[1], accepted.events.order_by("-id")[0]
    assert (reply.action, reply.is_public, reply.public_note) == (
        Action.REPLY,
        True,
        "已约企业负责人周五面谈",
    )
    assert (note.action, note.is_public, note.internal_note) == (
        Action.NOTE,
        False,
        "企业负责人态度消极",
    )
    assert reply.from_status == reply.to_status == Status.ACCEPTED


def test_refer_and_follow_the_referral(client, cadre, accepted):
    client.force_login(cadre)
    act(
        client,
        accepted,
        Action.REFER,
        target=Referral.Target.ARBITRATION,
        target_detail="区劳动人事争议仲裁院",
        public_note="请携带劳动合同和工资条到区仲裁院立案",
        internal_note="",
    )
    accepted.refresh_from_db()
    assert accepted.status == Status.IN_PROGRESS
    referral = accepted.referrals.get()
    assert referral.target_detail == "区劳动人事争议仲裁院"
    event = last_event(accepted)
    assert (event.action, event.from_status, event.to_status) == (
        Action.REFER,
        Status.ACCEPTED,
        Status.IN_PROGRESS,
    )
    # The follow-up is kept in the inline and recorded on the timeline.
    page = client.get(change_url(accepted))
    assert "区劳动人事争议仲裁院" in page.content.decode()
    response = client.post(
        change_url(accepted),
        {
            "handler": cadre.pk,
            "referrals-TOTAL_FORMS": "1",
            "referrals-INITIAL_FORMS": "1",
            "referrals-MIN_NUM_FORMS": "0",
            "referrals-MAX_NUM_FORMS": "1000",
            "referrals-0-id": referral.pk,
            "referrals-0-need": accepted.pk,
            "referrals-0-state": Referral.State.DONE,
            "referrals-0-follow_up": "仲裁已立案，下月开庭",
            "events-TOTAL_FORMS": str(accepted.events.count()),
            "events-INITIAL_FORMS": str(accepted.events.count()),
            "events-MIN_NUM_FORMS": "0",
            "events-MAX_NUM_FORMS": "1000",
            "_continue": "1",
        },
    )
    assert response.status_code == 302
    referral.refresh_from_db()
    assert referral.state == Referral.State.DONE
    assert referral.follow_up == "仲裁已立案，下月开庭"
    assert "仲裁已立案，下月开庭" in last_event(accepted).internal_note


def test_resolve(client, cadre, in_progress, worker):
    client.force_login(cadre)
    act(client, in_progress, Action.RESOLVE, resolution="企业已补发全部工资", internal_note="")
    in_progress.refresh_from_db()
    assert in_progress.status == Status.RESOLVED
    assert in_progress.resolution == "企业已补发全部工资"
    event = last_event(in_progress)
    assert (event.from_status, event.to_status) == (Status.IN_PROGRESS, Status.RESOLVED)


def test_merge_into_a_need_of_the_jurisdiction(client, cadre, make_need, worker, other_worker):
    from apps.members.services import member_change_unit

    member_change_unit(member=other_worker, unit=worker.unit, by=cadre)
    surviving = make_need(worker, title="食堂涨价")
    duplicate = make_need(other_worker, title="食堂饭菜太贵")
    client.force_login(cadre)
    page = client.get(change_url(duplicate))
    assert surviving.number in page.content.decode()  # offered as a candidate
    response = act(client, duplicate, Action.MERGE, into=surviving.number.lower())
    assert f"已合并到 {surviving.number}" in messages_of(response)[0]
    duplicate.refresh_from_db()
    assert duplicate.status == Status.MERGED and duplicate.merged_into == surviving
    event = last_event(duplicate)
    assert (event.from_status, event.to_status) == (Status.SUBMITTED, Status.MERGED)
    assert Support.objects.filter(need=surviving, member=other_worker).exists()


def test_surviving_need_lists_only_duplicates_the_cadre_may_open(
    client, cadre, street_cadre, need, bobs_need
):
    """A street cadre merges ws_a2's need into ws_a1's; ws_a1's cadre learns no more."""
    services.need_merge(need=bobs_need, into=need, by=street_cadre)
    client.force_login(cadre)
    body = client.get(change_url(need)).content.decode()
    assert "另有 1 件其他工作站的诉求合并进来" in body
    assert "纺织车间高温" not in body and "王强" not in body
    assert change_url(bobs_need) not in body
    client.force_login(street_cadre)
    body = client.get(change_url(need)).content.decode()
    assert change_url(bobs_need) in body and "纺织车间高温" in body


def test_merge_target_outside_the_jurisdiction_is_not_found(client, cadre, need, bobs_need):
    client.force_login(cadre)
    response = act(client, need, Action.MERGE, into=bobs_need.number)
    assert "未找到编号为" in messages_of(response)[0]
    need.refresh_from_db()
    assert need.status == Status.SUBMITTED and need.merged_into is None


def test_publish_and_unpublish(client, cadre, need):
    client.force_login(cadre)
    page = client.get(change_url(need)).content.decode()
    assert "不得写入姓名、电话、单位、身份证号等个人信息" in page
    act(client, need, Action.PUBLISH, public_title="食堂饭菜价格偏高", public_summary="")
    need.refresh_from_db()
    assert need.is_public and need.public_title == "食堂饭菜价格偏高"
    assert last_event(need).action == Action.PUBLISH
    assert panel(client.get(change_url(need)))[-1] == Action.UNPUBLISH
    act(client, need, Action.UNPUBLISH)
    need.refresh_from_db()
    assert not need.is_public
    assert last_event(need).action == Action.UNPUBLISH


# --- refusals change nothing ----------------------------------------------------------


def assert_unchanged(need, status, events):
    need.refresh_from_db()
    assert need.status == status
    assert need.events.count() == events


def test_resolving_a_submitted_need_is_refused(client, cadre, need):
    client.force_login(cadre)
    response = act(client, need, Action.RESOLVE, resolution="已解决")
    assert messages_of(response) == ["当前状态为“待受理”，不能执行“办结”。"]
    assert_unchanged(need, Status.SUBMITTED, 1)


def test_accepting_twice_is_refused(client, cadre, accepted):
    client.force_login(cadre)
    response = act(client, accepted, Action.ACCEPT)
    assert "不能执行“受理”" in messages_of(response)[0]
    assert_unchanged(accepted, Status.ACCEPTED, 2)


def test_reject_requires_a_reason(client, cadre, need):
    client.force_login(cadre)
    response = act(client, need, Action.REJECT, reason="   ")
    assert "不予受理理由" in messages_of(response)[0]
    assert_unchanged(need, Status.SUBMITTED, 1)


@pytest.mark.parametrize(
    ("action", "data"),
    [
        (Action.REPLY, {"public_note": ""}),
        (Action.NOTE, {"internal_note": ""}),
        (Action.PUBLISH, {"public_title": ""}),
        (Action.MERGE, {"into": ""}),
        ("delete", {}),
    ],
)
def test_incomplete_or_unknown_actions_are_refused(client, cadre, need, action, data):
    client.force_login(cadre)
    response = act(client, need, action, **data)
    assert response.status_code == 302
    assert messages_of(response)
    assert_unchanged(need, Status.SUBMITTED, 1)
    assert not Need.objects.get(pk=need.pk).is_public


def test_merge_into_itself_is_refused(client, cadre, need):
    client.force_login(cadre)
    response = act(client, need, Action.MERGE, into=need.number)
    assert messages_of(response) == ["不能把诉求合并到它自己。"]
    assert_unchanged(need, Status.SUBMITTED, 1)


def test_stale_page_is_refused(client, cadre, street_cadre, need):
    """Two cadres open the same need; the second to act is told, and changes nothing."""
    client.force_login(cadre)
    services.need_accept(need=need, by=street_cadre)  # the other cadre was quicker
    response = act(client, need, Action.REJECT, expected_status=Status.SUBMITTED, reason="重复")
    assert "刚刚已被他人处理" in messages_of(response)[0]
    assert_unchanged(need, Status.ACCEPTED, 2)
    # Also for an action that keeps the status.
    response = act(client, need, Action.REPLY, expected_status=Status.SUBMITTED, public_note="x")
    assert "刚刚已被他人处理" in messages_of(response)[0]
    assert_unchanged(need, Status.ACCEPTED, 2)


def test_missing_expected_status_is_refused(client, cadre, need):
    client.force_login(cadre)
    response = client.post(change_url(need), {"_need_action": Action.ACCEPT})
    assert messages_of(response) == ["页面已过期，请刷新后再操作。"]
    assert_unchanged(need, Status.SUBMITTED, 1)


# --- the form save edits only the handler ---------------------------------------------


def save(client, need, **data):
    count = need.events.count()
    return client.post(
        change_url(need),
        {
            "events-TOTAL_FORMS": str(count),
            "events-INITIAL_FORMS": str(count),
            "events-MIN_NUM_FORMS": "0",
            "events-MAX_NUM_FORMS": "1000",
            **data,
        },
    )


def test_saving_the_form_changes_only_the_handler(client, cadre, street_cadre, need):
    client.force_login(cadre)
    response = save(
        client,
        need,
        handler=street_cadre.pk,
        status=Status.CLOSED,
        title="改过的标题",
        confidential="on",
        resolution="伪造的结果",
    )
    assert response.status_code == 302
    need.refresh_from_db()
    assert need.handler == street_cadre
    assert (need.status, need.title, need.confidential, need.resolution) == (
        Status.SUBMITTED,
        "公司拖欠三个月工资",
        False,
        "",
    )
    assert last_event(need).internal_note == "承办人改为孙主席"


def test_handler_must_cover_the_workstation(client, cadre, other_cadre, need):
    client.force_login(cadre)
    response = save(client, need, handler=other_cadre.pk)
    assert response.status_code == 200  # the form is shown again with the error
    need.refresh_from_db()
    assert need.handler is None


# --- the audit trail ------------------------------------------------------------------


def test_events_cannot_be_edited_or_deleted(client, cadre, superuser, need):
    services.need_add_note(need=need, by=cadre, internal_note="原始备注")
    event = last_event(need)
    for user in (cadre, superuser):
        client.force_login(user)
        body = client.get(change_url(need)).content.decode()
        assert 'name="events-0-DELETE"' not in body
        assert 'name="events-1-internal_note"' not in body  # shown, not editable
        save(
            client,
            need,
            handler=cadre.pk,
            **{"events-1-id": event.pk, "events-1-internal_note": "改"},
        )
        event.refresh_from_db()
        assert event.internal_note == "原始备注"
        # Needs (and with them their trail) are never deleted through the admin.
        delete = reverse("admin:needs_need_delete", args=[need.pk])
        assert client.post(delete, {"post": "yes"}).status_code == 403
        assert NeedEvent.objects.filter(pk=event.pk).exists()
    with pytest.raises(NoReverseMatch):
        reverse("admin:needs_needevent_changelist")


# --- reply templates ------------------------------------------------------------------


@pytest.fixture
def templates(reference):
    return {
        "complaint": ReplyTemplate.objects.create(
            title="欠薪投诉已受理",
            kind=Need.Kind.COMPLAINT,
            action=Action.ACCEPT,
            body="您反映的欠薪问题已受理，我们将在三个工作日内联系企业核实。",
        ),
        "consultation": ReplyTemplate.objects.create(
            title="咨询已受理",
            kind=Need.Kind.CONSULTATION,
            action=Action.ACCEPT,
            body="咨询模板",
        ),
        "inactive": ReplyTemplate.objects.create(
            title="停用的模板", action=Action.ACCEPT, body="停用", is_active=False
        ),
    }


def test_reply_templates_for_the_needs_kind_are_offered(client, cadre, need, templates):
    client.force_login(cadre)
    response = client.get(change_url(need))
    accept = response.context["action_forms"][0]
    offered = {t.title for t in accept.templates}
    assert "欠薪投诉已受理" in offered
    assert "咨询已受理" not in offered and "停用的模板" not in offered
    assert "您反映的欠薪问题已受理" in response.content.decode()  # data-body for the script


def test_template_prefills_the_text_without_javascript(client, cadre, need, templates):
    client.force_login(cadre)
    template = templates["complaint"]
    response = client.get(change_url(need), {"template": template.pk})
    accept = response.context["action_forms"][0]
    assert accept["public_note"].value() == template.body
    assert accept.open
    # A template of another kind is ignored.
    response = client.get(change_url(need), {"template": templates["consultation"].pk})
    assert not response.context["action_forms"][0]["public_note"].value()
