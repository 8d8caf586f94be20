"""Recorded case histories must replay on the current workflow code.

A change that breaks replay would make running cases fail on their next step. Record a
new history next to these when the workflow gains a path, and gate changes to existing
paths with ``workflow.patched``.
"""

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from workflows.case.workflow import RemoteLiabilityCaseWorkflow

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))


@pytest.mark.parametrize("path", HISTORIES, ids=[path.stem for path in HISTORIES])
async def test_recorded_history_replays(path: Path) -> None:
    history = WorkflowHistory.from_json(path.stem, path.read_text())
    replayer = Replayer(
        workflows=[RemoteLiabilityCaseWorkflow], data_converter=pydantic_data_converter
    )

    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)

    assert result.replay_failure is None
