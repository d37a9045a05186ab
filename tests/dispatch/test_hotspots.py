"""Hot issues on a city's real message board (teddy2020c, hot_issue_messages.csv) and the heat index on
small synthetic cases."""

import os
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from zhili.dispatch.bench_hotspots import load
from zhili.dispatch.hotspots import Cluster, Message, cluster, growth, heat, place_keys, unclustered

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "teddy2020c" / "hot_issue_messages.csv"

# 丽发新城: the concrete mixing plant next to the compound, in different callers' words; the first names
# the road before the compound, the third and the fourth name the compound only in their text, the fifth
# never says 搅拌.
MIXER = ["188809", "203393", "208285", "257091", "234327"]
WATER_CUT = "193091"  # 丽发新城 too, but the property company cutting the water off
LIFA_ROAD = "254710"  # 丽发新城 too: when the road between phases 2 and 3 will be built
# The same text pasted for two schools: 涉外经济学院 and 商贸旅游职业技术学院 (same day, same words).
INTERNSHIP_SCHOOLS = ("233759", "255719")
UNRELATED = "252074"  # 名富公寓物业乱收费: nobody else writes about it


@pytest.fixture(scope="module")
def messages() -> list[Message]:
    if not DATA.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"teddy2020c hot-issue messages are absent under CI: {DATA}")
        pytest.skip(f"teddy2020c hot-issue messages are absent: {DATA} (see ../shared/data/README.md)")
    return load(DATA)


@pytest.fixture(scope="module")
def partition(messages: list[Message]) -> dict[str, Cluster]:
    """Each message's cluster, singletons included."""
    return {i: c for c in cluster(messages, min_callers=1) for i in c.ids}


@pytest.fixture(scope="module")
def hot(messages: list[Message]) -> list[Cluster]:
    return cluster(messages)


def test_mixer_complaints_about_one_compound_land_in_one_cluster(partition: dict[str, Cluster]) -> None:
    mixer = partition[MIXER[0]]
    assert all(partition[i] is mixer for i in MIXER)
    assert mixer.place.startswith("丽发新城")
    assert "搅拌站" in mixer.keywords
    assert mixer.messages >= 50


def test_other_problems_at_the_same_compound_stay_apart(partition: dict[str, Cluster]) -> None:
    assert WATER_CUT not in partition[MIXER[0]].ids
    assert LIFA_ROAD not in partition[MIXER[0]].ids


def test_one_complaint_pasted_for_two_schools_is_two_issues(partition: dict[str, Cluster]) -> None:
    first, second = INTERNSHIP_SCHOOLS
    assert partition[first] is not partition[second]


def test_unrelated_message_is_a_singleton_and_unclustered(messages: list[Message], partition: dict[str, Cluster],
                                                          hot: list[Cluster]) -> None:
    assert partition[UNRELATED].ids == [UNRELATED]
    assert UNRELATED in unclustered(messages, hot)


def test_partition_holds_every_message_once(messages: list[Message], partition: dict[str, Cluster]) -> None:
    clusters = {id(c): c for c in partition.values()}.values()
    ids = [i for c in clusters for i in c.ids]
    assert sorted(ids) == sorted(m.id for m in messages)


def test_the_known_hot_issues_rank_first(messages: list[Message], hot: list[Cluster]) -> None:
    top_two = f"{hot[0].place} {hot[1].place}"
    assert "丽发新城" in top_two and ("滨河苑" in top_two or "伊景园" in top_two)
    assert all(c.callers >= 3 for c in hot)
    assert [c.heat for c in hot] == sorted((c.heat for c in hot), reverse=True)
    assert sum(c.messages for c in hot) + len(unclustered(messages, hot)) == len(messages)


# Heat ------------------------------------------------------------------------------------------------


def test_heat_grows_with_each_count() -> None:
    base = heat(messages=5, callers=4, support=10, growth=0.0)
    assert heat(messages=6, callers=4, support=10, growth=0.0) > base
    assert heat(messages=5, callers=5, support=10, growth=0.0) > base
    assert heat(messages=5, callers=4, support=20, growth=0.0) > base
    assert heat(messages=5, callers=4, support=10, growth=growth(recent=3, previous=1)) > base
    assert heat(messages=5, callers=4, support=10, growth=growth(recent=0, previous=3)) < base


def test_growth_is_zero_when_steady_and_positive_when_rising() -> None:
    assert growth(recent=2, previous=2) == 0.0
    assert growth(recent=0, previous=0) == 0.0
    assert growth(recent=3, previous=1) > 0 > growth(recent=1, previous=3)


def _messages(prefix: str, title: str, text: str, callers: int, days_ago: list[int], support: int,
              now: datetime) -> list[Message]:
    return [Message(id=f"{prefix}{n}", title=title, text=text, at=now - timedelta(days=d, hours=n),
                    caller=f"{prefix}-caller{n % callers}", support=support)
            for n, d in enumerate(days_ago)]


def test_bigger_supported_growing_issue_ranks_higher() -> None:
    now = datetime(2024, 5, 31, 18, 0)
    lift = _messages("lift", "幸福家园小区电梯经常故障困人", "幸福家园小区3栋电梯这个月多次故障，老人被困，物业不修。",
                     callers=6, days_ago=[1, 2, 2, 3, 4, 5, 9], support=8, now=now)
    rubbish = _messages("bin", "阳光花园小区垃圾堆放无人清运", "阳光花园小区门口垃圾堆了一周没人清运，臭气熏天。",
                        callers=3, days_ago=[10, 11, 12], support=1, now=now)
    ranked = cluster(lift + rubbish, as_of=now)
    assert [c.place[:4] for c in ranked] == ["幸福家园", "阳光花园"]
    assert ranked[0].growth > 0 and ranked[1].growth < 0
    assert ranked[0].heat > ranked[1].heat


def test_below_min_callers_is_not_hot_but_counted_unclustered() -> None:
    now = datetime(2024, 5, 31)
    one_caller = _messages("same", "翠湖苑小区路灯不亮", "翠湖苑小区路灯坏了一个月。", callers=1,
                           days_ago=[1, 2, 3, 4], support=0, now=now)
    assert cluster(one_caller) == []
    assert len(cluster(one_caller, min_callers=1)) == 1
    assert unclustered(one_caller, cluster(one_caller)) == [m.id for m in one_caller]


def test_the_platforms_place_links_and_separates() -> None:
    now = datetime(2024, 5, 31)
    text = "楼下烧烤店油烟直排，晚上吵到凌晨，请处理。"
    same = [Message(id=f"a{n}", text=text, at=now - timedelta(days=n), caller=f"a{n}", place="东湖小区")
            for n in range(3)]
    other = [Message(id=f"b{n}", text=text, at=now - timedelta(days=n), caller=f"b{n}", place="西山花园")
             for n in range(3)]
    found = cluster(same + other)
    assert sorted(sorted(c.ids) for c in found) == [["a0", "a1", "a2"], ["b0", "b1", "b2"]]


def test_messages_without_words_still_cluster() -> None:
    now = datetime(2024, 5, 31)
    found = cluster([Message(id=str(n), text="12345", at=now) for n in range(3)], min_callers=1)
    assert sum(c.messages for c in found) == 3


def test_place_keys_cut_names_at_complaint_words() -> None:
    assert "丽发新城" in place_keys("投诉A2区丽发新城附近建搅拌站噪音扰民")
    assert "伊景园滨河苑" in place_keys("关于伊景园滨河苑捆绑销售车位的维权投诉")
    assert not any(k.startswith("投诉") for k in place_keys("投诉A2区丽发新城附近建搅拌站噪音扰民"))
