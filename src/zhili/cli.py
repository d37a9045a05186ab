"""The `zhili` command."""

import json
import sys
from pathlib import Path
from typing import Annotated, NoReturn, Optional

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
    if accounts_json:
        _write_accounts(accounts_json, accounts)
    return accounts


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
) -> None:
    """Issue an API key for an outside system. The key is printed once and never stored."""
    from sqlalchemy import select

    from zhili.auth.service import create_api_key
    from zhili.db import session_scope
    from zhili.models import Region, Role

    unknown = [r for r in role if r not in Role.__members__]
    if unknown:
        _fail(f"unknown role {', '.join(unknown)}; roles: {', '.join(Role.__members__)}")
    roles = [Role(r) for r in role]
    with session_scope() as session:
        stmt = select(Region).where(Region.code == region) if region else select(Region).where(
            Region.parent_id.is_(None)).order_by(Region.code)
        reg = session.scalars(stmt).first()
        if reg is None:
            _fail(f"region {region} does not exist" if region else "no regions yet: seed or import them first")
        _key, plain = create_api_key(session, name, reg, roles, None)  # type: ignore[arg-type]
    typer.echo(plain)


@app.command()
def bench(
    name: Annotated[str, typer.Argument(help="Benchmark name; `zhili bench list` shows them")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as one JSON line")] = False,
    data: Annotated[Optional[Path], typer.Option(help="Read input from this file instead of generating it")] = None,  # noqa: UP045
    test: Annotated[Optional[Path], typer.Option(help="Held-out evaluation file")] = None,  # noqa: UP045
    size: Annotated[Optional[int], typer.Option(help="Problem size, where the benchmark takes one")] = None,  # noqa: UP045
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
    result = run(name, data=data, test=test, size=size)
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False))
    else:
        json.dump(result, sys.stdout, ensure_ascii=False, indent=2)
        typer.echo("")


if __name__ == "__main__":
    app()
