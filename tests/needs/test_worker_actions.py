"""The worker's actions on a need: rate it, withdraw it. POST only, owner only."""

import pytest
from django.urls import reverse

from apps.needs import services
from apps.needs.models import Rating
from apps.needs.workflow import Status
from apps.notifications.models import Notification


def url(name, need):
    return reverse(f"needs:{name}", args=[need.pk])


@pytest.fixture
def resolved(need, cadre):
    services.need_accept(need=need, by=cadre)
    services.need_resolve(need=need, by=cadre, resolution="企业已补发全部工资。")
    need.refresh_from_db()
    return need


def rate(client, need, outcome="yes", score=5, comment=""):
    return client.post(
        url("need-rate", need),
        {"rate-outcome": outcome, "rate-score": score, "rate-comment": comment},
        follow=True,
    )


# --- rating -------------------------------------------------------------------------------


def test_satisfied_rating_closes_the_need(client, resolved, worker):
    client.force_login(worker.user)
    response = rate(client, resolved, "yes", 5, "感谢工会！")
    resolved.refresh_from_db()
    assert resolved.status == Status.CLOSED
    assert resolved.closed_at is not None
    rating = Rating.objects.get(need=resolved)
    assert (rating.outcome, rating.score, rating.comment) == ("yes", 5, "感谢工会！")
    body = response.content.decode()
    assert "感谢您的评价，诉求已完结。" in body
    assert "感谢工会！" in body


@pytest.mark.parametrize(("outcome", "score"), [("no", 5), ("yes", 2), ("partly", 1)])
def test_dissatisfied_rating_reopens_and_tells_the_cadres(
    client, resolved, worker, cadre, outcome, score
):
    client.force_login(worker.user)
    response = rate(client, resolved, outcome, score, "工资只补了一半")
    resolved.refresh_from_db()
    assert resolved.status == Status.IN_PROGRESS
    assert resolved.resolved_at is None
    note = Notification.objects.get(user=cadre, title__startswith="职工对办理结果不满意")
    assert "工资只补了一半" in note.body
    assert "重新交给工作站办理" in response.content.decode()


def test_rating_twice_is_refused_and_changes_nothing(client, resolved, worker):
    client.force_login(worker.user)
    rate(client, resolved, "yes", 5)
    response = rate(client, resolved, "no", 1)
    assert "不能执行" in response.content.decode()
    resolved.refresh_from_db()
    assert resolved.status == Status.CLOSED
    assert Rating.objects.filter(need=resolved).count() == 1


def test_rating_before_resolution_is_refused(client, need, worker):
    client.force_login(worker.user)
    response = rate(client, need)
    assert "不能执行" in response.content.decode()
    need.refresh_from_db()
    assert need.status == Status.SUBMITTED
    assert not Rating.objects.exists()


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"rate-outcome": "yes"},
        {"rate-outcome": "maybe", "rate-score": 5},
        {"rate-outcome": "yes", "rate-score": 6},
        {"rate-outcome": "yes", "rate-score": 0},
        {"rate-outcome": "yes", "rate-score": "five"},
        {"rate-outcome": "yes", "rate-score": 5, "rate-comment": "长" * 1001},
    ],
)
def test_bad_ratings_show_the_form_again_and_change_nothing(client, resolved, worker, data):
    client.force_login(worker.user)
    response = client.post(url("need-rate", resolved), data)
    assert response.status_code == 200
    assert "提交未成功" in response.content.decode()
    resolved.refresh_from_db()
    assert resolved.status == Status.RESOLVED
    assert not Rating.objects.exists()


def test_markup_in_the_comment_is_escaped(client, resolved, worker):
    client.force_login(worker.user)
    body = rate(client, resolved, "yes", 4, "<script>alert(1)</script>").content.decode()
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


# --- withdrawing --------------------------------------------------------------------------


def test_withdraw_with_a_reason(client, need, worker, cadre):
    client.force_login(worker.user)
    response = client.post(
        url("need-withdraw", need), {"withdraw-reason": "问题已自行解决"}, follow=True
    )
    need.refresh_from_db()
    assert need.status == Status.WITHDRAWN
    assert "诉求已撤回" in response.content.decode()
    assert "问题已自行解决" in response.content.decode()  # on the timeline
    assert Notification.objects.filter(user=cadre, title__startswith="职工撤回了诉求").exists()


def test_withdraw_without_a_reason(client, need, worker):
    client.force_login(worker.user)
    client.post(url("need-withdraw", need))
    need.refresh_from_db()
    assert need.status == Status.WITHDRAWN


def test_withdrawing_a_closed_need_is_refused(client, resolved, worker):
    client.force_login(worker.user)
    rate(client, resolved, "yes", 5)
    response = client.post(url("need-withdraw", resolved), follow=True)
    assert "不能执行" in response.content.decode()
    resolved.refresh_from_db()
    assert resolved.status == Status.CLOSED


def test_withdrawing_a_resolved_need_is_refused(client, resolved, worker):
    client.force_login(worker.user)
    client.post(url("need-withdraw", resolved))
    resolved.refresh_from_db()
    assert resolved.status == Status.RESOLVED


def test_too_long_a_reason_is_refused(client, need, worker):
    client.force_login(worker.user)
    response = client.post(url("need-withdraw", need), {"withdraw-reason": "长" * 501})
    assert response.status_code == 200
    assert "提交未成功" in response.content.decode()
    need.refresh_from_db()
    assert need.status == Status.SUBMITTED


# --- who may act, and how -----------------------------------------------------------------


@pytest.mark.parametrize("action", ["need-rate", "need-withdraw", "need-support"])
def test_get_on_actions_is_405(client, need, worker, action):
    client.force_login(worker.user)
    assert client.get(url(action, need)).status_code == 405


@pytest.mark.parametrize("action", ["need-rate", "need-withdraw"])
def test_another_workers_need_is_404(client, resolved, other_worker, action):
    client.force_login(other_worker.user)
    response = client.post(url(action, resolved), {"rate-outcome": "yes", "rate-score": 5})
    assert response.status_code == 404
    resolved.refresh_from_db()
    assert resolved.status == Status.RESOLVED


@pytest.mark.parametrize("action", ["need-rate", "need-withdraw"])
def test_a_cadre_may_look_but_not_act_for_the_worker(client, resolved, cadre, action):
    client.force_login(cadre)
    response = client.post(url(action, resolved), {"rate-outcome": "yes", "rate-score": 5})
    assert response.status_code == 403
    resolved.refresh_from_db()
    assert resolved.status == Status.RESOLVED


def test_anonymous_actions_change_nothing(client, resolved):
    response = client.post(url("need-rate", resolved), {"rate-outcome": "yes", "rate-score": 5})
    assert response.status_code == 302
    resolved.refresh_from_db()
    assert resolved.status == Status.RESOLVED
