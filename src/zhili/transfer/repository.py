"""Every query of imports and exports. Reads made for a person start from `readable(subject, …)`;
import jobs, which zhili.access does not list, are scoped the same way by their `region_code`."""

import zlib
from collections.abc import Iterable
from typing import Any, cast

import psycopg
from psycopg.types.json import Json
from sqlalchemy import JSON, Row, Select, Table, func, insert, select, text, update
from sqlalchemy.orm import Session, aliased

from zhili.access import in_subtree, readable
from zhili.auth.subject import Subject
from zhili.category import repository as crepo
from zhili.errors import NotFound
from zhili.kit.i18n import _
from zhili.models import (
    Appeal,
    Assignment,
    AssignmentRole,
    AssignmentState,
    Category,
    Department,
    Grid,
    ImportJob,
    Region,
    WorkOrder,
)
from zhili.work_order import repository as orders_repo

# Namespaces of the PostgreSQL advisory locks taken here (the first key of the two-key form).
SOURCE_LOCK, JOB_LOCK = 0x5A4C01, 0x5A4C02
LIVE_ASSIGNMENTS = (AssignmentState.pending, AssignmentState.signed, AssignmentState.done)


def is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _int4(value: int) -> int:
    return value - (1 << 32) if value >= 1 << 31 else value


# Import ----------------------------------------------------------------------------------------


def lock_source(session: Session, source: str) -> None:
    """Two imports from the same source at once would each miss the other's external ids: the second
    waits for the first to finish (PostgreSQL; SQLite has one writer anyway)."""
    if is_postgres(session):
        session.execute(text("SELECT pg_advisory_xact_lock(:ns, :key)"),
                        {"ns": SOURCE_LOCK, "key": _int4(zlib.crc32(source.encode()))})


def grid_places(session: Session) -> list[Row[int, str, str]]:
    """Every grid's id, boundary and community code: the point-in-grid index of an import."""
    return list(session.execute(select(Grid.id, Grid.boundary, Region.code).join(Grid.region).order_by(Grid.id)))


def region_by_code(session: Session, code: str) -> Region | None:
    return session.scalar(select(Region).where(Region.code == code))


def category_by_code(session: Session, code: str) -> Category | None:
    return crepo.category_by_code(session, code)


def department_by_code(session: Session, subject: Subject | None, code: str) -> Department | None:
    """A department the subject may see (any department for an import without one, from the CLI)."""
    stmt = readable(subject, Department) if subject is not None else select(Department)
    return session.scalars(stmt.where(Department.code == code)).first()


def imported_appeals(session: Session, external_ids: Iterable[str]) -> list[Row[str, dict[str, Any], int, str]]:
    """Appeals with these outside ids, with their import attributes and order: the caller keeps the
    ones of its source (the index on external_id does the narrowing)."""
    return list(session.execute(
        select(Appeal.external_id, Appeal.attributes, Appeal.work_order_id, WorkOrder.code)
        .join(WorkOrder, WorkOrder.id == Appeal.work_order_id)
        .where(Appeal.external_id.in_(list(external_ids)))))


def taken_tracking_codes(session: Session, codes: Iterable[str]) -> set[str]:
    return set(session.scalars(select(Appeal.tracking_code).where(Appeal.tracking_code.in_(list(codes)))))


def insert_rows(session: Session, model: type[Any], rows: list[dict[str, Any]]) -> None:
    """Insert many rows of a model's table, every row with the same keys: COPY on PostgreSQL (several
    times faster than pipelined INSERTs), a Core executemany elsewhere."""
    if not rows:
        return
    table = cast(Table, model.__table__)
    if not is_postgres(session):
        session.execute(insert(table), rows)
        return
    columns = list(rows[0])
    as_json = {c.name for c in table.columns if isinstance(c.type, JSON)}
    names = ", ".join(f'"{c}"' for c in columns)
    dbapi = cast(psycopg.Connection[Any], session.connection().connection.dbapi_connection)
    with dbapi.cursor() as cursor, cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row([Json(row[c]) if c in as_json else row[c] for c in columns])


def take_sqlite_write_lock(session: Session) -> None:
    """A no-op write: from here to the commit nobody else writes, so `max(id) + 1` stays ours."""
    session.execute(update(WorkOrder).where(WorkOrder.id == -1).values(version=WorkOrder.version)
                    .execution_options(synchronize_session=False))


def max_order_id(session: Session) -> int:
    return session.scalar(select(WorkOrder.id).order_by(WorkOrder.id.desc()).limit(1)) or 0


def next_order_ids(session: Session, n: int) -> list[int]:
    """`n` fresh ids from the work_orders sequence (PostgreSQL)."""
    return list(session.scalars(text("SELECT nextval(pg_get_serial_sequence('work_orders', 'id')) "
                                     "FROM generate_series(1, :n)"), {"n": n}))


def example_codes(session: Session, subject: Subject) -> dict[str, str]:
    """Codes that exist, for the example row of the import template."""
    leaf = session.scalars(crepo.categories(subject, leaves_only=True, active=True).limit(1)).first()
    department = session.scalars(readable(subject, Department).where(Department.active.is_(True))
                                 .order_by(Department.code).limit(1)).first()
    return {"region_code": subject.region_code, "category_code": leaf.code if leaf else "",
            "department_code": department.code if department else ""}


# Jobs ------------------------------------------------------------------------------------------


def jobs(subject: Subject) -> Select[Any]:
    return select(ImportJob).where(in_subtree(subject, ImportJob.region_code)).order_by(ImportJob.id.desc())


def job(session: Session, subject: Subject, job_id: int) -> ImportJob:
    found = session.scalar(jobs(subject).where(ImportJob.id == job_id))
    if found is None:
        raise NotFound(_("{what} 不存在或不在您的管辖范围内", what=_("导入任务 #{id}", id=job_id)))
    return found


def unfinished_jobs(session: Session) -> list[ImportJob]:
    return list(session.scalars(select(ImportJob).where(ImportJob.status.in_(["queued", "running"]))
                                .order_by(ImportJob.id).with_for_update()))


def claim_job(session: Session, job_id: int, values: dict[str, Any]) -> bool:
    """queued → running, once: a job failed meanwhile (an interrupted-job sweep) is not run."""
    result = session.execute(update(ImportJob).where(ImportJob.id == job_id, ImportJob.status == "queued")
                             .values(status="running", **values))
    return result.rowcount == 1  # type: ignore[attr-defined]


def set_job(session: Session, job_id: int, values: dict[str, Any]) -> None:
    session.execute(update(ImportJob).where(ImportJob.id == job_id).values(**values))


def lock_job(session: Session, job_id: int) -> None:
    """Held by the transaction that runs the job: while it is held, the job's runner is alive."""
    if is_postgres(session):
        session.execute(text("SELECT pg_advisory_xact_lock(:ns, :id)"), {"ns": JOB_LOCK, "id": job_id})


def runner_gone(session: Session, job_id: int) -> bool:
    """Whether no live transaction runs the job. On SQLite the embedded server is one process, so
    at its start every earlier runner died with the previous process."""
    if not is_postgres(session):
        return True
    return bool(session.scalar(text("SELECT pg_try_advisory_xact_lock(:ns, :id)"), {"ns": JOB_LOCK, "id": job_id}))


# Export ----------------------------------------------------------------------------------------


def export_rows(subject: Subject, *, flag: str | None = None, sort: str = "new",
                **filters: Any) -> Select[*tuple[Any, ...]]:
    """The order list's own query (`work_order.repository.queue`, so the scope is the list's), with the
    columns of an export instead of whole orders: nothing is loaded per row."""
    place = aliased(Region)
    lead = (select(Department.name).join(Assignment, Assignment.department_id == Department.id)
            .where(Assignment.work_order_id == WorkOrder.id, Assignment.role == AssignmentRole.lead,
                   Assignment.state.in_(LIVE_ASSIGNMENTS))
            .order_by(Assignment.id.desc()).limit(1).correlate(WorkOrder).scalar_subquery())
    stmt = orders_repo.queue(subject, flag=flag, sort=sort, **filters)
    return (stmt.with_only_columns(
        WorkOrder.code, WorkOrder.title, WorkOrder.status, WorkOrder.urgency, WorkOrder.channel,
        Category.name.label("category_name"), Category.code.label("category_code"),
        place.name.label("place_name"), WorkOrder.place_code, Grid.code.label("grid_code"),
        lead.label("lead_department"), WorkOrder.address, WorkOrder.lon, WorkOrder.lat, WorkOrder.created_at,
        WorkOrder.handle_due_at, WorkOrder.due_at, WorkOrder.closed_at, WorkOrder.overdue_at, WorkOrder.rating,
        WorkOrder.rework_count, WorkOrder.description, WorkOrder.region_id, WorkOrder.category_id,
        WorkOrder.stage, WorkOrder.stage_started_at, maintain_column_froms=False)
        .select_from(WorkOrder)
        .outerjoin(Category, Category.id == WorkOrder.category_id)
        .outerjoin(place, place.code == WorkOrder.place_code)
        .outerjoin(Grid, Grid.id == WorkOrder.grid_id))


def count(session: Session, stmt: Select[*tuple[Any, ...]]) -> int:
    return session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0


def filter_names(session: Session, subject: Subject, *, category_code: str | None, within: str | None,
                 department_id: int | None) -> dict[str, str]:
    """The names of the codes a filter names (for the title row of an export), where the subject may
    read them."""
    names: dict[str, str] = {}
    if category_code:
        category = crepo.category_by_code(session, category_code)
        names["category"] = category.name if category else category_code
    if within:
        region = session.scalars(readable(subject, Region).where(Region.code == within)).first()
        names["within"] = region.name if region else within
    if department_id:
        department = session.scalars(readable(subject, Department).where(Department.id == department_id)).first()
        names["department"] = department.name if department else str(department_id)
    return names
