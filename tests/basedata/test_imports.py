"""Collection: imports of each kind are all or nothing, name each bad row and field, and stream."""

import csv
import random
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.factories import COMMUNITY_A, COMMUNITY_B
from zhili.auth.service import subject_for_staff
from zhili.basedata.imports import import_kind
from zhili.errors import ImportRejected
from zhili.kit.codes import id_check_digit
from zhili.kit.protect import blind_index
from zhili.models import Address, Change, House, Place, Resident, Unit
from zhili.transfer.files import read_rows

GRID_A1, GRID_A2 = COMMUNITY_A + "001", COMMUNITY_A + "002"
N = 100_000
CLEAN_N = 20_000  # a clean file stores every row: twenty batches show it without a second 100k write
HEADER = ["姓名", "身份证号", "电话", "人口类型", "网格编码", "户主"]


def _person(i: int) -> list[str]:
    born = (date(1940, 1, 1) + timedelta(days=i % 21_000)).strftime("%Y%m%d")  # unique with the sequence below
    first17 = f"110105{born}{i // 21_000 + 500:03d}"  # a range no test world row uses
    return [f"居民{i}", first17 + id_check_digit(first17), f"139{i:08d}", "户籍人口" if i % 3 else "流动人口",
            GRID_A1 if i % 2 else GRID_A2, "是" if i % 4 == 0 else "否"]


def _write(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


def _subject(world, username="towna-admin"):  # type: ignore[no-untyped-def]
    return subject_for_staff(world.staff[username])


def test_100k_residents_with_seeded_errors_report_exactly_those_rows_and_import_nothing(world, db_session,
                                                                                       tmp_path):
    rows = [_person(i) for i in range(N)]
    rng = random.Random(8)
    bad = sorted(rng.sample(range(N), 6))
    expected: dict[int, str] = {}
    wrong_digit = rows[bad[0]][1][:-1] + ("0" if rows[bad[0]][1][-1] != "0" else "1")
    rows[bad[0]][1] = wrong_digit
    expected[bad[0] + 1] = "id_number"  # row numbers count from 1 under the header
    rows[bad[1]][0] = ""
    expected[bad[1] + 1] = "name"
    rows[bad[2]][2] = "1390000"
    expected[bad[2] + 1] = "phone"
    rows[bad[3]][4] = COMMUNITY_B + "001"  # town B's grid: not the importer's
    expected[bad[3] + 1] = "grid_code"
    rows[bad[4]][3] = "外星人"
    expected[bad[4] + 1] = "kind"
    rows[bad[5]][1] = rows[3][1]  # the same person as row 4
    expected[bad[5] + 1] = "id_number"
    before = db_session.scalar(select(func.count(Resident.id)))
    path = _write(tmp_path / "residents.csv", rows)
    progress: list[tuple[int, int]] = []
    with pytest.raises(ImportRejected) as caught:
        import_kind(db_session, "residents", read_rows(path), subject=_subject(world),
                    progress=lambda done, bad_rows: progress.append((done, bad_rows)))
    db_session.rollback()
    report = caught.value.report
    assert {p.row: p.field for p in report.problems} == expected
    assert report.rows == N and report.bad_rows == 6
    assert progress[-1] == (N, 6) and len(progress) == N // 1000
    assert db_session.scalar(select(func.count(Resident.id))) == before


def test_clean_residents_are_all_stored(world, db_session, tmp_path):
    path = _write(tmp_path / "residents.csv", [_person(i) for i in range(CLEAN_N)])
    before = db_session.scalar(select(func.count(Resident.id)))
    report = import_kind(db_session, "residents", read_rows(path), subject=_subject(world))
    db_session.commit()
    assert report.created == CLEAN_N
    assert db_session.scalar(select(func.count(Resident.id))) == before + CLEAN_N
    sample = _person(14_321)
    found = db_session.scalars(select(Resident).where(Resident.id_number_index == blind_index(sample[1]))).one()
    assert (found.name, found.id_number, found.phone, found.area_code) == (sample[0], sample[1], sample[2], sample[4])
    assert found.gender == ("M" if int(sample[1][16]) % 2 else "F") and found.birth_date is not None
    assert db_session.scalar(select(func.count(Change.id)).where(Change.entity == "resident")) >= CLEAN_N
    # Sealed at rest: the stored column is not the number.
    from sqlalchemy import text

    raw = db_session.execute(text("SELECT id_number FROM residents WHERE id = :i"), {"i": found.id}).scalar()
    assert raw != sample[1] and raw.startswith("v1:")


def test_addresses_houses_residents_chain(world, db_session, tmp_path):
    subject = _subject(world)
    addresses = tmp_path / "addresses.csv"
    addresses.write_text(f"上级地址,名称,层级,网格编码\n,和平路,街路巷,{GRID_A2}\n和平路,3号楼,楼栋,\n"
                         "和平路 3号楼,301室,户室,\n和平路 3号楼,302室,户室,\n不存在路,1号楼,楼栋,\n", encoding="utf-8")
    with pytest.raises(ImportRejected) as caught:
        import_kind(db_session, "addresses", read_rows(addresses), subject=subject)
    db_session.rollback()
    assert [(p.row, p.field) for p in caught.value.report.problems] == [(5, "parent")]
    addresses.write_text("\n".join(addresses.read_text(encoding="utf-8").splitlines()[:-1]) + "\n", encoding="utf-8")
    assert import_kind(db_session, "addresses", read_rows(addresses), subject=subject).created == 4
    db_session.commit()
    room = db_session.scalars(select(Address).where(Address.full_name == "和平路 3号楼 301室")).one()
    assert room.area_code == GRID_A2 and room.parent.name == "3号楼"
    houses = tmp_path / "houses.csv"
    houses.write_text("地址,用途,房主,房主电话,出租屋\n和平路 3号楼 301室,住宅,王某,13800138000,是\n"
                      "和平路 3号楼 301室,住宅,李某,,否\n和平路,住宅,,,\n", encoding="utf-8")
    with pytest.raises(ImportRejected) as caught:
        import_kind(db_session, "houses", read_rows(houses), subject=subject)
    db_session.rollback()
    assert [(p.row, p.field) for p in caught.value.report.problems] == [(2, "address"), (3, "address")]
    houses.write_text("地址,用途,房主,房主电话,出租屋\n和平路 3号楼 301室,住宅,王某,13800138000,是\n", encoding="utf-8")
    import_kind(db_session, "houses", read_rows(houses), subject=subject)
    db_session.commit()
    house = db_session.scalars(select(House).where(House.address_id == room.id)).one()
    assert house.rented and house.owner_phone == "13800138000"
    people = tmp_path / "people.xlsx"
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["姓名", "身份证号", "住址", "户主"])
    first17 = "33992219760305003"
    sheet.append(["王某", first17 + id_check_digit(first17), "和平路 3号楼 301室", "是"])
    book.save(people)
    import_kind(db_session, "residents", read_rows(people), subject=subject)
    db_session.commit()
    person = db_session.scalars(select(Resident).where(Resident.name == "王某")).one()
    assert person.house_id == house.id and person.area_code == GRID_A2 and person.household_head


def test_units_and_places_import(world, db_session, tmp_path):
    subject = _subject(world)
    units = tmp_path / "units.csv"
    units.write_text(f"名称,统一社会信用代码,网格编码\n甲公司,91350100M000100Y43,{GRID_A1}\n乙公司,91350100M000100Y44,{GRID_A1}\n"
                     , encoding="utf-8")
    with pytest.raises(ImportRejected) as caught:
        import_kind(db_session, "units", read_rows(units), subject=subject)
    db_session.rollback()
    assert [(p.row, p.field) for p in caught.value.report.problems] == [(2, "credit_code")]
    places = tmp_path / "places.csv"
    places.write_text("名称,类型,经度,纬度\n甲小学,学校,119.52,29.25\n远方,学校,100.0,40.0\n", encoding="utf-8")
    with pytest.raises(ImportRejected) as caught:
        import_kind(db_session, "places", read_rows(places), subject=subject)
    db_session.rollback()
    assert [(p.row, p.field) for p in caught.value.report.problems] == [(2, "lon")]
    places.write_text("名称,类型,经度,纬度\n甲小学,学校,119.52,29.25\n", encoding="utf-8")
    import_kind(db_session, "places", read_rows(places), subject=subject)
    db_session.commit()
    assert db_session.scalars(select(Place).where(Place.name == "甲小学")).one().area_code == GRID_A1
    assert db_session.scalar(select(func.count(Unit.id))) >= 1
