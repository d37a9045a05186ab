"""Pages of the closed loop for staff (being built in this session)."""

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
