"""Pieces every service's HTTP API carries."""

import uvicorn
from fastapi import FastAPI


def serve(app: FastAPI, host: str, port: int) -> None:
    """Run the app with uvicorn, leaving log formatting to our JSON logging."""
    uvicorn.run(app, host=host, port=port, log_config=None)


def add_health_route(app: FastAPI) -> None:
    @app.get("/healthz", tags=["health"])
    async def healthz() -> dict[str, str]:
        """Return ok once the service has started its connections."""
        return {"status": "ok"}
