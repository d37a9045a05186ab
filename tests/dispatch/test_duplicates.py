"""Duplicate appeals, checked on real citizen messages (teddy2020c, unlabeled_messages.csv): pairs in which
two citizens (or one, twice) wrote about the same matter at the same place, and messages about another
matter at the same compound or hospital. The messages carry no coordinates: each test puts them on the
map where its scenario needs them."""

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from zhili.dispatch.duplicates import Candidate, find_duplicates, haversine_m, similarity

CST = timezone(timedelta(hours=8))

# A point in a county seat, a grid and a community around it, and their neighbours to the east.
LON, LAT = 112.9823, 28.1941
GRID = "430104002003001"
COMMUNITY = "430104002003"
FAR_GRID = "430104005001002"
FAR_COMMUNITY = "430104005001"
METRE_LAT = 1 / 111_320  # degrees of latitude per metre
METRE_LON = METRE_LAT / 0.8814  # and of longitude, at this latitude (cos 28.19°)

# Later message, earlier one: the same matter, written by two different citizens within a week.
SAME_MATTER = [
    ("17313", "17333"),  # A7县 宴遇潇楚饭店 chimney, 3 days apart
    ("41794", "41812"),  # 月皓玻璃 waste water into the village ponds, 6 days
    ("26335", "26336"),  # 麓山名园 / 龙王港社区 C区4、5栋 架空层 taken over, 1 day
    ("1840", "1901"),  # A9市 禧和路 垃圾分拣中心 next to schools, 5 days
    ("54516", "51900"),  # D市钢管厂片区 couriers refuse to deliver, 5 days
]
# Another matter at the same place: same compound, town or hospital, different problem.
OTHER_MATTER = [
    ("26369", "14099"),  # 青竹湖镇太阳山: illegal storeys on a house / a landless farmer's worries
    ("174930", "174844"),  # I市国色天香小区: forced parking sales / choosing a new property manager
    ("133561", "133313"),  # L6县人民医院: rude maternity ward / loudspeakers in the square before it
]




def _at(row: dict[str, str]) -> datetime:
    return datetime.strptime(row["time"], "%Y/%m/%d %H:%M:%S").replace(tzinfo=CST)


def _appeal(
    row: dict[str, str],
    *,
    east_m: float = 0,
    north_m: float = 0,
    grid: str | None = GRID,
    community: str = COMMUNITY,
    at: datetime | None = None,
    phone: str = "",
    located: bool = True,
) -> Candidate:
    """A message as an appeal, `east_m`/`north_m` metres from the reference point, at its real time."""
    return Candidate(
        id=int(row["id"]),
        text=f"{row['subject']}。{row['detail']}",
        at=at or _at(row),
        lon=LON + east_m * METRE_LON if located else None,
        lat=LAT + north_m * METRE_LAT if located else None,
        grid_code=grid,
        place_code=community,
        phone=phone,
    )


def _ids(suggestions: list) -> list[int]:
    return [s.candidate.id for s in suggestions]


@pytest.mark.parametrize(("new_id", "old_id"), SAME_MATTER)
def test_same_matter_nearby_is_suggested(messages: dict[str, dict[str, str]], new_id: str, old_id: str) -> None:
    new = _appeal(messages[new_id])
    old = _appeal(messages[old_id], east_m=60, north_m=80)

    suggestions = find_duplicates(new, [old])

    assert _ids(suggestions) == [int(old_id)]
    reasons = suggestions[0].reasons
    assert "同一网格" in reasons
    assert "相距 100 米" in reasons
    assert any(r.startswith("内容相似 ") for r in reasons)
    assert 0 < suggestions[0].score <= 1


def test_reasons_read_as_the_dispatcher_sees_them(messages: dict[str, dict[str, str]]) -> None:
    new = _appeal(messages["17313"], phone="13907310001")
    old = _appeal(messages["17333"], east_m=120, grid="430104002003002", phone="139 0731 0001")

    [suggestion] = find_duplicates(new, [old])

    alike = similarity(new.text, old.text)
    assert suggestion.reasons == ("相距 120 米", f"内容相似 {alike:.2f}", "同一来电号码", "3 天内")


@pytest.mark.parametrize(("new_id", "other_id"), OTHER_MATTER)
def test_other_matter_at_the_same_place_is_not_suggested(
    messages: dict[str, dict[str, str]], new_id: str, other_id: str
) -> None:
    new = _appeal(messages[new_id])
    other = _appeal(messages[other_id], north_m=30, at=new.at - timedelta(hours=2))

    assert find_duplicates(new, [other]) == []


def test_the_same_matter_scores_clearly_above_another_matter_at_the_same_compound(
    messages: dict[str, dict[str, str]],
) -> None:
    # 26371 and 26369: two citizens on the same illegal storeys at 太阳山小区; 14099: a farmer of the same
    # place on his land. Their real dates lie 16 days apart, so here they are put in one week.
    new = _appeal(messages["26369"])
    same = _appeal(messages["26371"], east_m=40, at=new.at - timedelta(days=2))
    other = _appeal(messages["14099"], east_m=-40, at=new.at - timedelta(days=1))

    assert similarity(new.text, same.text) - similarity(new.text, other.text) > 0.4
    assert _ids(find_duplicates(new, [other, same])) == [26371]


def test_in_a_busy_grid_only_the_same_matter_is_suggested(messages: dict[str, dict[str, str]]) -> None:
    """Forty other real messages, all in the same grid and the same week: none of them is taken for the
    chimney complaint, and the real duplicate is."""
    new = _appeal(messages["17313"])
    rows = list(messages.values())[::70][:40]
    crowd = [
        _appeal(row, east_m=(i % 7) * 40, north_m=(i // 7) * 40, at=new.at - timedelta(hours=3 * i))
        for i, row in enumerate(rows)
        if row["id"] not in ("17313", "17333")
    ]
    duplicate = _appeal(messages["17333"], east_m=200)

    suggestions = find_duplicates(new, [*crowd[:20], duplicate, *crowd[20:]])

    assert _ids(suggestions) == [17333]


def test_the_same_matter_far_away_is_not_suggested(messages: dict[str, dict[str, str]]) -> None:
    new = _appeal(messages["17313"])
    far = _appeal(messages["17333"], east_m=5000, grid=FAR_GRID, community=FAR_COMMUNITY)
    assert 4900 < haversine_m(new.lon or 0, new.lat or 0, far.lon or 0, far.lat or 0) < 5100

    assert find_duplicates(new, [far]) == []


def test_the_same_matter_far_away_is_suggested_from_the_same_phone(messages: dict[str, dict[str, str]]) -> None:
    new = _appeal(messages["41794"], phone="13874910086")
    far = _appeal(messages["41812"], east_m=5000, grid=FAR_GRID, community=FAR_COMMUNITY, phone="+86 138 7491 0086")

    [suggestion] = find_duplicates(new, [far])

    assert suggestion.candidate.id == 41812
    assert "同一来电号码" in suggestion.reasons
    assert "同一网格" not in suggestion.reasons
    assert not any(r.startswith("相距") for r in suggestion.reasons)


def test_the_same_phone_does_not_make_another_matter_a_duplicate(messages: dict[str, dict[str, str]]) -> None:
    new = _appeal(messages["174930"], phone="13974800001")
    other = _appeal(
        messages["174844"], east_m=5000, grid=FAR_GRID, at=new.at - timedelta(days=1), phone="13974800001"
    )

    assert find_duplicates(new, [other]) == []


def test_outside_the_window_is_not_suggested(messages: dict[str, dict[str, str]]) -> None:
    # 26369 and 26371, the same illegal storeys, at their real times: 16 days apart.
    new = _appeal(messages["26369"])
    old = _appeal(messages["26371"], north_m=50)
    assert timedelta(days=15) < new.at - old.at < timedelta(days=17)

    assert find_duplicates(new, [old]) == []
    assert _ids(find_duplicates(new, [old], window=timedelta(days=30))) == [26371]


def test_the_appeal_itself_is_never_suggested(messages: dict[str, dict[str, str]]) -> None:
    new = _appeal(messages["17313"])
    itself_again = replace(new, lon=new.lon, at=new.at - timedelta(minutes=5))
    duplicate = _appeal(messages["17333"])

    assert find_duplicates(new, [new, itself_again]) == []
    assert _ids(find_duplicates(new, [new, duplicate, itself_again])) == [17333]


def test_without_points_the_same_community_counts_as_near(messages: dict[str, dict[str, str]]) -> None:
    new = _appeal(messages["54516"], grid=None, located=False)
    same_community = _appeal(messages["51900"], grid=None)
    town_only = replace(same_community, place_code=COMMUNITY[:9] + "000")
    other_community = replace(same_community, place_code=FAR_COMMUNITY)

    [suggestion] = find_duplicates(new, [same_community])
    assert "同一社区（村）" in suggestion.reasons
    assert find_duplicates(new, [town_only]) == []  # a whole town is not "near"
    assert find_duplicates(new, [other_community]) == []


def test_best_first_and_limited(messages: dict[str, dict[str, str]]) -> None:
    new = _appeal(messages["54516"])
    close_recent = _appeal(messages["51900"], east_m=20, at=new.at - timedelta(hours=1))
    far_old = replace(_appeal(messages["51900"], east_m=450, grid=None, at=new.at - timedelta(days=6)), id=1)

    suggestions = find_duplicates(new, [far_old, close_recent])
    assert _ids(suggestions) == [51900, 1]
    assert suggestions[0].score > suggestions[1].score
    assert "1 小时内" in suggestions[0].reasons
    assert _ids(find_duplicates(new, [far_old, close_recent], limit=1)) == [51900]


def test_similarity_is_symmetric_and_bounded(messages: dict[str, dict[str, str]]) -> None:
    a = f"{messages['1840']['subject']}。{messages['1840']['detail']}"
    b = f"{messages['1901']['subject']}。{messages['1901']['detail']}"

    assert similarity(a, a) == pytest.approx(1.0)
    assert similarity(a, b) == pytest.approx(similarity(b, a))
    assert 0 < similarity(a, b) < 1
    assert similarity(a, "") == 0.0
    assert similarity("，。！", "？？") == 0.0
