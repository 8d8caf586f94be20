"""Apply each service's versioned SQL migrations to its own schema with dbmate.

Run ``python -m common.migrate``; it reads ``DINGZE_DATABASE_URL``.
"""

import asyncio
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

import asyncpg

from common.db import service_role
from common.seal_existing import seal_existing_rows
from common.settings import PlatformSettings

REPO_ROOT = Path(__file__).resolve().parent.parent
# Each schema's migrations folder; the case worker keeps its outbox in its own schema.
MIGRATIONS: dict[str, Path] = {
    "intake": REPO_ROOT / "services" / "intake" / "migrations",
    "liability": REPO_ROOT / "services" / "liability" / "migrations",
    "insurance": REPO_ROOT / "services" / "insurance" / "migrations",
    "notify": REPO_ROOT / "services" / "notify" / "migrations",
    "case_worker": REPO_ROOT / "workflows" / "case" / "migrations",
}
SERVICE_SCHEMAS = tuple(MIGRATIONS)
# Schemas that no one service owns, migrated before the services' schemas.
SHARED_MIGRATIONS: dict[str, Path] = {
    "identity": REPO_ROOT / "identity" / "migrations",
}
# The shared tables and what each service's role may do with them. Only the list of
# signed-out tokens is shared: every service that accepts tokens must read it.
SHARED_GRANTS: dict[str, dict[str, str]] = {
    "identity.revoked_tokens": {
        "intake": "SELECT, INSERT, DELETE",
        "liability": "SELECT, INSERT, DELETE",
        "notify": "SELECT",
    },
}
# Tables whose rows are only ever added: the service role may not change them.
APPEND_ONLY_TABLES: dict[str, tuple[str, ...]] = {"intake": ("custody_records",)}


def schema_url(database_url: str, schema: str) -> str:
    """Point the URL at one schema; dbmate keeps its version table there too."""
    parts = urlsplit(database_url)
    query = urlencode({"sslmode": "disable", "search_path": schema})
    return urlunsplit(("postgres", parts.netloc, parts.path, query, ""))


async def grant_schema(database_url: str, schema: str) -> None:
    """Let the service's role use its own schema's tables, and nothing else."""
    role = service_role(schema)
    connection = await asyncpg.connect(database_url)
    try:
        if not await connection.fetchval(
            "SELECT 1 FROM pg_roles WHERE rolname = $1", role
        ):
            raise SystemExit(
                f"the database role {role} is missing: run make stack-up locally, "
                "or create it (LOGIN) before migrating"
            )
        await connection.execute(
            f"""
            GRANT USAGE ON SCHEMA {schema} TO {role};
            GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema}
                TO {role};
            GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {role};
            """
        )
        for table in APPEND_ONLY_TABLES.get(schema, ()):
            await connection.execute(
                f"REVOKE UPDATE, DELETE, TRUNCATE ON {schema}.{table} FROM {role}"
            )
    finally:
        await connection.close()


async def grant_shared(database_url: str) -> None:
    """Give the service roles their privileges on the shared tables, and no more."""
    connection = await asyncpg.connect(database_url)
    try:
        for table, grants in SHARED_GRANTS.items():
            schema = table.split(".", 1)[0]
            for service, privileges in grants.items():
                role = service_role(service)
                await connection.execute(
                    f"""
                    GRANT USAGE ON SCHEMA {schema} TO {role};
                    GRANT {privileges} ON {table} TO {role};
                    """
                )
    finally:
        await connection.close()


def _dbmate_up(dbmate: str, database_url: str, schema: str, folder: Path) -> None:
    subprocess.run(
        [
            dbmate,
            "--url",
            schema_url(database_url, schema),
            "--migrations-dir",
            str(folder),
            "--no-dump-schema",
            "--wait",
            "up",
        ],
        check=True,
    )


def migrate(database_url: str) -> None:
    dbmate = shutil.which("dbmate") or str(Path(sys.executable).parent / "dbmate")
    for schema, folder in SHARED_MIGRATIONS.items():
        _dbmate_up(dbmate, database_url, schema, folder)
    for schema in SERVICE_SCHEMAS:
        _dbmate_up(dbmate, database_url, schema, MIGRATIONS[schema])
        asyncio.run(grant_schema(database_url, schema))
    asyncio.run(grant_shared(database_url))
    # Rows written before personal data was sealed; needs the key ring.
    sealed = asyncio.run(seal_existing_rows(database_url))
    if any(sealed.values()):
        print(f"sealed personal data in existing rows: {sealed}")


if __name__ == "__main__":
    migrate(PlatformSettings().database_url)
