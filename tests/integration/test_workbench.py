"""The officers' workbench in headless Chromium, against the running services.

An officer signs in, finds the case in the queue with its waiting time, claims it,
plays and seeks the video, sees the parties and the place, has a wrong ruling
rejected next to the fields at fault, and rules. The page then shows the signed
ruling document with its verification, and the case settles.
"""

import base64
import hashlib
import io
import json
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import BrowserContext, Page, expect
from pypdf import PdfReader
from temporalio.client import Client

from common.settings import PlatformSettings
from common.storage import EvidenceStore
from demo.client import PlatformClient
from documents.archive import DocumentArchive
from documents.keys import load_public_key, public_key_path, signature_is_valid
from tests.support.browser import chromium_context
from tests.support.cases import case_outcome, queued_case
from tests.support.oidc_issuer import LocalOidcIssuer
from tests.support.platform import PlatformProcesses, free_port

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

SEEK_TO_SECONDS = 6.0
# The workflow issues the document after the ruling, which took several seconds on
# a loaded machine, so the page gets this long to show it.
DOCUMENT_WAIT_MS = 90_000
# Reads the blob URL the page links to, in the page, as base64.
READ_LINKED_FILE = """async (url) => {
    const bytes = new Uint8Array(await (await fetch(url)).arrayBuffer());
    let binary = "";
    for (const value of bytes) binary += String.fromCharCode(value);
    return btoa(binary);
}"""


@pytest.fixture
async def browser(tmp_path: Path) -> AsyncIterator[BrowserContext]:
    """A desktop-sized Chromium with a fresh profile in the test's tmp dir."""
    async with chromium_context(
        tmp_path / "profile", viewport={"width": 1280, "height": 900}
    ) as context:
        yield context


async def _linked_pdf(page: Page) -> bytes:
    """Return the file behind the page's "open the PDF" link."""
    href = await page.locator("#document-link").get_attribute("href")
    assert href is not None
    assert href.startswith("blob:")
    encoded = await page.evaluate(READ_LINKED_FILE, href)
    return base64.b64decode(encoded)


async def test_officer_rules_through_workbench(
    browser: BrowserContext,
    client: PlatformClient,
    temporal: Client,
    platform: PlatformProcesses,
    settings: PlatformSettings,
    video: Path,
) -> None:
    case_id = await queued_case(client, video)
    page = await browser.new_page()
    await page.goto(f"{platform.urls.liability}/workbench/")

    # Sign in and claim the case from the queue.
    await page.get_by_label("用户名").fill("officer")
    await page.get_by_label("密码").fill("officer-local")
    await page.get_by_role("button", name="登录").click()
    row = page.locator(f'tr[data-case-id="{case_id}"]')
    await expect(row).to_contain_text("浙A12345")
    await expect(row).to_contain_text("秒")
    await row.get_by_role("button", name="领取").click()
    await expect(page.locator("#case-panel")).to_be_visible()
    await expect(page.locator("#lease-info")).to_contain_text("已由您领取")

    # The video plays and seeks: the browser fetches the part it needs by range.
    await page.wait_for_function("document.querySelector('#video').readyState >= 1")
    duration = await page.evaluate("document.querySelector('#video').duration")
    position = await page.evaluate(
        """(target) => new Promise((resolve) => {
            const video = document.querySelector('#video');
            video.addEventListener('seeked', () => resolve(video.currentTime),
                                   { once: true });
            video.currentTime = target;
        })""",
        SEEK_TO_SECONDS,
    )
    fallback_hidden = await page.locator("#video-fallback").is_hidden()

    # The parties and the place are on the page.
    await expect(page.locator("#parties tbody tr")).to_have_count(2)
    await expect(page.locator("#parties")).to_contain_text("浙B67890")
    await expect(page.locator("#address")).to_contain_text("文三路")

    # A wrong ruling is rejected next to the fields at fault.
    form = page.locator("#ruling-form")
    await form.locator('select[name="category-A"]').select_option("none")
    await form.locator('input[name="share-A"]').fill("10")
    await form.locator('select[name="category-B"]').select_option("full")
    await page.get_by_role("button", name="提交认定").click()
    liabilities_error = form.locator('.error[data-field="liabilities"]')
    await expect(liabilities_error).to_contain_text("A 方为无责任，比例应为 0")
    await expect(form.locator('.error[data-field="facts"]')).to_contain_text(
        "请填写事故事实"
    )
    await expect(form.locator('input[name="share-A"]')).to_have_class("invalid")
    await page.screenshot(path=platform.log_dir / "workbench-rejected.png")

    # The corrected ruling, with the accident type the officer picks, is accepted.
    await form.locator('select[name="category-A"]').select_option("none")
    await form.get_by_label("事故类型").select_option("rear_end")
    await expect(page.locator("#suggestion")).to_contain_text("后车：全部责任 100%")
    await expect(page.locator("#suggestion")).to_contain_text("前车：无责任 0%")
    await form.get_by_label("事故事实").fill("B 车未与前车保持安全距离，追尾 A 车。")
    await form.get_by_label("适用条款").fill("《道路交通安全法》第四十三条")
    await page.get_by_role("button", name="提交认定").click()
    await expect(page.locator("#ruled-text")).to_contain_text("认定已提交")

    # The signed document follows: its number, the public verification, the PDF.
    number = page.locator("#document-number")
    await expect(number).to_have_text(
        re.compile(r"^DZ\d{8}-[0-9A-F]{8}$"), timeout=DOCUMENT_WAIT_MS
    )
    verification = page.locator("#document-verification")
    await expect(verification).to_have_attribute("data-reason", "genuine")
    await expect(verification).to_contain_text("文件真实")
    await expect(page.locator("#document-frame")).to_have_attribute(
        "src", re.compile(r"^blob:")
    )
    await page.screenshot(path=platform.log_dir / "workbench-ruled.png", full_page=True)
    document_number = await number.inner_text()
    pdf = await _linked_pdf(page)
    records = await DocumentArchive(EvidenceStore(settings)).records(document_number)
    public_key = load_public_key(public_key_path(settings.document_key_file))
    outcome = await case_outcome(temporal, case_id)

    assert duration == pytest.approx(8.0, abs=0.5)
    assert position == pytest.approx(SEEK_TO_SECONDS, abs=0.5)
    assert fallback_hidden
    assert outcome.outcome == "settled"
    ruled = next(e for e in outcome.timeline if e.step == "ruling accepted")
    assert ruled.detail == "officer 330102"
    issued = next(e for e in outcome.timeline if e.step == "ruling document issued")
    assert issued.detail.split()[0] == document_number
    # The linked file is a real PDF of the ruling, and its signature verifies.
    assert pdf.startswith(b"%PDF-")
    text = "".join(sheet.extract_text() for sheet in PdfReader(io.BytesIO(pdf)).pages)
    assert "道路交通事故认定书" in text
    assert document_number in text
    digest = hashlib.sha256(pdf).hexdigest()
    signed = [record for record in records if record.sha256 == digest]
    assert len(signed) == 1
    assert signature_is_valid(public_key, digest, signed[0].signature)


async def test_workbench_rejects_wrong_password(
    browser: BrowserContext, platform: PlatformProcesses
) -> None:
    page = await browser.new_page()
    await page.goto(f"{platform.urls.liability}/workbench/")

    await page.get_by_label("用户名").fill("officer")
    await page.get_by_label("密码").fill("wrong")
    await page.get_by_role("button", name="登录").click()

    await expect(page.locator("#sign-in-error")).to_have_text("用户名或密码错误。")
    await expect(page.locator("#queue-panel")).to_be_hidden()


async def test_supervisor_reassigns_through_workbench(
    browser: BrowserContext,
    client: PlatformClient,
    other_officer: PlatformClient,
    platform: PlatformProcesses,
    video: Path,
) -> None:
    case_id = await queued_case(client, video)
    (await client.claim(case_id)).raise_for_status()
    page = await browser.new_page()
    await page.goto(f"{platform.urls.liability}/workbench/")

    await page.get_by_label("用户名").fill("supervisor")
    await page.get_by_label("密码").fill("supervisor-local")
    await page.get_by_role("button", name="登录").click()
    row = page.locator(f'tr[data-case-id="{case_id}"]')
    await expect(row).to_contain_text("330102")
    await row.locator(f'input[name="reassign-{case_id}"]').fill("330199")
    await row.get_by_role("button", name="改派").click()
    await expect(row).to_contain_text("330199")
    await expect(page.locator("#overdue-panel")).to_be_visible()
    officer_queue = {item["case_id"]: item for item in await other_officer.queue()}

    assert officer_queue[str(case_id)]["claimed_by_me"] is True
    assert await row.get_by_role("button", name="领取").count() == 0


@pytest.fixture
def oidc_liability(
    platform: PlatformProcesses,
) -> Iterator[tuple[str, LocalOidcIssuer]]:
    """A second liability service that trusts a local OpenID Connect issuer.

    Its own topic prefix keeps it out of the main service's consumer groups.
    """
    issuer = LocalOidcIssuer().start()
    port = free_port()
    prefix = platform.env["DINGZE_KAFKA_TOPIC_PREFIX"]
    env = {
        **platform.env,
        "DINGZE_IDENTITY_PROVIDER": "oidc",
        "DINGZE_OIDC_ISSUER": issuer.url,
        "DINGZE_OIDC_AUDIENCE": "dingze-liability",
        "DINGZE_OIDC_CLIENT_ID": "dingze-workbench",
        "DINGZE_LIABILITY_PORT": str(port),
        "DINGZE_KAFKA_TOPIC_PREFIX": f"{prefix}oidc.",
    }
    service = PlatformProcesses(
        log_dir=platform.log_dir / "oidc", env=env, urls=platform.urls
    )
    service.log_dir.mkdir(parents=True, exist_ok=True)
    try:
        service.start("liability", "services.liability")
        service.wait_healthy("liability")
        yield f"http://127.0.0.1:{port}", issuer
    finally:
        service.stop_all()
        issuer.stop()


async def test_workbench_signs_in_at_provider(
    browser: BrowserContext, oidc_liability: tuple[str, LocalOidcIssuer]
) -> None:
    base, issuer = oidc_liability
    page = await browser.new_page()
    await page.goto(f"{base}/workbench/")

    await expect(page.get_by_label("密码")).to_be_hidden()
    await page.get_by_role("button", name="统一身份认证登录").click()
    await expect(page.locator("#who-name")).to_have_text("王磊（警号 330102）")
    await expect(page.locator("#queue-panel")).to_be_visible()
    async with httpx.AsyncClient() as http:
        local_sign_in = await http.post(
            f"{base}/auth/sign-in",
            json={"username": "officer", "password": "officer-local"},
        )

    assert page.url == f"{base}/workbench/"
    assert "/realms/dingze/protocol/openid-connect/token" in issuer.requests
    assert local_sign_in.status_code == 404
    assert local_sign_in.json()["detail"]["code"] == "sign_in_at_provider"


async def test_workbench_sign_out_revokes_token(
    browser: BrowserContext, platform: PlatformProcesses
) -> None:
    page = await browser.new_page()
    await page.goto(f"{platform.urls.liability}/workbench/")
    await page.get_by_label("用户名").fill("officer2")
    await page.get_by_label("密码").fill("officer2-local")
    await page.get_by_role("button", name="登录").click()
    await expect(page.locator("#queue-panel")).to_be_visible()
    saved = await page.evaluate("sessionStorage.getItem('workbench')")
    token = json.loads(saved)["token"]

    await page.get_by_role("button", name="退出登录").click()
    await expect(page.locator("#sign-in-error")).to_have_text("已退出登录。")
    async with httpx.AsyncClient(timeout=60) as http:
        me = await http.get(
            f"{platform.urls.liability}/auth/me",
            headers={"authorization": f"Bearer {token}"},
        )

    assert me.status_code == 401
    assert "signed out" in me.json()["detail"]["message"]
    assert await page.evaluate("sessionStorage.getItem('workbench')") is None
    await expect(page.locator("#queue-panel")).to_be_hidden()
