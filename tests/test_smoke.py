from tests.factories import COMMUNITY_A, login


def test_admin_lists_regions_of_own_town(client, world):
    headers = login(client, "towna-admin")
    r = client.get("/api/v1/regions", headers=headers)
    assert r.status_code == 200, r.text
    codes = [x["code"] for x in r.json()["items"]]
    assert codes == ["339922001000", COMMUNITY_A]
