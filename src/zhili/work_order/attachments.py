"""Attachment upload and download (being built in this session)."""

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1", tags=["attachments"])
