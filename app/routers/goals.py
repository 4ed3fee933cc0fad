"""HTTP for /v1/goals: one SMART goal and its indicator readings."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response, status

from app.deps import PrincipalDep, SessionDep
from app.schemas.partnerships import GoalOut, GoalUpdate, ReadingCreate, ReadingOut
from app.services import goals as service

router = APIRouter(prefix="/v1/goals", tags=["partnerships"])
GoalId = Annotated[int, Path(ge=1, le=2**31 - 1, description="Goal id")]


@router.get("/{goal_id}", response_model=GoalOut, summary="Get a goal")
def get_goal(goal_id: GoalId, session: SessionDep, principal: PrincipalDep):
    return service.readable(session=session, principal=principal, goal_id=goal_id)


@router.patch("/{goal_id}", response_model=GoalOut, summary="Change a goal")
def update_goal(goal_id: GoalId, data: GoalUpdate, session: SessionDep, principal: PrincipalDep):
    return service.update(session=session, principal=principal, goal_id=goal_id, data=data)


@router.delete("/{goal_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Remove a goal")
def delete_goal(goal_id: GoalId, session: SessionDep, principal: PrincipalDep) -> Response:
    service.delete(session=session, principal=principal, goal_id=goal_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{goal_id}/readings",
    status_code=status.HTTP_201_CREATED,
    response_model=ReadingOut,
    summary="Record a reading of the goal's indicator",
)
def create_reading(
    goal_id: GoalId, data: ReadingCreate, session: SessionDep, principal: PrincipalDep
):
    """Once the partnership is active; not older than the baseline."""
    return service.add_reading(session=session, principal=principal, goal_id=goal_id, data=data)


@router.get(
    "/{goal_id}/readings", response_model=list[ReadingOut], summary="Readings, oldest first"
)
def list_readings(goal_id: GoalId, session: SessionDep, principal: PrincipalDep):
    return service.readings_of(session=session, principal=principal, goal_id=goal_id)
