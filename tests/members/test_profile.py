from django.urls import reverse

from apps.members.models import Member


def test_profile_shows_workstation_and_its_cadres(client, worker, cadre, other_cadre):
    cadre.assignments.update(office_phone="0571-88880001")
    client.force_login(worker.user)
    body = client.get(reverse("members:profile")).content.decode()
    assert "东湖第一网格工作站" in body
    assert "李站长" in body
    assert "0571-88880001" in body
    assert "赵网格员" not in body  # another workstation's cadre


def test_profile_masks_own_mobile(client, worker):
    client.force_login(worker.user)
    body = client.get(reverse("members:profile")).content.decode()
    assert "138****0001" in body
    assert worker.mobile not in body


def test_change_employer_keeps_history(client, worker, unit_b1):
    client.force_login(worker.user)
    response = client.post(reverse("members:change-employer"), {"unit_name": unit_b1.name})
    assert response.status_code == 302
    worker.refresh_from_db()
    assert worker.unit == unit_b1
    assert worker.workstation == unit_b1.workstation
    jobs = list(worker.employments.order_by("id").values_list("unit_name", "ended_on"))
    assert jobs[0][0] == "东湖机械有限公司" and jobs[0][1] is not None
    assert jobs[1] == (unit_b1.name, None)
    body = client.get(reverse("members:profile")).content.decode()
    assert "工作经历" in body


def test_change_employer_to_same_unit_is_refused(client, worker, unit_a1):
    client.force_login(worker.user)
    response = client.post(reverse("members:change-employer"), {"unit_name": unit_a1.name})
    assert response.status_code == 200
    assert "新单位与当前单位相同。" in response.content.decode()
    assert worker.employments.count() == 1


def test_apply_for_membership(client, worker):
    client.force_login(worker.user)
    assert client.get(reverse("members:apply")).status_code == 405
    response = client.post(reverse("members:apply"), {"statement": "自愿入会"})
    assert response.status_code == 302
    worker.refresh_from_db()
    assert worker.status == Member.Status.PENDING
    body = client.get(reverse("members:profile")).content.decode()
    assert "审核中" in body
    # A second application while one is pending is refused and saves nothing.
    client.post(reverse("members:apply"), {"statement": "再次申请"})
    assert worker.applications.count() == 1


def test_staff_without_a_worker_profile_land_on_their_own_pages(client, cadre, reviewer):
    """Logging in without ?next= must not end on a 404 for cadres and reviewers."""
    client.force_login(cadre)
    assert client.get("/accounts/profile/")["Location"] == "/admin/"
    client.force_login(reviewer)
    assert client.get("/accounts/profile/")["Location"] == "/reports/"


def test_account_with_neither_profile_nor_post_gets_404(client, django_user_model):
    user = django_user_model.objects.create_user(username="nobody", password="Sturdy-pass-2026")
    client.force_login(user)
    assert client.get("/accounts/profile/").status_code == 404
