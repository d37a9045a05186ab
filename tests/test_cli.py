import json

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from zhili.cli import app
from zhili.models import ApiKey, Staff

runner = CliRunner()


def test_db_check_says_models_and_migrations_agree():
    r = runner.invoke(app, ["db", "check"])
    assert r.exit_code == 0, r.output
    assert "agree" in r.output


def test_user_create_makes_a_working_admin(world, client, db_session):
    r = runner.invoke(app, ["user", "create", "first-admin", "--region", "339922000000", "--role", "admin",
                            "--name", "首位管理员", "--password", "First-admin-1"])
    assert r.exit_code == 0, r.output
    staff = db_session.scalar(select(Staff).where(Staff.username == "first-admin"))
    assert staff is not None and {str(x) for x in staff.roles} == {"admin"}
    token = client.post("/api/v1/auth/token", json={"username": "first-admin", "password": "First-admin-1"})
    assert token.status_code == 200


@pytest.mark.parametrize(("args", "expected"), [
    (["--region", "339922000000", "--role", "nope", "--password", "First-admin-1"], "role"),
    (["--region", "123", "--role", "admin", "--password", "First-admin-1"], "12"),
    (["--region", "339922000000", "--role", "admin", "--password", "short"], "8"),
    (["--region", "339922000000", "--role", "admin", "--password", "First-admin-1", "--department", "NOPE"],
     "department"),
])
def test_user_create_refuses_bad_input_with_a_sentence(world, args, expected):
    r = runner.invoke(app, ["user", "create", "someone", *args])
    assert r.exit_code == 2, r.output
    assert expected in r.output


def test_apikey_create_prints_the_key_once_and_stores_only_its_hash(world, client, db_session):
    r = runner.invoke(app, ["apikey", "create", "城市 App", "--region", "339922001000"])
    assert r.exit_code == 0, r.output
    key = r.output.strip().splitlines()[-1]
    assert key.startswith("zk_")
    stored = db_session.scalar(select(ApiKey).where(ApiKey.name == "城市 App"))
    assert stored is not None and key not in (stored.key_hash, stored.prefix)
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {key}"}).json()
    assert me["region_code"] == "339922001000"


def test_seed_demo_refuses_a_database_that_already_has_regions(world):
    r = runner.invoke(app, ["seed", "demo"])
    assert r.exit_code == 2 and "empty" in r.output


def test_seed_demo_writes_every_account_as_json(tmp_path, client):
    out = tmp_path / "accounts.json"
    r = runner.invoke(app, ["seed", "demo", "--accounts-json", str(out)])
    assert r.exit_code == 0, r.output
    accounts = json.loads(out.read_text(encoding="utf-8"))
    assert {"username", "password", "role", "region_code", "department", "grid_code"} <= set(accounts[0])
    roles = {a["role"] for a in accounts}
    assert roles == {"citizen", "hotline_agent", "dispatcher", "command_leader", "department_handler",
                     "grid_worker", "grid_chief", "mediator", "viewer", "admin"}
    # Scripts can log in with what was written.
    worker = next(a for a in accounts if a["role"] == "grid_worker")
    r = client.post("/api/v1/auth/token", json={"username": worker["username"], "password": worker["password"]})
    assert r.status_code == 200
    assert worker["grid_code"] and worker["grid_code"].startswith(worker["region_code"][:12])


def test_bench_list_names_the_benchmarks():
    r = runner.invoke(app, ["bench", "list"])
    assert r.exit_code == 0 and "scoped-read" in r.output
    r = runner.invoke(app, ["bench", "no-such-bench", "--json"])
    assert r.exit_code == 2 and "unknown benchmark" in r.output
