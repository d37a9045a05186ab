"""The `zhili` command."""

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, Optional

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from zhili.auth.subject import Subject
    from zhili.errors import ImportRejected

import typer

app = typer.Typer(help="Zhili 治理: city- and county-level social governance platform.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
db_app = typer.Typer(help="Database migrations.", no_args_is_help=True)
seed_app = typer.Typer(help="Seed data.", no_args_is_help=True)
user_app = typer.Typer(help="Staff accounts.", no_args_is_help=True)
apikey_app = typer.Typer(help="API keys for outside systems.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(seed_app, name="seed")
app.add_typer(user_app, name="user")
app.add_typer(apikey_app, name="apikey")
import_app = typer.Typer(help="Bulk imports: all or nothing, with a row-by-row report.", no_args_is_help=True)
export_app = typer.Typer(help="Exports of work orders to Excel or CSV.", no_args_is_help=True)
app.add_typer(import_app, name="import")
app.add_typer(export_app, name="export")
classifier_app = typer.Typer(help="The appeal classifier of smart dispatch.", no_args_is_help=True)
app.add_typer(classifier_app, name="classifier")


def _fail(message: str) -> NoReturn:
    typer.secho(message, fg=typer.colors.RED, err=True)
    raise typer.Exit(2)


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply migrations up to REVISION (default: the newest)."""
    from zhili.db import get_engine
    from zhili.migrate import upgrade

    upgrade(get_engine(), revision)
    typer.echo(f"database at {revision}: {get_engine().url.render_as_string(hide_password=True)}")


@db_app.command("check")
def db_check() -> None:
    """Fail unless the database is at the newest migration and the models match it."""
    from zhili.db import get_engine
    from zhili.migrate import is_current, pending_changes

    engine = get_engine()
    if not is_current(engine):
        _fail("database is not at the newest migration: run `zhili db upgrade`")
    diff = pending_changes(engine)
    if diff:
        _fail("models and migrations disagree; write a migration for:\n" + "\n".join(map(str, diff)))
    typer.echo("models and migrations agree")


def _is_empty() -> bool:
    from sqlalchemy import select

    from zhili.db import session_scope
    from zhili.models import Region

    with session_scope() as session:
        return session.scalar(select(Region.id).limit(1)) is None


def _seed_demo(accounts_json: Path | None) -> list:  # type: ignore[type-arg]
    from sqlalchemy import select

    from zhili.auth.passwords import hash_password
    from zhili.category.catalog import install
    from zhili.config import get_settings
    from zhili.db import session_scope
    from zhili.jurisdiction.demo import build_demo
    from zhili.models import Region

    password = get_settings().demo_password
    with session_scope() as session:
        accounts = build_demo(session, password, hash_password(password))
        county = session.scalars(select(Region).where(Region.level == "county").order_by(Region.code)).one()
        install(session, county, demo_rules=True)
        from zhili.work_order.simulator import Simulator

        Simulator().patrol(session)  # the grid workers' first positions on the command map
        _seed_grid_data(session)
    _seed_classifier()
    if accounts_json:
        _write_accounts(accounts_json, accounts)
    return accounts


def _seed_grid_data(session: Any) -> None:
    """Every grid's people, houses, units and places, then its key persons and visits, then the disputes,
    petitions and volunteers built on them (each seed reads what the one before wrote)."""
    import random

    from zhili.basedata.demo import seed_demo as base_data
    from zhili.casework.seed import seed_demo as casework
    from zhili.keyperson.demo import seed_demo as key_persons

    rng = random.Random(20261125)
    for seed in (base_data, key_persons, casework):
        counts = seed(session, rng)
        session.flush()
        typer.echo("  " + ", ".join(f"{k} {v}" for k, v in counts.items()))


def _seed_classifier() -> None:
    """The demo classifier starts trained on real messages when the seed corpus is at hand."""
    from zhili.config import get_settings
    from zhili.db import get_sessionmaker, session_scope
    from zhili.dispatch import seed, service

    data_dir = Path(get_settings().seed_data_dir)
    if not (data_dir / seed.CORPUS).exists():
        typer.echo(f"no seed corpus at {data_dir}: the classifier learns from the dispatchers' decisions only")
        return
    with session_scope() as session:
        count = seed.seed_examples(session, data_dir)
    done = service.retrain(get_sessionmaker())
    if done:
        typer.echo(f"classifier v{done.version} trained on {count} seed messages in {done.seconds} s")


def _write_accounts(path: Path, accounts: list) -> None:  # type: ignore[type-arg]
    rows = [{"username": a.username, "password": a.password, "role": a.role, "region_code": a.region_code,
             "department": a.department, "grid_code": a.grid_code, "display_name": a.display_name}
            for a in accounts]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")


@seed_app.command("demo")
def seed_demo(
    accounts_json: Annotated[Optional[Path], typer.Option(help="Write every demo account to this JSON file.")] = None,  # noqa: UP045
) -> None:
    """Build the demo county (临溪县) in an empty database."""
    from zhili.db import get_engine
    from zhili.migrate import upgrade

    upgrade(get_engine())
    if not _is_empty():
        _fail("the database already holds regions; `zhili seed demo` only fills an empty database")
    accounts = _seed_demo(accounts_json)
    typer.echo(f"demo county seeded: {len(accounts)} accounts")


@classifier_app.command("retrain")
def classifier_retrain() -> None:
    """Train a new version now on every example (seeds and dispatcher decisions) and make it active;
    running servers switch to it within seconds."""
    from zhili.db import get_engine, get_sessionmaker
    from zhili.dispatch import service
    from zhili.migrate import upgrade

    upgrade(get_engine())
    done = service.retrain(get_sessionmaker())
    if done is None:
        _fail("nothing to learn from: examples of at least two active categories are needed")
    typer.echo(f"classifier v{done.version}: {done.examples} examples ({done.corrections} corrections), "
               f"{done.seconds} s")


def _print_accounts(accounts: list) -> None:  # type: ignore[type-arg]
    from zhili.auth.subject import ROLE_LABELS
    from zhili.models import Role

    seen: set[str] = set()
    typer.echo("  role                 username            password")
    for a in accounts:
        if a.role in seen:
            continue
        seen.add(a.role)
        label = ROLE_LABELS[Role(a.role)]
        typer.echo(f"  {a.role:<20} {a.username:<19} {a.password}   {label}")


@app.command()
def demo(
    host: str = "127.0.0.1", port: int = 8000,
    accounts_json: Annotated[Path, typer.Option(help="Where to write every demo account.")] = Path(
        "var/demo-accounts.json"),
    simulate: Annotated[bool, typer.Option(help="Keep appeals flowing and moving along the loop")] = True,
    simulate_every: Annotated[float, typer.Option(help="Seconds between simulator ticks")] = 20.0,
) -> None:
    """Migrate, seed the demo county if the database is new, print the accounts, and serve."""
    from zhili.db import get_engine
    from zhili.migrate import upgrade

    upgrade(get_engine())
    if _is_empty():
        typer.echo("seeding the demo county 临溪县 …")
        accounts = _seed_demo(accounts_json)
    else:
        typer.echo("reusing the existing database")
        accounts = _load_accounts(accounts_json)
    typer.echo(f"\nZhili is running at http://{host}:{port}\n")
    if accounts:
        typer.echo(f"demo accounts (one per role; all of them in {accounts_json}):")
        _print_accounts(accounts)
    if simulate:
        import threading

        from zhili.work_order.simulator import run_in_background

        run_in_background(simulate_every, threading.Event())
        typer.echo(f"the simulator files an appeal and moves orders along every {simulate_every:g} s "
                   "(turn it off with --no-simulate)")
    typer.echo("")
    serve(host=host, port=port)


def _load_accounts(path: Path) -> list:  # type: ignore[type-arg]
    from zhili.jurisdiction.demo import DemoAccount

    if not path.exists():
        return []
    return [DemoAccount(**row) for row in json.loads(path.read_text(encoding="utf-8"))]


@app.command()
def serve(host: Annotated[Optional[str], typer.Option()] = None,  # noqa: UP045
          port: Annotated[Optional[int], typer.Option()] = None,  # noqa: UP045
          workers: Annotated[int, typer.Option(help="Server processes; for PostgreSQL, one per core")] = 1) -> None:
    """Serve the web application."""
    import uvicorn

    from zhili.config import get_settings

    try:
        settings = get_settings()
    except Exception as exc:  # pydantic's ValidationError: show the sentence, not a trace
        _fail(str(exc))
        return
    uvicorn.run("zhili.app:create_app", factory=True, host=host or settings.host, port=port or settings.port,
                proxy_headers=True, log_level="info", workers=workers)


@app.command()
def worker(
    interval: Annotated[Optional[float], typer.Option(help="Seconds between rounds (default: the setting)")] = None,  # noqa: UP045
) -> None:
    """Run the deadline sweep and the notification sender in a loop: for PostgreSQL deployments, as many
    processes as you like (they claim work with FOR UPDATE SKIP LOCKED); set ZHILI_RUN_BACKGROUND=false on
    the web processes then."""
    from zhili.notify.worker import run_forever

    run_forever(interval=interval)


@user_app.command("create")
def user_create(
    username: str,
    region: Annotated[str, typer.Option(help="12-digit region code the account belongs to")],
    role: Annotated[list[str], typer.Option(help="Role, repeatable: admin, dispatcher, ...")],
    name: Annotated[Optional[str], typer.Option(help="Display name")] = None,  # noqa: UP045
    department: Annotated[Optional[str], typer.Option(help="Department code")] = None,  # noqa: UP045
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)] = "",
) -> None:
    """Create a staff account (the first admin, or any other) from the command line."""
    from pydantic import ValidationError
    from sqlalchemy import select

    from zhili.auth.audit import record
    from zhili.auth.passwords import check_password_strength, hash_password
    from zhili.db import session_scope
    from zhili.jurisdiction.schemas import StaffCreate
    from zhili.models import Department, Region, Role, Staff, StaffRole

    unknown = [r for r in role if r not in Role.__members__]
    if unknown:
        _fail(f"unknown role {', '.join(unknown)}; roles: {', '.join(Role.__members__)}")
    try:
        data = StaffCreate(username=username, display_name=name or username, password=password,
                           roles=[Role(r) for r in role], region_code=region, department_code=department)
    except (ValidationError, ValueError) as exc:
        _fail(str(exc))
        return
    if problem := check_password_strength(password):
        _fail(problem)
    with session_scope() as session:
        reg = session.scalar(select(Region).where(Region.code == data.region_code))
        if reg is None:
            _fail(f"region {data.region_code} does not exist")
        if session.scalar(select(Staff.id).where(Staff.username == data.username)):
            _fail(f"username {data.username} is taken")
        dept = session.scalar(select(Department).where(Department.code == department)) if department else None
        if department and dept is None:
            _fail(f"department {department} does not exist")
        staff = Staff(username=data.username, display_name=data.display_name, password_hash=hash_password(password),
                      region=reg, department=dept, role_rows=[StaffRole(role=r) for r in sorted(set(data.roles))])
        session.add(staff)
        session.flush()
        record(session, "staff.create", actor_id=None, actor_name="cli", target_type="staff", target_id=staff.id,
               region_code=reg.code, username=staff.username, roles=sorted(data.roles))
    typer.echo(f"created {data.username}")


@apikey_app.command("create")
def apikey_create(
    name: str,
    region: Annotated[Optional[str], typer.Option(help="Region code the key may see (default: the top region)")] = None,  # noqa: UP045
    role: Annotated[list[str], typer.Option(help="Role of the outside system, repeatable")] = ["citizen"],  # noqa: B006
    channel: Annotated[list[str], typer.Option(help="Channel it may file appeals as, repeatable; the first is its own")] = ["open311"],  # noqa: B006,E501
    rate_limit: Annotated[Optional[int], typer.Option(help="Requests a minute (default: no limit)", min=1)] = None,  # noqa: UP045
) -> None:
    """Issue an API key for an outside system. The key is printed once and never stored."""
    from sqlalchemy import select

    from zhili.auth.service import create_api_key
    from zhili.db import session_scope
    from zhili.models import Channel, Region, Role

    unknown = [r for r in role if r not in Role.__members__]
    if unknown:
        _fail(f"unknown role {', '.join(unknown)}; roles: {', '.join(Role.__members__)}")
    roles = [Role(r) for r in role]
    unknown = [c for c in channel if c not in Channel.__members__]
    if unknown:
        _fail(f"unknown channel {', '.join(unknown)}; channels: {', '.join(Channel.__members__)}")
    with session_scope() as session:
        stmt = select(Region).where(Region.code == region) if region else select(Region).where(
            Region.parent_id.is_(None)).order_by(Region.code)
        reg = session.scalars(stmt).first()
        if reg is None:
            _fail(f"region {region} does not exist" if region else "no regions yet: seed or import them first")
        _key, plain = create_api_key(session, name, reg, roles, None, channel, rate_limit)  # type: ignore[arg-type]
    typer.echo(plain)


# Imports (`zhili import …`) ---------------------------------------------------------------------


@import_app.command("appeals")
def import_appeals_command(
    path: Annotated[Path, typer.Argument(help="CSV (UTF-8 or GBK), .csv.gz or .xlsx", exists=True, dir_okay=False)],
    source: Annotated[str, typer.Option(help="The old system's name: its external ids import once")] = "legacy",
) -> None:
    """Import historical appeals and their work orders (nothing is stored if any row is bad)."""
    from zhili.db import session_scope
    from zhili.errors import AppError, ImportRejected
    from zhili.transfer.appeals import import_appeals, read_rows
    from zhili.transfer.files import count_rows

    try:
        with _progress_bar(count_rows(path)) as progress, session_scope() as session:
            report = import_appeals(session, read_rows(path), source=source, progress=progress)
    except ImportRejected as exc:
        _print_rejection(exc)
        raise typer.Exit(1) from None
    except AppError as exc:
        _fail(exc.message)
    typer.echo(f"{report.created} rows imported")


def _base_data_import(kind: str) -> None:
    """`zhili import addresses|houses|residents|units|places FILE`: base data of the grids (all or nothing)."""

    def command(path: Annotated[Path, typer.Argument(help="CSV (UTF-8 or GBK), .csv.gz or .xlsx", exists=True,
                                                     dir_okay=False)]) -> None:
        from zhili.basedata.imports import import_kind
        from zhili.db import session_scope
        from zhili.errors import AppError, ImportRejected
        from zhili.transfer.files import count_rows, read_rows

        try:
            with _progress_bar(count_rows(path)) as progress, session_scope() as session:
                report = import_kind(session, kind, read_rows(path), progress=progress)
        except ImportRejected as exc:
            _print_rejection(exc)
            raise typer.Exit(1) from None
        except AppError as exc:
            _fail(exc.message)
        typer.echo(f"{report.created} {kind} imported")

    command.__doc__ = f"Import {kind} of the grids' base data (nothing is stored if any row is bad)."
    import_app.command(kind)(command)


for _kind in ("addresses", "houses", "residents", "units", "places"):
    _base_data_import(_kind)


@import_app.command("boston311")
def import_boston311_command(
    path: Annotated[Path, typer.Argument(help="Boston's 311 export, e.g. boston311_2015.csv.gz", exists=True,
                                         dir_okay=False)],
    limit: Annotated[Optional[int], typer.Option(min=1, help="Only N cases, in arrival order")] = None,  # noqa: UP045
    skip: Annotated[int, typer.Option(min=0, help="Start after the first N cases in arrival order")] = 0,
    speedup: Annotated[Optional[float], typer.Option(  # noqa: UP045
        min=1, help="Replay live instead: file each case now as a new appeal, its real pace divided by this")] = None,
) -> None:
    """Load Boston's 311 year into the demo county 临溪县: valid cases as history, the others reported
    (docs/boston311.md)."""
    from zhili.db import get_sessionmaker, session_scope
    from zhili.errors import AppError, ImportRejected
    from zhili.transfer import boston311

    mapping = boston311.load_mapping()
    try:
        selected = boston311.select_cases(path, mapping, skip=skip, limit=limit)
    except (ValueError, OSError) as exc:
        _fail(str(exc))
    if speedup is not None:
        filed = 0
        try:
            for case, code in boston311.replay(get_sessionmaker(), selected, mapping, speedup=speedup):
                filed += code is not None
                typer.echo(f"{case.opened:%Y-%m-%d %H:%M:%S}  {code or 'refused':<18} {case.type}")
        except KeyboardInterrupt:
            pass
        typer.echo(f"{filed:,} appeals filed")
        return
    try:
        with _progress_bar(len(selected)) as progress, session_scope() as session:
            report = boston311.import_cases(session, selected, mapping, progress=progress)
    except ImportRejected as exc:
        _print_rejection(exc)
        raise typer.Exit(1) from None
    except AppError as exc:
        _fail(exc.message)
    typer.echo("\n".join(report.lines()))


# Exports (`zhili export …`) ---------------------------------------------------------------------


@export_app.command("orders")
def export_orders_command(
    output: Annotated[Path, typer.Option("-o", "--output", help="The file to write", dir_okay=False)],
    status: Annotated[Optional[list[str]], typer.Option(help="Status, repeatable: registered, closed, ...")] = None,  # noqa: UP045
    within: Annotated[Optional[str], typer.Option(help="Only orders in this region (12-digit code)")] = None,  # noqa: UP045
    category: Annotated[Optional[str], typer.Option(help="Only this category code and its subtree")] = None,  # noqa: UP045
    format_: Annotated[Optional[str], typer.Option("--format", help="xlsx or csv (default: by the file name)")] = None,  # noqa: UP045
) -> None:
    """Export work orders of the whole deployment with the /orders list's filters."""
    from zhili.db import session_scope
    from zhili.errors import AppError
    from zhili.models import OrderStatus
    from zhili.transfer import export

    kind = format_ or ("csv" if output.suffix.lower() == ".csv" else "xlsx")
    if kind not in ("xlsx", "csv"):
        _fail(f"unknown format {kind!r}; use xlsx or csv")
    unknown = sorted(set(status or []) - {s.value for s in OrderStatus})
    if unknown:
        _fail(f"unknown status {', '.join(unknown)}; statuses: {', '.join(s.value for s in OrderStatus)}")
    filters = export.OrderFilters.of(status=status, within=within, category_code=category)
    try:
        with session_scope() as session:
            subject = _deployment_subject(session)
            if kind == "xlsx":
                export.write_xlsx(session, subject, filters, output)
            else:
                with output.open("wb") as out:
                    out.writelines(export.csv_stream(subject, filters))
    except AppError as exc:
        _fail(exc.message)
    typer.echo(f"wrote {output}")


def _deployment_subject(session: "Session") -> "Subject":
    """Who the command line reads as: an administrator of the top region, who sees every order."""
    from sqlalchemy import select

    from zhili.auth.subject import Subject, SubjectKind
    from zhili.models import Region, Role

    root = session.scalars(select(Region).where(Region.parent_id.is_(None)).order_by(Region.code)).first()
    if root is None:
        _fail("no regions yet: seed or import them first")
    return Subject(kind=SubjectKind.staff, id=0, name="cli", display_name="zhili export",
                   roles=frozenset({Role.admin}), region_id=root.id, region_code=root.code,
                   region_level=root.level, region_name=root.name)


# What the import commands show ------------------------------------------------------------------


@contextmanager
def _progress_bar(total: int | None) -> Iterator[Callable[[int, int], None]]:
    """A rich progress bar on stderr: rows checked, bad rows, rows per second."""
    import time

    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("importing"), BarColumn(), TextColumn("{task.completed:,.0f} rows"),
               TextColumn("[red]{task.fields[bad]:,} bad"), TextColumn("{task.fields[rate]:,.0f} rows/s"),
               TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True)) as bar:
        task = bar.add_task("import", total=total, bad=0, rate=0.0)
        started = time.monotonic()

        def update(processed: int, bad: int) -> None:
            rate = processed / max(time.monotonic() - started, 1e-9)
            bar.update(task, completed=processed, total=max(total or 0, processed) or None, bad=bad, rate=rate)

        yield update


def _print_rejection(exc: "ImportRejected") -> None:
    from rich.console import Console
    from rich.table import Table

    from zhili.transfer.appeals import AppealImportReport

    report = exc.report
    table = Table("row", "field", "problem", "expected", title=f"import refused: {exc.message}", title_justify="left")
    for p in report.problems:
        table.add_row("—" if p.row is None else str(p.row), p.field, p.problem, p.expected)
    console = Console(width=160)
    console.print(table)
    if isinstance(report, AppealImportReport) and report.problem_count > len(report.problems):
        console.print(f"{report.problem_count} problems in {report.bad_rows} rows; the first "
                      f"{len(report.problems)} are listed.")
    console.print("Nothing was imported.")


@app.command()
def bench(
    name: Annotated[str, typer.Argument(help="Benchmark name; `zhili bench list` shows them")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as one JSON line")] = False,
    data: Annotated[Optional[Path], typer.Option(help="Read input from this file instead of generating it")] = None,  # noqa: UP045
    test: Annotated[Optional[Path], typer.Option(help="Held-out evaluation file")] = None,  # noqa: UP045
    size: Annotated[Optional[int], typer.Option(help="Problem size, where the benchmark takes one")] = None,  # noqa: UP045
    reference: Annotated[Optional[Path], typer.Option(help="Reference labels to score the result against")] = None,  # noqa: UP045
    orders: Annotated[Optional[int], typer.Option(help="Work orders to generate, where the benchmark takes it")] = None,  # noqa: UP045
) -> None:
    """Run one benchmark; the last line printed is its JSON result."""
    from zhili.bench import BENCHMARKS, load_all, run

    load_all()
    if name == "list":
        for key, bench_fn in sorted(BENCHMARKS.items()):
            typer.echo(f"{key:<24} {(bench_fn.__doc__ or '').strip().splitlines()[0]}")
        return
    if name not in BENCHMARKS:
        _fail(f"unknown benchmark {name!r}; known: {', '.join(sorted(BENCHMARKS))}")
    result = run(name, data=data, test=test, size=size, reference=reference, orders=orders)
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False))
    else:
        json.dump(result, sys.stdout, ensure_ascii=False, indent=2)
        typer.echo("")


if __name__ == "__main__":
    app()
