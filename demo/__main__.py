"""Drive one real case from a scene upload to settled claims and print its timeline.

The fully liable party confirms the assessed claim from the settlement link in its
SMS, through the same intake calls the phone page makes.

Expects the stack and the services running (``make demo`` starts them).
"""

import asyncio
import os
import tempfile
from pathlib import Path
from uuid import UUID

import httpx

from common.settings import PlatformSettings
from common.temporal import connect_temporal, exit_now
from contracts.workflow import CaseOutcome, case_workflow_id
from demo.client import (
    LOCAL_AUXILIARY,
    LOCAL_OFFICER,
    LOCAL_OPERATOR,
    PlatformClient,
    ServiceUrls,
    bearer,
    sample_case,
    sample_ruling,
)
from demo.party import SAMPLE_PAYEE, PartyPhone, claim_to_confirm
from demo.sms import access_code, link_token, wait_for_sms
from demo.uploads import UploadClient
from evidence.sample_video import write_walkaround_video


def step(text: str) -> None:
    print(f"==> {text}", flush=True)


async def run_demo() -> CaseOutcome:
    settings = PlatformSettings()
    async with httpx.AsyncClient(timeout=60) as http:
        client = PlatformClient(ServiceUrls.from_environment(), http)
        with tempfile.TemporaryDirectory() as folder:
            step("recording a 12-second walk-around video (H.264, 640x360)")
            video = write_walkaround_video(Path(folder) / "scene.mp4", seconds=12)
            step(f"auxiliary officer: signing in as {LOCAL_AUXILIARY[0]}")
            auxiliary = await client.request_token(*LOCAL_AUXILIARY)
            client.intake_headers = bearer(auxiliary["access_token"])
            step("auxiliary officer: opening the case from the scene")
            case_id = await client.open_case(sample_case())
            print(f"    case {case_id}, badge {auxiliary['principal']['badge_number']}")
            step(
                "auxiliary officer: uploading the video in parts straight to storage "
                f"({video.stat().st_size // 1024} KiB)"
            )
            uploads = UploadClient(
                http, client.urls.intake, case_id, auxiliary["access_token"]
            )
            upload = await uploads.upload_file(video, "video", "video/mp4")
            upload.raise_for_status()
            print(f"    sha256 {upload.json()['sha256']}")
        (await client.submit(case_id)).raise_for_status()
        step("auxiliary officer: case submitted; the parties may leave the scene")

        step(f"officer: signing in as {LOCAL_OFFICER[0]}")
        signed_in = await client.sign_in(*LOCAL_OFFICER)
        print(f"    badge {signed_in['principal']['badge_number']}")
        step("officer: waiting for the case in the liability queue")
        case_file = await client.wait_until_queued(case_id)
        head = await http.get(case_file["video_url"], headers={"range": "bytes=0-15"})
        print(
            f"    video link answers {head.status_code}, "
            f"expires {case_file['video_url_expires_at']}"
        )
        step("officer: claiming the case")
        (await client.claim(case_id)).raise_for_status()
        step("officer: ruling B fully liable for the rear-end collision")
        (await client.rule(case_id, sample_ruling())).raise_for_status()

        step("insurers: opening and assessing the claims (simulated insurer systems)")
        await confirm_as_party_b(client, settings, case_id)

        step("insurer: settling the confirmed claim")
        temporal = await connect_temporal(settings)
        handle = temporal.get_workflow_handle(
            case_workflow_id(case_id), result_type=CaseOutcome
        )
        outcome = await asyncio.wait_for(handle.result(), timeout=120)
        assert isinstance(outcome, CaseOutcome)
        parties = len(sample_case()["parties"])
        step(f"operator: signing in as {LOCAL_OPERATOR[0]} to read the texts sent")
        operator = await client.request_token(*LOCAL_OPERATOR)
        client.notify_headers = bearer(operator["access_token"])
        messages = await client.messages_after(case_id, "claim_settled", parties)

    print_timeline(outcome, messages)
    ui_port = os.environ.get("DINGZE_TEMPORAL_UI_PORT", "18233")
    print(
        f"\nWorkflow history: http://127.0.0.1:{ui_port}/namespaces/"
        f"{settings.temporal_namespace}/workflows/{case_workflow_id(case_id)}"
    )
    print(
        f"Officers' workbench: {client.urls.liability}/workbench/ "
        f"(sign in as {LOCAL_OFFICER[0]} / {LOCAL_OFFICER[1]})"
    )
    print("The services keep running; make stack-down stops them and the stack.")
    return outcome


async def confirm_as_party_b(
    client: PlatformClient, settings: PlatformSettings, case_id: UUID
) -> None:
    """Confirm B's assessed claim as B's phone does: the settlement link from the
    SMS, a one-time code, then the settlement page's own API calls.
    """
    phone_b = sample_case()["parties"][1]["phone"]
    database = settings.database_url
    _, text = await wait_for_sms(database, case_id, "settlement_link", phone_b)
    step("party B: opening the settlement link from the SMS")
    link = link_token(text)
    phone = PartyPhone(client.http, client.urls.intake)
    (await phone.request_code(link)).raise_for_status()

    _, code_text = await wait_for_sms(database, case_id, "party_access_code", phone_b)
    step("party B: signing in with the one-time code from the SMS")
    session = await phone.sign_in(link, access_code(code_text))
    loaded = await phone.settlement(session)
    loaded.raise_for_status()
    view = loaded.json()
    claim = claim_to_confirm(view)
    shares = ", ".join(f"{s['party_id']} {s['share']}%" for s in view["shares"])
    print(f"    ruling {view['document_number']}: {shares}")
    print(
        f"    claim {claim['claim_number']} of {claim['insurer_name']}, assessed "
        f"{claim['assessed_cents'] / 100:.2f} CNY"
    )

    step("party B: consenting and giving the payee account")
    confirmed = await phone.confirm(
        session,
        {"claim_number": claim["claim_number"], "consent": True, **SAMPLE_PAYEE},
    )
    confirmed.raise_for_status()
    payee = confirmed.json()["claims"][0]["confirmation"]["payee"]
    print(f"    confirmed: {payee['bank']} {payee['account_number_masked']}")


def print_timeline(outcome: CaseOutcome, messages: list[dict[str, str]]) -> None:
    start = outcome.timeline[0].at
    print(f"\nCase timeline (outcome: {outcome.outcome})")
    print(f"{'time (UTC)':<26} {'+s':>7}  step")
    for entry in outcome.timeline:
        offset = (entry.at - start).total_seconds()
        detail = f" — {entry.detail}" if entry.detail else ""
        print(
            f"{entry.at.isoformat(timespec='milliseconds'):<26} {offset:7.2f}  "
            f"{entry.step}{detail}"
        )
    print(f"\nText messages sent ({len(messages)})")
    for message in messages:
        sent_at = message["sent_at"] or "not sent"
        print(f"  {sent_at[11:23]}  {message['phone']}  {message['body']}")


def main() -> None:
    outcome = asyncio.run(run_demo())
    exit_now(0 if outcome.outcome == "settled" else 1)


if __name__ == "__main__":
    main()
