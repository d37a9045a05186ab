import pytest
from sqlalchemy import select

from tests.factories import PASSWORD, login, page_login
from zhili.models import AuditLog, Staff


def audit_actions(db_session, username: str) -> list[str]:
    db_session.expire_all()
    return list(db_session.scalars(select(AuditLog.action).where(AuditLog.actor_name == username)
                                   .order_by(AuditLog.id)))


def test_token_identifies_the_account_and_its_scope(client, world):
    headers = login(client, "towna-admin")
    me = client.get("/api/v1/auth/me", headers=headers).json()
    assert me["username"] == "towna-admin"
    assert me["region_code"] == "339922001000"
    assert me["roles"] == ["admin"]


def test_unknown_user_and_wrong_password_get_the_same_refusal(client, world):
    unknown = client.post("/api/v1/auth/token", json={"username": "nobody", "password": "whatever1"})
    wrong = client.post("/api/v1/auth/token", json={"username": "towna-admin", "password": "whatever1"})
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json()["detail"].startswith("用户名或密码错误")
    assert wrong.json()["detail"].startswith("用户名或密码错误")


def test_repeated_failures_lock_the_account_even_for_the_right_password(client, world, db_session):
    for attempt in range(5):
        r = client.post("/api/v1/auth/token", json={"username": "towna-viewer", "password": f"bad-{attempt}"})
        assert r.status_code == 401
    assert "锁定" in r.json()["detail"]
    r = client.post("/api/v1/auth/token", json={"username": "towna-viewer", "password": PASSWORD})
    assert r.status_code == 401 and "锁定" in r.json()["detail"]
    actions = audit_actions(db_session, "towna-viewer")
    assert actions.count("login.failure") == 5
    assert "account.lock" in actions and actions[-1] == "login.locked"


def test_admin_unlocks_a_locked_account(client, world):
    for attempt in range(5):
        client.post("/api/v1/auth/token", json={"username": "towna-viewer", "password": f"bad-{attempt}"})
    admin = login(client, "towna-admin")
    viewer_id = world.staff["towna-viewer"].id
    assert client.get(f"/api/v1/staff/{viewer_id}", headers=admin).json()["locked"] is True
    r = client.patch(f"/api/v1/staff/{viewer_id}", json={"unlock": True}, headers=admin)
    assert r.status_code == 200 and r.json()["locked"] is False
    login(client, "towna-viewer")


def test_password_reset_voids_earlier_tokens(client, world):
    old = login(client, "towna-viewer")
    admin = login(client, "towna-admin")
    r = client.patch(f"/api/v1/staff/{world.staff['towna-viewer'].id}", json={"password": "Brand-new-9"},
                     headers=admin)
    assert r.status_code == 200, r.text
    assert client.get("/api/v1/auth/me", headers=old).status_code == 401
    login(client, "towna-viewer", "Brand-new-9")


def test_deactivated_account_can_neither_use_its_token_nor_log_in(client, world):
    token = login(client, "towna-viewer")
    admin = login(client, "towna-admin")
    client.patch(f"/api/v1/staff/{world.staff['towna-viewer'].id}", json={"active": False}, headers=admin)
    assert client.get("/api/v1/auth/me", headers=token).status_code == 401
    r = client.post("/api/v1/auth/token", json={"username": "towna-viewer", "password": PASSWORD})
    assert r.status_code == 401


def test_garbage_and_forged_tokens_are_refused(client, world):
    for token in ["abc", "zk_nope_nope", "eyJzIjoxLCJ2IjoxfQ.forged.sig"]:
        r = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 401, token
    assert client.get("/api/v1/auth/me").status_code == 401


def test_api_key_is_shown_once_works_and_can_be_revoked(client, world, db_session):
    admin = login(client, "towna-admin")
    r = client.post("/api/v1/api-keys", json={"name": "街道小程序", "roles": ["citizen"]}, headers=admin)
    assert r.status_code == 201, r.text
    created = r.json()
    key = created["key"]
    assert key.startswith("zk_") and created["region_code"] == "339922001000"
    listed = client.get("/api/v1/api-keys", headers=admin).json()["items"]
    assert "key" not in listed[0] and key not in str(listed)
    stored = db_session.scalar(select(AuditLog).where(AuditLog.action == "apikey.create"))
    assert stored is not None and key not in str(stored.detail)

    as_key = {"Authorization": f"Bearer {key}"}
    me = client.get("/api/v1/auth/me", headers=as_key).json()
    assert me["kind"] == "api_key" and me["roles"] == ["citizen"]
    # The key sees its region only.
    codes = [x["code"] for x in client.get("/api/v1/regions", headers=as_key).json()["items"]]
    assert codes and all(c.startswith("339922001") for c in codes)

    assert client.post(f"/api/v1/api-keys/{created['id']}/revoke", headers=admin).status_code == 200
    r = client.get("/api/v1/auth/me", headers=as_key)
    assert r.status_code == 401 and "吊销" in r.json()["detail"]


def test_admin_cannot_issue_a_key_for_another_town(client, world):
    admin = login(client, "towna-admin")
    r = client.post("/api/v1/api-keys", json={"name": "x", "region_code": "339922101000"}, headers=admin)
    assert r.status_code == 403


def test_every_account_change_is_on_the_audit_log(client, world, db_session):
    admin = login(client, "towna-admin")
    r = client.post("/api/v1/staff", headers=admin, json={
        "username": "towna-new", "display_name": "新同事", "password": "Start-pass-1",
        "roles": ["dispatcher"], "region_code": "339922001000"})
    assert r.status_code == 201, r.text
    staff_id = r.json()["id"]
    client.patch(f"/api/v1/staff/{staff_id}", json={"roles": ["dispatcher", "viewer"]}, headers=admin)
    client.patch(f"/api/v1/staff/{staff_id}", json={"password": "Other-pass-2"}, headers=admin)
    actions = audit_actions(db_session, "towna-admin")
    assert actions == ["login.success", "staff.create", "staff.update", "staff.password_reset"]
    log = client.get("/api/v1/audit-log?action=staff.", headers=admin).json()
    assert [x["action"] for x in log["items"]] == ["staff.password_reset", "staff.update", "staff.create"]


def test_an_admin_cannot_lock_themselves_out(client, world):
    admin = login(client, "towna-admin")
    me = world.staff["towna-admin"].id
    assert client.patch(f"/api/v1/staff/{me}", json={"active": False}, headers=admin).status_code == 403
    assert client.patch(f"/api/v1/staff/{me}", json={"roles": ["viewer"]}, headers=admin).status_code == 403


def test_pages_need_a_login_and_redirect_back_after_it(client, world):
    r = client.get("/admin/regions", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/admin/regions"
    page_login(client, "towna-admin")
    assert client.get("/admin/regions").status_code == 200


def test_page_posts_without_the_csrf_token_are_refused(client, world):
    page_login(client, "towna-admin")
    r = client.post("/logout", data={})
    assert r.status_code == 403 and "CSRF" in r.text
    r = client.post("/login", data={"username": "towna-admin", "password": PASSWORD})
    assert r.status_code == 403


def test_failed_page_login_says_why_and_is_counted(client, world, db_session):
    import re

    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
    r = client.post("/login", data={"username": "towna-admin", "password": "nope-nope", "csrf_token": token})
    assert r.status_code == 401 and "用户名或密码错误" in r.text
    db_session.expire_all()
    assert db_session.scalar(select(Staff.failed_logins).where(Staff.username == "towna-admin")) == 1


def test_next_parameter_never_leaves_the_site(client, world):
    import re

    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
    r = client.post("/login", data={"username": "towna-admin", "password": PASSWORD, "csrf_token": token,
                                    "next": "//evil.example/"}, follow_redirects=False)
    assert r.headers["location"] == "/"


@pytest.mark.parametrize("environment", ["test", "production"])
def test_settings_refuse_the_default_secret_outside_development(environment, monkeypatch):
    from pydantic import ValidationError

    from zhili.config import DEFAULT_SECRET_KEY, Settings

    with pytest.raises(ValidationError, match="ZHILI_SECRET_KEY"):
        Settings(environment=environment, secret_key=DEFAULT_SECRET_KEY)
    assert Settings(environment="development", secret_key=DEFAULT_SECRET_KEY).secret_key == DEFAULT_SECRET_KEY
