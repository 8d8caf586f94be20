"""Decision support for officers: the table of accident types and their liability."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from contracts.accident_types import AccidentTypeTable
from identity.api import require_role
from identity.roles import Role, StaffPrincipal

router = APIRouter(tags=["decision support"])
Staff = Annotated[StaffPrincipal, Depends(require_role(Role.OFFICER, Role.SUPERVISOR))]


@router.get("/accident-types")
async def accident_types(request: Request, principal: Staff) -> AccidentTypeTable:
    """List the accident types with the categories and shares each usually carries.

    The officer picks one and sends its code with the ruling; a ruling that differs
    from the suggestion needs a reason.
    """
    table: AccidentTypeTable = request.app.state.runtime.accident_types
    return table
