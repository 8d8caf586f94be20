"""Decision support for officers: the table of accident types and their liability."""

from fastapi import APIRouter, Request

from contracts.accident_types import AccidentTypeTable

router = APIRouter(tags=["decision support"])


@router.get("/accident-types")
async def accident_types(request: Request) -> AccidentTypeTable:
    """List the accident types with the categories and shares each usually carries.

    The officer picks one and sends its code with the ruling; a ruling that differs
    from the suggestion needs a reason.
    """
    table: AccidentTypeTable = request.app.state.runtime.accident_types
    return table
