"""Pieces every service's HTTP API carries."""

from fastapi import FastAPI


def add_health_route(app: FastAPI) -> None:
    @app.get("/healthz", tags=["health"])
    async def healthz() -> dict[str, str]:
        """Return ok once the service has started its connections."""
        return {"status": "ok"}
