"""Admin pages for regions, grids, departments, staff (being written)."""

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
