"""The operators' command for the insurer registry and parked webhooks.

Run ``python -m services.insurance.cli COMMAND``; it connects as the insurance
service's role to ``DINGZE_DATABASE_URL`` (or ``DINGZE_INSURANCE_DATABASE_URL``).
"""

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable

import asyncpg

from common.db import service_database_url
from services.insurance import registry
from services.insurance.settings import InsuranceSettings
from services.insurance.webhooks import redeliver

Command = Callable[[asyncpg.Connection, argparse.Namespace], Awaitable[None]]


async def _list(connection: asyncpg.Connection, _: argparse.Namespace) -> None:
    for entry in await registry.list_insurers(connection):
        state = "active" if entry.active else "inactive"
        print(
            f"{entry.code}\t{state}\t{entry.topic}\t{entry.webhook_url or '-'}"
            f"\t{entry.name}"
        )


async def _add(connection: asyncpg.Connection, args: argparse.Namespace) -> None:
    secret = await registry.add_insurer(
        connection, args.code, args.name, args.webhook_url
    )
    print(f"added {args.code}; signing secret (shown once): {secret}")


async def _set_webhook(
    connection: asyncpg.Connection, args: argparse.Namespace
) -> None:
    await registry.set_webhook(connection, args.code, args.url or None)
    print(f"{args.code} webhook: {args.url or 'none'}")


async def _rotate(connection: asyncpg.Connection, args: argparse.Namespace) -> None:
    secret = await registry.rotate_secret(connection, args.code)
    print(f"{args.code}: new signing secret (shown once): {secret}")


async def _deactivate(connection: asyncpg.Connection, args: argparse.Namespace) -> None:
    await registry.set_active(connection, args.code, active=False)
    print(f"{args.code} deactivated: it gets no further rulings")


async def _activate(connection: asyncpg.Connection, args: argparse.Namespace) -> None:
    await registry.set_active(connection, args.code, active=True)
    print(f"{args.code} activated")


async def _dead_letters(connection: asyncpg.Connection, _: argparse.Namespace) -> None:
    rows = await connection.fetch(
        "SELECT delivery_id, insurer_code, event_id, case_id, attempts, parked_at,"
        " last_error FROM webhook_dead_letters ORDER BY parked_at"
    )
    for row in rows:
        print(
            f"{row['delivery_id']}\t{row['insurer_code']}\t{row['event_id']}"
            f"\tcase {row['case_id']}\t{row['attempts']} tries"
            f"\t{row['parked_at']:%Y-%m-%dT%H:%M:%SZ}\t{row['last_error']}"
        )


async def _redeliver(connection: asyncpg.Connection, args: argparse.Namespace) -> None:
    ids = list(args.delivery_ids)
    if args.insurer:
        rows = await connection.fetch(
            "SELECT delivery_id FROM webhook_dead_letters WHERE insurer_code = $1",
            args.insurer,
        )
        ids += [row["delivery_id"] for row in rows]
    moved = await redeliver(connection, ids)
    skipped = sorted(set(ids) - set(moved))
    print(f"redelivering {moved}" + (f"; not parked: {skipped}" if skipped else ""))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m services.insurance.cli")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="list registered insurers").set_defaults(run=_list)
    add = commands.add_parser("add", help="register an insurer on its own topic")
    add.add_argument("code", help="upper-case letters and digits, e.g. PICC")
    add.add_argument("name")
    add.add_argument("--webhook-url", help="HTTPS URL that also gets each ruling")
    add.set_defaults(run=_add)
    webhook = commands.add_parser("set-webhook", help="set or clear the webhook URL")
    webhook.add_argument("code")
    webhook.add_argument("url", nargs="?", default="", help="omit to clear it")
    webhook.set_defaults(run=_set_webhook)
    for name, run, text in (
        ("rotate-secret", _rotate, "give the insurer a new signing secret"),
        ("deactivate", _deactivate, "stop sending rulings to the insurer"),
        ("activate", _activate, "send rulings to the insurer again"),
    ):
        command = commands.add_parser(name, help=text)
        command.add_argument("code")
        command.set_defaults(run=run)
    commands.add_parser(
        "dead-letters", help="list webhook deliveries parked after their last try"
    ).set_defaults(run=_dead_letters)
    again = commands.add_parser(
        "redeliver", help="put parked webhook deliveries back in line"
    )
    again.add_argument("delivery_ids", nargs="*", type=int)
    again.add_argument("--insurer", help="every parked delivery of this insurer")
    again.set_defaults(run=_redeliver)
    return parser


async def _main(args: argparse.Namespace) -> None:
    settings = InsuranceSettings()
    connection = await asyncpg.connect(
        service_database_url(settings.database_url, "insurance"),
        server_settings={"search_path": "insurance"},
    )
    try:
        await args.run(connection, args)
    finally:
        await connection.close()


def main() -> None:
    args = _parser().parse_args()
    try:
        asyncio.run(_main(args))
    except registry.RegistryError as error:
        sys.exit(f"error: {error}")


if __name__ == "__main__":
    main()
