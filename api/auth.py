"""Authentication as a dependency: `Authorization: Bearer dfd_...` -> the token's user id."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.services import Services

bearer = HTTPBearer(auto_error=False, description="An API token created on the dashboard's Account page")


def services(request: Request) -> Services:
    found: Services = request.app.state.services
    return found


def current_user(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    services: Annotated[Services, Depends(services)],
) -> int:
    """The id of the user whose active token is presented; 401 for a missing, wrong or revoked one."""
    user_id = services.tokens.authenticate(credentials.credentials) if credentials else None
    if user_id is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "a valid API token is needed (create one on the dashboard's Account page)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return user_id


UserId = Annotated[int, Depends(current_user)]
ServicesDep = Annotated[Services, Depends(services)]
