"""The phone page in headless Chromium on a phone screen, against the running services.

A party opens the SMS link, confirms the code, consents and uploads a real video in
parts. The connection drops halfway, the party reloads the page and picks the video
again, and only the parts that storage lacked are sent again.
"""

import hashlib
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.async_api import (
    BrowserContext,
    Page,
    Request,
    Route,
    expect,
)

from common.settings import PlatformSettings
from demo.client import PlatformClient, sample_case
from evidence.sample_video import write_walkaround_video
from tests.support.browser import chromium_context
from tests.support.phone import access_code, wait_for_sms

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

PHONE_A = sample_case()["parties"][0]["phone"]


@pytest.fixture(scope="module")
def large_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real 8 s video of about 12 MiB: three parts of the tests' 5 MiB."""
    return write_walkaround_video(
        tmp_path_factory.mktemp("phone") / "scene.mp4", seconds=8, grain=128
    )


@pytest.fixture
async def phone(tmp_path: Path) -> AsyncIterator[BrowserContext]:
    """A phone-sized Chromium with a fresh profile in the test's tmp dir."""
    async with chromium_context(
        tmp_path / "profile",
        viewport={"width": 390, "height": 844},
        device_scale_factor=3,
        is_mobile=True,
        has_touch=True,
    ) as context:
        yield context


def _part_number(request: Request) -> int | None:
    if request.method != "PUT":
        return None
    numbers = parse_qs(urlsplit(request.url).query).get("partNumber")
    return int(numbers[0]) if numbers else None


async def _request_code(
    page: Page, settings: PlatformSettings, client: PlatformClient
) -> tuple[str, str]:
    """Open the SMS link of a new case, request the code; return case id and code."""
    case_id = await client.open_case(sample_case())
    sent = await client.send_party_links(case_id)
    assert sent.status_code == 202, sent.text
    _, link_text = await wait_for_sms(
        settings.database_url, case_id, "case_link", PHONE_A
    )
    link = re.search(r"http://\S+", link_text)
    assert link is not None, link_text

    await page.goto(link.group(0))
    await page.get_by_role("button", name="获取验证码").click()
    await expect(page.locator("#code-sent")).to_contain_text("138****5678")
    _, code_text = await wait_for_sms(
        settings.database_url, case_id, "party_access_code", PHONE_A
    )
    return str(case_id), access_code(code_text)


async def _sign_in(
    page: Page, settings: PlatformSettings, client: PlatformClient
) -> str:
    case_id, code = await _request_code(page, settings, client)
    await page.locator("#code").fill(code)
    await page.get_by_role("button", name="确认").click()
    return case_id


async def _consent(page: Page) -> None:
    await expect(page.locator("#case-parties")).to_contain_text("浙A12345（您）")
    await page.get_by_label("我已阅读并同意以远程方式处理本次事故").check()
    await page.get_by_role("button", name="同意并继续").click()
    # The box hides once intake recorded the consent; an upload before that fails.
    await expect(page.locator("#consent-box")).to_be_hidden()


async def test_phone_page_resumes_video_after_reload(
    phone: BrowserContext,
    client: PlatformClient,
    settings: PlatformSettings,
    large_video: Path,
    tmp_path: Path,
) -> None:
    page = await phone.new_page()
    sent_parts: list[int] = []

    def record_part(request: Request) -> None:
        number = _part_number(request)
        if number is not None:
            sent_parts.append(number)

    # Only requests that got a response count: the cut one fails instead.
    page.on("requestfinished", record_part)

    # Sign in with the code from the SMS and consent.
    case_id = await _sign_in(page, settings, client)
    await _consent(page)

    # Upload, and drop the connection when the second part starts.
    async def cut_connection(route: Route) -> None:
        await phone.set_offline(True)
        await route.abort("internetdisconnected")

    await page.route(re.compile(r".*partNumber=2.*"), cut_connection)
    await page.locator("#video").set_input_files(large_video)
    await expect(page.locator("#notice")).to_contain_text("网络连接中断")
    await page.screenshot(path=tmp_path / "1-offline.png")

    # Reload once back online, and pick the same video again.
    await page.unroute(re.compile(r".*partNumber=2.*"))
    await phone.set_offline(False)
    sent_before_reload = list(sent_parts)
    await page.reload()
    await expect(page.locator("#resume-hint")).to_contain_text("请重新选择同一个视频")
    await page.screenshot(path=tmp_path / "2-resume.png")
    await page.locator("#video").set_input_files(large_video)
    await expect(page.locator("#files li.done")).to_contain_text(
        "已上传", timeout=60_000
    )
    await page.get_by_role("button", name="提交证据").click()
    await expect(page.locator("#step-done")).to_contain_text("您可以离开现场")
    await page.screenshot(path=tmp_path / "3-done.png", full_page=True)

    case = await client.intake_case(case_id)
    resent = sent_parts[len(sent_before_reload) :]
    assert sent_before_reload == [1]
    assert 1 not in resent
    assert sorted(set(resent)) == [2, 3]
    assert case.json()["status"] == "submitted"
    digest = hashlib.sha256(large_video.read_bytes()).hexdigest()
    assert case.json()["video"]["sha256"] == digest
    assert (tmp_path / "3-done.png").stat().st_size > 0


async def test_phone_page_shows_refusals_and_renews_links(
    phone: BrowserContext,
    client: PlatformClient,
    settings: PlatformSettings,
    video: Path,
    tmp_path: Path,
) -> None:
    page = await phone.new_page()

    # A wrong code is refused with the attempts left, the right one accepted.
    _, code = await _request_code(page, settings, client)
    await page.locator("#code").fill(f"{(int(code) + 1) % 1_000_000:06d}")
    await page.get_by_role("button", name="确认").click()
    await expect(page.locator("#error")).to_have_text("验证码不正确，还可以再试 4 次。")
    await page.locator("#code").fill(code)
    await page.get_by_role("button", name="确认").click()
    await _consent(page)

    # A file that only claims to be a video is refused with intake's message.
    fake = tmp_path / "scene.mp4"
    fake.write_bytes("不是视频".encode() * 1000)
    await page.locator("#video").set_input_files(fake)
    refusal = "文件内容与视频格式不符，已删除，请重新选择手机相机录制的视频。"
    await expect(page.locator("#files li.failed")).to_contain_text(refusal)
    await expect(page.locator("#error")).to_have_text(refusal)
    await page.screenshot(path=tmp_path / "refused.png")

    # Storage rejects the first part's link as expired; the page gets a fresh one.
    expired: list[str] = []

    async def expire_once(route: Route) -> None:
        if route.request.method != "PUT" or expired:
            await route.continue_()
            return
        expired.append(route.request.url)
        await route.fulfill(
            status=403,
            body="<Error><Code>AccessDenied</Code>"
            "<Message>Request has expired</Message></Error>",
            headers={"access-control-allow-origin": client.urls.intake},
        )

    await page.route(re.compile(r".*partNumber=1.*"), expire_once)
    await page.locator("#video").set_input_files(video)
    await expect(page.locator("#files li.done")).to_contain_text("已上传")

    assert len(expired) == 1


async def test_phone_page_sign_out_ends_session(
    phone: BrowserContext, client: PlatformClient, settings: PlatformSettings
) -> None:
    page = await phone.new_page()
    await _sign_in(page, settings, client)
    await expect(page.locator("#case-parties")).to_contain_text("浙A12345（您）")
    saved = await page.evaluate("localStorage.getItem('dingze.phone')")
    token = json.loads(saved)["session"]["token"]

    await page.get_by_role("button", name="退出登录").click()
    await expect(page.locator("#step-code")).to_be_visible()
    await expect(page.locator("#notice")).to_contain_text("已退出登录")
    await expect(page.get_by_role("button", name="退出登录")).to_be_hidden()
    reused = await client.http.get(
        f"{client.urls.intake}/party/case",
        headers={"authorization": f"Bearer {token}"},
    )

    assert reused.status_code == 401
    assert reused.json()["detail"]["code"] == "session_signed_out"
    saved_after = json.loads(
        await page.evaluate("localStorage.getItem('dingze.phone')")
    )
    assert saved_after["session"] is None
