"""A workflow that does nothing: the unit of Temporal's own limit.

It has a module of its own because Temporal's sandbox imports a workflow's module
again, and this one imports nothing else.
"""

from temporalio import workflow


@workflow.defn(name="BenchEmptyWorkflow")
class EmptyWorkflow:
    @workflow.run
    async def run(self) -> None:
        return None
