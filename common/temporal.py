"""A Temporal client that speaks pydantic."""

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from common.settings import PlatformSettings


async def connect_temporal(settings: PlatformSettings) -> Client:
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=pydantic_data_converter,
    )
