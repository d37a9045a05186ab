"""In-app notifications and the live event stream (being built in this session)."""

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
