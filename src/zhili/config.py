"""The one place that reads the environment: every setting is ZHILI_<NAME>."""

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SECRET_KEY = "zhili-development-secret-change-me"
PROJECT_ROOT = Path.cwd()


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ZHILI_", env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    database_url: str = "sqlite:///var/zhili.db"
    # Database connections each process keeps open: enough for every request thread at once, since a
    # connection opened past the pool is closed again after one use (on PostgreSQL a new backend each time).
    database_pool_size: int = Field(default=40, ge=1, le=500)
    secret_key: str = DEFAULT_SECRET_KEY
    # Seals identity numbers and phones at rest (32 bytes, base64); derived from secret_key when unset.
    data_key: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000

    # Accounts and sessions
    session_cookie: str = "zhili_session"
    session_max_age_seconds: int = 12 * 3600
    token_ttl_seconds: int = 8 * 3600
    login_max_failures: int = 5
    login_lockout_minutes: int = 15
    # argon2 cost; tests lower it so that hundreds of hashes stay cheap.
    argon2_time_cost: int = 3
    argon2_memory_cost_kib: int = 65536

    # Uploads (imports, attachments)
    upload_max_bytes: int = 10 * 1024 * 1024
    # A historical-appeals file from the admin import page (streamed to disk, never held in memory).
    import_max_bytes: int = 200 * 1024 * 1024

    # Map: the region and grid polygons are the base layer; an online tile URL is opt-in.
    map_tile_url: str | None = None
    map_tile_attribution: str = ""
    # The coordinate system the tiles are drawn in: "gcj02" for most Chinese web maps (高德, 腾讯),
    # "wgs84" for 天地图 and the default polygon base layer. Stored data stays WGS-84 either way.
    map_tile_crs: Literal["wgs84", "gcj02"] = "wgs84"

    # The working day and the deadline warning (a region's holidays are CalendarOverride rows).
    working_hours: str = "08:30-12:00,14:00-17:30"
    warn_share: float = Field(default=0.8, gt=0, lt=1)
    # Background work in this process (deadline sweep, outbox sender); turn off where separate workers run.
    run_background: bool = True
    sweep_interval_seconds: int = 60
    # How often the outbox is drained for the live map and notifications (well under a second's delay).
    live_interval_seconds: float = Field(default=0.5, gt=0, le=60)
    # Uploaded attachments, and where the file-backed SMS gateway writes (the demo's and tests' fake).
    upload_dir: str = "var/uploads"
    attachment_max_bytes: int = 8 * 1024 * 1024
    sms_outbox_file: str = "var/sms-outbox.jsonl"

    # Open311 GeoReport v2 (/open311/v2/): whether anyone may read requests without an API key (then only
    # those under public categories), and the jurisdiction_id this deployment answers to besides its
    # region codes ("" accepts region codes only).
    open311_open_read: bool = False
    open311_jurisdiction_id: str = ""

    # Smart dispatch: an appeal filed without a category whose first proposal is at least this sure is
    # dispatched by the responsibility rules at once; below it the dispatcher sees the top three. The
    # classifier is retrained on the dispatchers' corrections every `classifier_retrain_hours`.
    auto_dispatch_threshold: float = Field(default=0.85, gt=0, le=1)
    classifier_retrain_hours: float = Field(default=24, gt=0)
    # Where the demo finds its seed corpus (../shared/data/teddy2020c; see docs/dispatch.md).
    seed_data_dir: str = "../shared/data/teddy2020c"

    default_locale: Literal["zh-CN", "en"] = "zh-CN"
    page_size_default: int = 50
    page_size_max: int = 500

    # Demo data
    demo_password: str = Field(default="Zhili@2026", min_length=8)

    @model_validator(mode="after")
    def _refuse_default_secret(self) -> "Settings":
        if self.environment != "development" and self.secret_key == DEFAULT_SECRET_KEY:
            raise ValueError(
                "ZHILI_SECRET_KEY must be set to a long random value outside development "
                "(for example: python -c 'import secrets; print(secrets.token_urlsafe(48))')"
            )
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    return Settings()
