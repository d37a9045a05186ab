"""Personal data sealed at rest: the database holds no plain number, exact search still finds it."""

from sqlalchemy import select, text

from tests.factories import COMMUNITY_A
from zhili.kit.protect import blind_index, mask_id_number, mask_name, mask_phone, seal, unseal
from zhili.models import Resident


def test_seal_round_trips_and_hides_equal_values() -> None:
    a, b = seal("11010519491231002X"), seal("11010519491231002X")
    assert a != b and "1101051949" not in a
    assert unseal(a) == unseal(b) == "11010519491231002X"
    assert seal("") == "" and unseal("") == ""


def test_blind_index_is_exact_and_normalised() -> None:
    assert blind_index("11010519491231002x") == blind_index(" 11010519491231002X ")
    assert blind_index("11010519491231002X") != blind_index("110105194912310029")
    assert blind_index("") == ""


def test_masks() -> None:
    assert mask_id_number("11010519491231002X") == "110105********002X"
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("0731-5551234") == "0731-***1234"
    assert mask_name("张三") == "张*" and mask_name("欧阳明月") == "欧**月"


def test_the_database_holds_only_sealed_values(db_session, world) -> None:  # type: ignore[no-untyped-def]
    number = "11010519491231002X"
    db_session.add(Resident(name="测试", id_number=number, id_number_index=blind_index(number), phone="13812345678",
                            phone_index=blind_index("13812345678"), area_code=COMMUNITY_A + "001"))
    db_session.commit()
    raw = db_session.execute(text("SELECT id_number, phone FROM residents WHERE name = '测试'")).one()
    assert raw[0].startswith("v1:") and "19491231" not in raw[0] and "1234" not in raw[1]
    found = db_session.scalars(select(Resident).where(Resident.id_number_index == blind_index(number.lower()))).one()
    assert found.id_number == "11010519491231002X" and found.phone == "13812345678"
