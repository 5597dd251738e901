"""Cadres in the admin: find a need, group it with similar ones into a project, approve it,
post progress — and the public sees it.

The workstation's cadre finds the need and proposes the project; approval (立项) is for
the level above, so the street's cadre approves it in a browser of their own; the
workstation's cadre then starts it and posts progress with a photo.
"""

import pytest
from PIL import Image, ImageDraw

from apps.members import services as member_services
from apps.needs.models import Need, ServiceArea
from apps.projects.models import ServiceProject

from .journey import log_in

pytestmark = pytest.mark.browser

PASSWORD = "Sturdy-pass-2026"
# The admin's markup is Django's: axe-core holds only the project's own panels to the rule.
NEED_PANELS = [".need-similar", ".need-actions", ".need-confidential"]
PROJECT_PANELS = [".project-actions", ".project-panel", ".project-notice"]


@pytest.fixture
def wage_needs(make_need, worker, unit_a1):
    """Three workers of one employer raise the same wage arrears; one also asks for training."""
    workers = [worker] + [
        member_services.member_register(
            username=f"worker{i}",
            name=name,
            mobile=f"1380000010{i}",
            password=PASSWORD,
            unit=unit_a1,
        )
        for i, name in enumerate(["孙伟", "周敏"], start=1)
    ]
    needs = [
        make_need(
            workers[0],
            title="公司拖欠三个月工资",
            description="车间二十多名职工的工资从八月起一直没有发放。",
        ),
        make_need(
            workers[1],
            title="工资拖欠三个月没发",
            description="八月以来车间的工资都没有发放，家里等着用钱。",
        ),
        make_need(
            workers[2], title="拖欠工资问题", description="公司从八月开始拖欠职工工资，已经三个月。"
        ),
        make_need(
            workers[1],
            title="希望开办电工技能培训",
            description="想考电工证，希望工会组织培训。",
            area=ServiceArea.objects.get(code="skills"),
        ),
    ]
    return needs


@pytest.fixture
def progress_photo(tmp_path):
    """A small real PNG: a notice board with a red banner."""
    path = tmp_path / "讲座现场.png"
    image = Image.new("RGB", (400, 300), (240, 235, 220))
    ImageDraw.Draw(image).rectangle((40, 60, 360, 90), fill=(179, 18, 31))
    image.save(path, "PNG")
    return path


def test_cadre_groups_similar_needs_into_a_project_that_is_approved_and_reported_on(
    start_journey, wage_needs, cadre, street_cadre, progress_photo
):
    first, second, third, training = wage_needs
    journey = start_journey("cadre")
    page = journey.page

    log_in(journey, cadre.username, PASSWORD, admin=True)
    journey.arrive("/admin/")
    journey.stop("admin-index", scope=[])

    # Find the need from the list.
    page.get_by_role("link", name="诉求", exact=True).click()
    journey.arrive("/admin/needs/need/")
    page.locator("#searchbar").fill("拖欠三个月工资")
    page.locator("#changelist-search input[type=submit]").click()
    page.get_by_role("link", name=first.number).wait_for()
    journey.stop("needs-changelist", scope=[])
    page.get_by_role("link", name=first.number).click()
    journey.arrive(rf"/admin/needs/need/{first.pk}/change/")

    # The similar-needs panel lists the two other wage claims, not the training request.
    panel = page.locator(".need-similar")
    for other in (second, third):
        assert panel.get_by_role("link", name=other.number).is_visible()
    assert panel.get_by_role("link", name=training.number).count() == 0
    journey.stop("need-change", scope=NEED_PANELS)

    panel.get_by_role("checkbox", name=f"选择 {second.number}").check()
    panel.get_by_role("checkbox", name=f"选择 {third.number}").check()
    panel.get_by_role("button", name="与本诉求一起创建服务项目…").click()
    page.get_by_role("heading", name="项目计划").wait_for()
    journey.stop("create-project", scope=["#content-main"])

    page.get_by_label("项目名称").fill("欠薪协调专项行动")
    page.get_by_label("项目简介").fill("协调公司制定欠薪清偿计划，为职工提供劳动法律咨询。")
    page.get_by_role("radio", name="难事").check()
    page.get_by_label("计划完成").fill("2099-12-31")
    page.get_by_label("预算（元）").fill("5000")
    page.get_by_role("button", name="创建服务项目（立项申请）").click()
    project = ServiceProject.objects.get(title="欠薪协调专项行动")
    journey.arrive(rf"/admin/projects/serviceproject/{project.pk}/change/")
    assert set(project.needs.values_list("pk", flat=True)) == {first.pk, second.pk, third.pk}
    assert "已创建服务项目" in page.locator(".messagelist").inner_text()

    # The plan: a standard and one measurable indicator; approval is not the station's.
    page.get_by_label("项目标准").fill("三个月内协调公司清偿全部欠薪，每月向职工通报进展。")
    inline = page.locator(".inline-group")
    inline.locator("input[name$='-0-name']").fill("清偿欠薪职工")
    inline.locator("input[name$='-0-target']").fill("25")
    inline.locator("input[name$='-0-unit']").fill("人")
    inline.locator("input[name$='-0-weight']").fill("1")
    with page.expect_navigation():
        page.locator("input[name=_continue]").click()
    assert project.indicators.get().name == "清偿欠薪职工"
    approve = page.locator("#project-section-approve")
    approve.locator("summary").click()
    assert "立项须由街道（开发区）或县区工会干部批准" in approve.inner_text()
    journey.stop("project-proposed", scope=PROJECT_PANELS)

    # The street's cadre approves it.
    street = start_journey("cadre-street")
    log_in(street, street_cadre.username, PASSWORD, admin=True)
    street.arrive("/admin/")
    street.goto("/admin/projects/serviceproject/")
    street.page.get_by_role("link", name="欠薪协调专项行动").click()
    street.arrive(rf"/admin/projects/serviceproject/{project.pk}/change/")
    approve = street.page.locator("#project-section-approve")
    approve.get_by_label("审批意见（可不填）").fill("同意立项，请按月通报进展。")
    with street.page.expect_navigation():
        approve.get_by_role("button", name="批准立项").click()
    assert "已批准立项" in street.page.locator(".messagelist").inner_text()
    street.stop("project-approved", scope=PROJECT_PANELS)
    project.refresh_from_db()
    assert project.status == ServiceProject.Status.APPROVED

    # The workstation's cadre starts it and posts progress with a photo.
    page.reload()
    with page.expect_navigation():
        page.locator("#project-section-start").get_by_role("button", name="开始实施").click()
    assert "已开始实施" in page.locator(".messagelist").inner_text()
    progress = page.locator("#project-section-progress")
    if not progress.evaluate("el => el.open"):
        progress.locator("summary").click()
    progress.get_by_label("进展情况（公开）").fill(
        "已与公司签订清偿计划，首批 10 名职工的工资已发放。"
    )
    progress.get_by_label("完成进度（%）").fill("40")
    progress.get_by_label("照片（可不传）").set_input_files(progress_photo)
    with page.expect_navigation():
        progress.get_by_role("button", name="发布进展").click()
    assert "已发布项目" in page.locator(".messagelist").inner_text()
    update = project.updates.get()
    assert (update.percent, update.photos.count()) == (40, 1)
    journey.stop("project-progress", scope=PROJECT_PANELS)

    # The public showcase shows the project and its progress, with the photo.
    journey.goto(f"/projects/{project.pk}/")
    assert "首批 10 名职工的工资已发放" in page.locator("main").inner_text()
    photo = page.locator(".photo-list img").first
    photo.wait_for()
    assert photo.evaluate("img => img.complete && img.naturalWidth > 0")
    journey.stop("project-public")
    for need in (first, second, third):
        need.refresh_from_db()
        assert need.status == Need.Status.IN_PROGRESS
