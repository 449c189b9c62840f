"""What every route depends on: the `Console` the app was built with and the caller its bearer
token names."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request

from console.service import Console, Principal
from console.service.tokens import bearer


def get_console(request: Request) -> Console:
    console: Console = request.app.state.console  # set by create_app or its lifespan (Starlette's state is untyped)
    return console


def get_principal(request: Request, authorization: Annotated[str | None, Header()] = None) -> Principal:
    """The caller, from `Authorization: Bearer <token>` (401 without a valid one)."""
    return get_console(request).authenticate(bearer(authorization))


Ctx = Annotated[Console, Depends(get_console)]
Who = Annotated[Principal, Depends(get_principal)]
