"""The settlement view of the phone page in headless Chromium on a phone screen.

The fully liable party opens the settlement link from its SMS and signs in with the
texted code. The page shows the ruling and the assessed claim, then the mistakes in
the payee form, and after the confirmation the case settles through the simulated
insurer.
"""

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import BrowserContext, expect
from temporalio.client import Client

from common.settings import PlatformSettings
from demo.client import PlatformClient, sample_case, sample_ruling
from tests.support.browser import chromium_context
from tests.support.cases import case_outcome, claimed_case
from tests.support.insurers import PAPERLESS_INSURERS
from tests.support.phone import access_code, wait_for_sms
from tests.support.platform import PlatformProcesses

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

PHONE_B = sample_case()["parties"][1]["phone"]
ACCOUNT_NUMBER = "6222 0212 3456 7890 123"


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


async def test_party_confirms_settlement_on_phone(
    phone: BrowserContext,
    client: PlatformClient,
    platform: PlatformProcesses,
    settings: PlatformSettings,
    temporal: Client,
    video: Path,
) -> None:
    screenshots = platform.log_dir / "settlement-page"
    screenshots.mkdir(exist_ok=True)
    page = await phone.new_page()
    case_id = await claimed_case(client, video, PAPERLESS_INSURERS)
    ruled = await client.rule(case_id, sample_ruling())
    assert ruled.status_code == 200, ruled.text

    # B opens the settlement link from its SMS and signs in with the texted code.
    _, link_text = await wait_for_sms(
        settings.database_url, case_id, "settlement_link", PHONE_B
    )
    link = re.search(r"http://\S+", link_text)
    assert link is not None, link_text
    await page.goto(link.group(0))
    await page.get_by_role("button", name="获取验证码").tap()
    await expect(page.locator("#code-sent")).to_contain_text("139****4321")
    _, code_text = await wait_for_sms(
        settings.database_url, case_id, "party_access_code", PHONE_B
    )
    await page.locator("#code").fill(access_code(code_text))
    await page.get_by_role("button", name="确认", exact=True).tap()

    # The ruling and the claim.
    await expect(page.locator("#title")).to_have_text("理赔确认")
    await expect(page.locator("#ruling-shares")).to_contain_text(
        "B 方 李娜 浙B67890（您）：全部责任 100%"
    )
    await expect(page.locator("#ruling-shares")).to_contain_text("A 方 张伟")
    await expect(page.locator("#ruling-details")).to_contain_text("DZ")
    claim = page.locator("#claim-details")
    await expect(claim).to_contain_text("中国人寿财产保险")
    await expect(claim).to_contain_text(f"CLPC-{str(case_id)[:8].upper()}")
    await expect(claim).to_contain_text("¥2,000.00")
    await page.screenshot(path=screenshots / "1-claim.png", full_page=True)

    # Mistakes are shown next to their fields: the page's own checks first.
    await page.locator("#account-number").fill("6222 0212")
    await page.get_by_role("button", name="确认并提交").tap()
    await expect(page.locator("#error-consent")).to_contain_text("请勾选确认定损金额")
    await expect(page.locator("#error-account_holder")).to_have_text(
        "请填写开户人姓名。"
    )
    await expect(page.locator("#error-bank")).to_have_text("请填写开户银行。")
    await expect(page.locator("#error-account_number")).to_have_text(
        "银行卡号应为 12 至 19 位数字，您输入了 8 位，请核对。"
    )
    await page.screenshot(path=screenshots / "2-mistakes.png", full_page=True)

    # Then intake's: a name with an invisible character passes the page's checks.
    await page.get_by_label("我确认上述责任认定和核定金额").check()
    await page.locator("#account-holder").fill("李\u200b娜")
    await page.locator("#bank").fill("中国建设银行")
    await page.locator("#account-number").fill(ACCOUNT_NUMBER)
    await page.get_by_role("button", name="确认并提交").tap()
    await expect(page.locator("#error-account_holder")).to_have_text(
        "开户人姓名包含无效字符，请重新输入。"
    )
    await expect(page.locator("#error-consent")).to_be_hidden()
    await expect(page.locator("#error-account_number")).to_be_hidden()

    # A valid form is confirmed, and a reload shows the confirmation given.
    await page.locator("#account-holder").fill("李娜")
    await page.get_by_role("button", name="确认并提交").tap()
    await expect(page.locator("#settled-title")).to_have_text("✓ 已确认理赔")
    await expect(page.locator("#settled-text")).to_contain_text(
        "¥2,000.00 支付至 中国建设银行 ****0123"
    )
    await page.screenshot(path=screenshots / "3-confirmed.png", full_page=True)
    await page.reload()
    await expect(page.locator("#step-settled")).to_be_visible()
    await expect(page.locator("#settled-details")).to_contain_text("****0123")

    # The simulated insurer settles once the confirmation reaches it.
    outcome = await case_outcome(temporal, case_id)
    await page.reload()
    await expect(page.locator("#settled-title")).to_have_text("✓ 理赔已赔付")
    await page.screenshot(path=screenshots / "4-settled.png", full_page=True)
    page_text = await page.locator("main").inner_text()

    assert outcome.outcome == "settled"
    steps = [(entry.step, entry.detail) for entry in outcome.timeline]
    assert (
        "settlement confirmed",
        f"CLPC CLPC-{str(case_id)[:8].upper()} by party B, payee 中国建设银行 ****0123",
    ) in steps
    assert ("claim settled", "CLPC 2000.00 CNY") in steps
    assert ACCOUNT_NUMBER.replace(" ", "") not in page_text
    assert (screenshots / "4-settled.png").stat().st_size > 0
