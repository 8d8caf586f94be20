"""Apply each service's versioned SQL migrations to its own schema with dbmate.

Run ``python -m common.migrate``; it reads ``DINGZE_DATABASE_URL``.
"""

import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

from common.settings import PlatformSettings

SERVICES_ROOT = Path(__file__).resolve().parent.parent / "services"
SERVICE_SCHEMAS = ("intake", "liability", "insurance", "notify")


def schema_url(database_url: str, schema: str) -> str:
    """Point the URL at one schema; dbmate keeps its version table there too."""
    parts = urlsplit(database_url)
    query = urlencode({"sslmode": "disable", "search_path": schema})
    return urlunsplit(("postgres", parts.netloc, parts.path, query, ""))


def migrate(database_url: str) -> None:
    dbmate = shutil.which("dbmate") or str(Path(sys.executable).parent / "dbmate")
    for schema in SERVICE_SCHEMAS:
        subprocess.run(
            [
                dbmate,
                "--url",
                schema_url(database_url, schema),
                "--migrations-dir",
                str(SERVICES_ROOT / schema / "migrations"),
                "--no-dump-schema",
                "--wait",
                "up",
            ],
            check=True,
        )


if __name__ == "__main__":
    migrate(PlatformSettings().database_url)
