"""Recorded case histories must replay on the current workflow code.

A change that breaks replay would make running cases fail on their next step. Record a
new history next to these when the workflow gains a path, and gate changes to existing
paths with ``workflow.patched``.
"""

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter
from temporalio.worker import Replayer

from common.sealing import KeyRing
from common.temporal_codec import sealing_data_converter
from workflows.case.workflow import RemoteLiabilityCaseWorkflow

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))


# The histories were recorded before payloads were encrypted: the workers' sealing
# codec must read them as they are.
CONVERTERS = {
    "plain": pydantic_data_converter,
    "sealing": sealing_data_converter(
        KeyRing(active_id="replay", keys={"replay": bytes(32)}, lookup_key=bytes(32))
    ),
}


@pytest.mark.parametrize("converter", CONVERTERS.values(), ids=list(CONVERTERS))
@pytest.mark.parametrize("path", HISTORIES, ids=[path.stem for path in HISTORIES])
async def test_recorded_history_replays(path: Path, converter: DataConverter) -> None:
    history = WorkflowHistory.from_json(path.stem, path.read_text())
    replayer = Replayer(
        workflows=[RemoteLiabilityCaseWorkflow], data_converter=converter
    )

    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)

    assert result.replay_failure is None
