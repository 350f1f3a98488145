"""REST routes of users and tokens."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel, ConfigDict, Field

from steward.auth import service
from steward.auth.models import Role, User
from steward.web.deps import CurrentUser, DbSession, RequireRole

router = APIRouter(tags=["auth"])
admin = RequireRole(Role.SYSTEM_ADMIN)


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    username: str
    display_name: str
    role: Role
    district: str
    active: bool


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str
    password: str = Field(min_length=10)
    role: Role
    district: str = service.PROVINCE
    display_name: str = ""


@router.post("/auth/token", response_model=Token)
def login(form: Annotated[OAuth2PasswordRequestForm, Depends()], session: DbSession) -> Token:
    user = service.authenticate(session, form.username, form.password)
    if user is None:
        raise HTTPException(401, "wrong username or password")
    return Token(access_token=service.issue_token(session, user))


@router.get("/auth/me", response_model=UserRead)
def me(user: CurrentUser) -> User:
    return user


@router.get("/users", response_model=list[UserRead])
def list_users(session: DbSession, _: Annotated[User, Depends(admin)]) -> list[User]:
    return service.list_users(session)


@router.post("/users", response_model=UserRead, status_code=201)
def create_user(
    user_in: UserCreate, session: DbSession, by: Annotated[User, Depends(admin)]
) -> User:
    return service.create_user(
        session,
        username=user_in.username,
        password=user_in.password,
        role=user_in.role,
        district=user_in.district,
        display_name=user_in.display_name,
        by=by.username,
    )
