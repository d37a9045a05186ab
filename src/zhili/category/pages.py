"""Admin pages for categories, responsibility rules and the working calendar (being built in this session)."""

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
