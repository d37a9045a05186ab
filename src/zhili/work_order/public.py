"""Pages and endpoints for citizens, without an account (being built in this session)."""

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
