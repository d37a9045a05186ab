"""Place extraction against a small county gazetteer, on real citizen messages (teddy2020c,
unlabeled_messages.csv) whose masked places (A市, A5区, …) are replaced by the gazetteer's names, and on the
real place phrases the messages carry."""


import pytest

from zhili.dispatch.places import GENERIC, MAX_MENTION, Entry, Gazetteer, mentions, short_forms

COUNTY = Entry("临溪县", "region", "430124000000", 112.60, 28.30, level=1)
CHENGGUAN = Entry("城关街道", "region", "430124001000", 112.61, 28.31, level=2)
QINGSHAN = Entry("青山镇", "region", "430124101000", 112.70, 28.25, level=2)
DONGMEN = Entry("东门社区", "region", "430124001001", 112.612, 28.312, level=3)
XIJIE = Entry("西街社区", "region", "430124001002", 112.605, 28.309, level=3)
QINGSHAN_DONGMEN = Entry("东门社区", "region", "430124101001", 112.701, 28.251, level=3)
MEIYUAN = Entry("梅园村", "region", "430124101201", 112.72, 28.24, level=3)
DONGMEN_GRID = Entry("东门社区第一网格", "grid", "430124001001001", 112.6125, 28.3125, level=4)
SCHOOL = Entry(
    "临溪县第一中学", "place", "PL-0001", 112.613, 28.313, aliases=("临溪一中",), level=5, within="430124001001"
)
HOSPITAL = Entry("人民医院", "place", "PL-0002", 112.606, 28.308, level=5, within="430124001002")
ADDRESS = Entry("解放路88号", "address", "AD-000088", 112.611, 28.311, level=5, within="430124001001001")
ENTRIES = [COUNTY, CHENGGUAN, QINGSHAN, DONGMEN, XIJIE, QINGSHAN_DONGMEN, MEIYUAN, DONGMEN_GRID, SCHOOL, HOSPITAL]
ENTRIES.append(ADDRESS)


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    return Gazetteer(ENTRIES)




def _text(row: dict[str, str], *substitutions: tuple[str, str]) -> str:
    text = f"{row['subject']}。{row['detail']}"
    for masked, name in substitutions:
        assert masked in text, f"message {row['id']} no longer says {masked}"
        text = text.replace(masked, name)
    return text


def test_short_forms_strip_administrative_suffixes() -> None:
    assert short_forms("青山镇") == ["青山"]
    assert short_forms("城关街道") == ["城关"]
    assert short_forms("东门社区居委会") == ["东门社区", "东门"]
    assert short_forms("梅园村委会") == ["梅园"]
    assert short_forms("高村") == []  # a single character is no name
    assert short_forms("临溪县第一中学") == []


def test_a_hospital_in_a_real_message_is_found_and_wins_over_the_county(
    gazetteer: Gazetteer, messages: dict[str, dict[str, str]]
) -> None:
    # "L6县人民医院休闲广场唱歌的音箱声音开得太大了"
    text = _text(messages["133313"], ("L6县", "临溪县"))

    matches = gazetteer.find(text)

    assert [(m.entry, m.text) for m in matches] == [(COUNTY, "临溪县"), (HOSPITAL, "人民医院")]
    assert text[matches[1].start : matches[1].end] == "人民医院"
    best = gazetteer.best(matches)
    assert best is not None and best.entry == HOSPITAL
    assert (best.entry.lon, best.entry.lat) == (112.606, 28.308)


def test_an_alias_finds_the_school(gazetteer: Gazetteer, messages: dict[str, dict[str, str]]) -> None:
    # "反映A5区广益中学门口摊贩问题。A5区古曲南路广益中学，门口摊贩问题一直没有解决。"
    text = _text(
        messages["572"], ("A5区广益中学", "临溪一中"), ("A5区古曲南路广益中学", "城关街道解放路临溪县第一中学")
    )

    matches = gazetteer.find(text)

    assert [m.text for m in matches] == ["临溪一中", "城关街道", "临溪县第一中学"]
    assert {m.entry for m in matches} == {SCHOOL, CHENGGUAN}
    assert gazetteer.locate(text) == matches[0]  # the school, first named


def test_the_longest_name_wins_and_the_grid_is_more_specific_than_its_community(
    gazetteer: Gazetteer, messages: dict[str, dict[str, str]]
) -> None:
    # "A市富绿新村附近临街夜市卷士重来。富绿新村附近临街饮餐饮夜市，…"
    text = _text(messages["2006"], ("A市富绿新村", "城关街道东门社区第一网格"), ("富绿新村", "东门社区"))

    matches = gazetteer.find(text)

    assert [m.text for m in matches[:2]] == ["城关街道", "东门社区第一网格"]  # not 东门社区 inside the grid's name
    best = gazetteer.best(matches)
    assert best is not None and best.entry == DONGMEN_GRID


def test_the_town_named_tells_which_community_of_that_name(
    gazetteer: Gazetteer, messages: dict[str, dict[str, str]]
) -> None:
    # "A市陈家湖社区石油大院街边民房被用做夜宵店扰民严重。我是伍家岭陈家湖社区石油大院2栋…"
    row = messages["5604"]
    in_qingshan = _text(row, ("A市陈家湖社区", "青山镇东门社区"), ("伍家岭陈家湖社区", "青山东门社区"))
    in_chengguan = _text(row, ("A市陈家湖社区", "城关东门社区"), ("伍家岭陈家湖社区", "东门社区"))

    matches = gazetteer.find(in_qingshan)
    assert {m.entry for m in matches if m.text == "东门社区"} == {DONGMEN, QINGSHAN_DONGMEN}  # both, for `best`
    best = gazetteer.best(matches)
    assert best is not None and best.entry == QINGSHAN_DONGMEN

    best = gazetteer.locate(in_chengguan)  # by the short form 城关 alone
    assert best is not None and best.entry == DONGMEN

    # Listed the other way round, the gazetteer still picks by the town, not by order.
    reverse = Gazetteer([QINGSHAN_DONGMEN, DONGMEN, CHENGGUAN, QINGSHAN])
    best = reverse.locate(in_chengguan)
    assert best is not None and best.entry == DONGMEN


def test_a_village_by_its_short_form(gazetteer: Gazetteer, messages: dict[str, dict[str, str]]) -> None:
    # "A市桂花二村十四栋楼下垃圾站晚上工作太吵。本人住在桂花二村十四栋，…"
    text = _text(messages["3054"], ("A市桂花二村", "梅园"), ("桂花二村", "梅园"))

    matches = gazetteer.find(text)

    assert [m.text for m in matches] == ["梅园", "梅园"]
    best = gazetteer.best(matches)
    assert best is not None and best.entry == MEIYUAN and best.start == 0


@pytest.mark.parametrize(
    "text",
    [
        "这里青山绿水，景色很好，可惜河边垃圾没人清理",  # 青山 inside 青山绿水
        "东门口菜市场门前占道经营",  # 东门 inside 东门口
        "城关于这件事的答复一直没有",  # 城关 across 城 / 关于
    ],
)
def test_short_forms_match_only_as_whole_words(gazetteer: Gazetteer, text: str) -> None:
    assert gazetteer.find(text) == []
    assert gazetteer.best([]) is None


def test_short_form_found_as_a_whole_word(gazetteer: Gazetteer) -> None:
    [match] = gazetteer.find("青山的路灯坏了一个多月")
    assert (match.entry, match.text, match.start, match.end) == (QINGSHAN, "青山", 0, 2)


def test_names_jieba_would_split_are_still_found() -> None:
    # 米兰春天 is no word of jieba's, and the text runs it into a road name and a building number.
    estate = Entry("米兰春天", "address", "AD-7", level=5)
    gazetteer = Gazetteer([estate])

    [match] = gazetteer.find("座落在联丰路米兰春天G2栋320，一家婚纱摄影店")

    assert (match.entry, match.text) == (estate, "米兰春天")


def test_full_width_and_case_do_not_hide_an_address(gazetteer: Gazetteer) -> None:
    [match] = gazetteer.find("解放路８８号门口的井盖丢了")
    assert match.entry == ADDRESS and match.text == "解放路８８号"


def test_the_private_dictionary_leaves_the_global_one_alone(gazetteer: Gazetteer) -> None:
    import jieba

    assert "东门社区第一网格" not in jieba.lcut("东门社区第一网格")


def test_mentions_of_real_messages(messages: dict[str, dict[str, str]]) -> None:
    # "强烈请求在A2区怡海星城小区东边月塘路装隔音板"
    assert mentions(messages["45"]["subject"]) == ["怡海星城小区", "月塘路"]
    # "反映A5区广益中学门口摊贩问题" / "A5区古曲南路广益中学，门口摊贩问题一直没有解决。"
    assert mentions(_text(messages["572"])) == ["广益中学", "古曲南路"]
    # "在A3区望月湖小区，月桂街和月宫街交汇的东南角，…旁边50米就是望月湖第二小学"
    assert mentions(_text(messages["1821"])) == ["望月湖小区", "月桂街", "月宫街", "望月湖第二小学"]
    assert "五一大道" in mentions(_text(messages["23"]))


def test_mentions_are_short_and_never_generic_nor_masked_units(messages: dict[str, dict[str, str]]) -> None:
    found = [phrase for row in list(messages.values())[:300] for phrase in mentions(_text(row))]

    assert len(found) > 100
    assert all(2 < len(p) <= MAX_MENTION for p in found)
    assert not [p for p in found if p in GENERIC]
    assert not [p for p in found if any(ch.isascii() and ch.isalpha() for ch in p[:2])]  # no "A市", "A4区"


def test_unmatched_leaves_out_what_the_gazetteer_knows(
    gazetteer: Gazetteer, messages: dict[str, dict[str, str]]
) -> None:
    text = _text(messages["45"], ("A市A2区", "青山镇梅园村"), ("A2区", "梅园村"))

    assert {m.entry for m in gazetteer.find(text)} == {QINGSHAN, MEIYUAN}
    assert gazetteer.unmatched(text) == ["怡海星城小区", "月塘路"]
