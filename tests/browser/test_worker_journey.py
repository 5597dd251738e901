"""A worker on a phone: register, apply to join, raise a need with a photo, rate the result.

The cadre's side in between (accept, reply, resolve) goes through the services: the cadre
journey drives the admin in the browser already.
"""

import pytest
from PIL import Image, ImageDraw

from apps.members.models import MembershipApplication
from apps.needs import services as need_services
from apps.needs.models import Need, Rating

from .forms import assert_error_summary

pytestmark = pytest.mark.browser

PASSWORD = "Sturdy-pass-2026"


@pytest.fixture
def photo(tmp_path):
    """A small real JPEG, as a phone's camera would send."""
    path = tmp_path / "车间温度计.jpg"
    image = Image.new("RGB", (320, 240), (200, 60, 40))
    draw = ImageDraw.Draw(image)
    for x in range(0, 320, 20):
        draw.line((x, 0, x, 240), fill=(250, 250, 250), width=2)
    image.save(path, "JPEG", quality=85)
    return path


def test_worker_registers_raises_a_need_with_a_photo_and_rates_the_result(
    start_journey, reference, unit_a1, cadre, photo
):
    journey = start_journey("worker", phone=True)
    page = journey.page

    journey.goto("/")
    journey.stop("home")

    # Register: first with nothing filled in, to see how errors are announced.
    page.get_by_role("link", name="注册").first.click()
    journey.stop("register")
    page.get_by_role("button", name="注册").click()
    assert_error_summary(page, ["真实姓名", "手机号码", "用户名", "工作单位", "密码"])
    journey.stop("register-errors")

    page.get_by_label("真实姓名").fill("刘小红")
    page.get_by_label("手机号码").fill("13912345678")
    page.get_by_label("用户名").fill("liuxh")
    # Typing part of the name brings the employer up as a suggestion from the server.
    page.get_by_label("工作单位").press_sequentially(unit_a1.name[:2])
    page.wait_for_function(
        "name => [...document.querySelectorAll('#unit-options option')]"
        ".some(option => option.value === name)",
        arg=unit_a1.name,
    )
    page.get_by_label("工作单位").fill(unit_a1.name)
    page.get_by_label("密码*", exact=True).fill(PASSWORD)
    page.get_by_label("确认密码").fill(PASSWORD)
    page.get_by_role("button", name="注册").click()
    journey.arrive("/accounts/profile/")
    assert "注册成功" in page.locator(".messages").inner_text()
    assert unit_a1.workstation.name in page.locator("main").inner_text()
    journey.stop("profile")

    # Apply for membership.
    page.get_by_label("申请说明（可不填）").fill("自愿加入工会，遵守工会章程，按期交纳会费。")
    page.get_by_role("button", name="提交入会申请").click()
    journey.arrive("/accounts/profile/")
    assert "入会申请已提交" in page.locator(".messages").inner_text()
    assert page.get_by_text("审核中").is_visible()
    assert MembershipApplication.objects.filter(member__user__username="liuxh").count() == 1
    journey.stop("profile-applied")

    # Raise a need in two steps, the first sent empty once.
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="提诉求").click()
    journey.stop("need-describe")
    page.get_by_role("button", name="下一步").click()
    assert_error_summary(page, ["诉求标题", "具体情况"])
    journey.stop("need-describe-errors")

    title = "车间空调坏了，高温作业没有降温措施"
    page.get_by_label("诉求标题").fill(title)
    page.get_by_label("具体情况").fill(
        "二号车间的空调七月初坏了，一直没修，车间温度超过 35 度。\n请工会督促公司落实防暑降温措施。"
    )
    page.get_by_role("button", name="下一步").click()
    page.get_by_text("第 2 步，共 2 步").wait_for()
    journey.stop("need-details")

    # Step 2 sent without its choices: the radio groups' errors link to their first option.
    page.get_by_role("button", name="提交诉求").click()
    assert_error_summary(page, ["诉求类型", "属于哪方面", "涉及哪类权益"])
    journey.stop("need-details-errors")

    page.get_by_role("radio", name="投诉").check()
    page.get_by_label("属于哪方面").select_option(label="维护合法权益")
    page.get_by_role("radio", name="劳动经济权益").check()
    page.get_by_role("radio", name="紧急").check()
    page.get_by_label("附件（可不传）").set_input_files(photo)
    page.get_by_role("button", name="提交诉求").click()
    journey.arrive(r"/needs/\d+/")
    need = Need.objects.get(title=title)
    assert need.number in page.locator(".messages").inner_text()
    thumbnail = page.get_by_role("img", name=f"附件图片：{photo.name}")
    thumbnail.wait_for()
    assert thumbnail.evaluate("img => img.complete && img.naturalWidth > 0")
    journey.stop("need-detail")

    page.get_by_role("link", name="我的诉求").first.click()
    row = page.locator(".need-row", has_text=title)
    assert row.is_visible()
    assert "待受理" in row.inner_text()
    journey.stop("need-list")

    # The workstation's cadre answers and resolves it.
    need_services.need_accept(need=need, by=cadre)
    need_services.need_publish(need=need, by=cadre, public_title="车间高温缺少降温措施")
    need_services.need_reply(
        need=need, by=cadre, public_note="已联系公司行政部，维修人员明天上午到场。"
    )
    need_services.need_resolve(
        need=Need.objects.get(pk=need.pk),
        by=cadre,
        resolution="空调已修复，公司在车间加装了两台工业风扇并发放防暑药品。",
    )

    # The worker is told, reads the reply and the result, and rates it.
    page.reload()
    page.locator(".inbox-link").click()
    journey.arrive("/messages/")
    assert "诉求已办结，请您评价" in page.locator("main").inner_text()
    journey.stop("inbox")

    page.get_by_role("navigation", name="主导航").get_by_role("link", name="我的诉求").click()
    page.locator(".need-row", has_text=title).get_by_role("link").click()
    main = page.locator("main")
    assert "已联系公司行政部，维修人员明天上午到场。" in main.inner_text()
    assert "空调已修复" in page.get_by_role("region", name="办理结果").inner_text()
    journey.stop("need-resolved")

    rate = page.get_by_role("region", name="诉求已办结，问题解决了吗？")
    rate.get_by_role("radio", name="已解决").check()
    rate.get_by_role("radio", name="5 分 非常满意").check()
    rate.get_by_label("您的意见（可不填）").fill("谢谢工会，车间凉快多了。")
    rate.get_by_role("button", name="提交评价").click()
    journey.arrive(f"/needs/{need.pk}/")
    need.refresh_from_db()
    assert need.status == Need.Status.CLOSED
    assert Rating.objects.get(need=need).score == 5
    assert "已完结" in page.locator(".need-header").inner_text()
    journey.stop("need-rated")

    # The public pages on the way: the shared needs (hers among them) and the workstations.
    nav = page.get_by_role("navigation", name="主导航")
    nav.get_by_role("link", name="大家的诉求").click()
    journey.arrive("/needs/public/")
    card = page.locator(".public-need", has_text="车间高温缺少降温措施")
    assert "这是您反映的问题" in card.inner_text()
    assert "刘小红" not in page.locator("main").inner_text()
    journey.stop("public-needs")

    nav.get_by_role("link", name="找工作站").click()
    journey.arrive("/workstations/")
    assert unit_a1.workstation.name in page.locator("main").inner_text()
    journey.stop("workstations")
