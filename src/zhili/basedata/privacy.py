"""Exports of personal data (个人信息导出), the way a privacy officer accepts them:

- a masked export (identity numbers and phones masked, as on screen) is anyone's who may read the
  list, and is logged;
- an unmasked export is requested with a purpose and the list's filters, decided by an administrator
  of the area who is not the requester (four eyes), and downloaded by the requester alone, at most
  `MAX_DOWNLOADS` times within `VALID_FOR` of the approval; every step is in the audit log.

The file is written at download time with the requester's scope at that moment, so a request never
reaches further than its requester does.
"""

import csv
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, Final

from sqlalchemy import Select
from sqlalchemy.orm import Session

from zhili.auth.audit import record as audit
from zhili.auth.subject import Subject
from zhili.basedata import repository as repo
from zhili.basedata.labels import PLACE_KIND_LABELS, RESIDENT_KIND_LABELS, UNIT_KIND_LABELS, USE_LABELS
from zhili.basedata.schemas import ExportRequestIn
from zhili.errors import Conflict, FieldProblem, Forbidden, Invalid
from zhili.kit.i18n import N_, _
from zhili.kit.protect import mask_id_number, mask_phone
from zhili.kit.time import now
from zhili.models import House, Place, Resident, Role, Unit
from zhili.models.basedata import ExportRequest, ExportStatus

VALID_FOR: Final = timedelta(hours=24)
MAX_DOWNLOADS: Final = 3
FILTER_NAMES: Final = frozenset({"q", "kind", "within", "status", "use", "rented", "group_rental"})
KIND_LABELS: Final = {"residents": N_("实有人口"), "houses": N_("实有房屋"), "units": N_("实有单位"),
                      "places": N_("重点场所")}


def _yes(value: bool) -> str:
    return _("是") if value else ""


@dataclass(frozen=True)
class ExportKind:
    header: tuple[str, ...]
    rows: Callable[[Subject, dict[str, str]], Select[Any]]
    line: Callable[[Any, bool], list[str]]  # (row, masked) → cells


def _flag(value: str | None) -> bool | None:
    return {"true": True, "false": False}.get(value or "")


def _residents(subject: Subject, f: dict[str, str]) -> Select[Any]:
    return repo.residents(subject, q=f.get("q"), kind=f.get("kind") or None, within=f.get("within") or None,
                          status=f.get("status") or "current")


def _resident_line(r: Resident, masked: bool) -> list[str]:
    return [str(r.id), r.name, mask_id_number(r.id_number) if masked else r.id_number,
            {"M": _("男"), "F": _("女")}.get(r.gender, ""), r.birth_date.isoformat() if r.birth_date else "",
            mask_phone(r.phone) if masked else r.phone, _(RESIDENT_KIND_LABELS[r.kind]),
            r.house.address.full_name if r.house else "", _yes(r.household_head), r.relation, r.ethnicity, r.origin,
            r.nationality, r.workplace, r.area_code, r.moved_out_on.isoformat() if r.moved_out_on else "", r.note]


def _houses(subject: Subject, f: dict[str, str]) -> Select[Any]:
    return repo.houses(subject, q=f.get("q"), use=f.get("use") or None, rented=_flag(f.get("rented")),
                       group_rental=_flag(f.get("group_rental")), within=f.get("within") or None)


def _house_line(h: House, masked: bool) -> list[str]:
    return [str(h.id), h.address.full_name, _(USE_LABELS[h.use]), h.owner_name,
            mask_phone(h.owner_phone) if masked else h.owner_phone,
            "" if h.floor_area_m2 is None else f"{h.floor_area_m2:g}", _yes(h.rented), _yes(h.group_rental),
            h.area_code, h.note]


def _units(subject: Subject, f: dict[str, str]) -> Select[Any]:
    return repo.units(subject, q=f.get("q"), kind=f.get("kind") or None, within=f.get("within") or None)


def _unit_line(u: Unit, masked: bool) -> list[str]:
    return [str(u.id), u.name, _(UNIT_KIND_LABELS[u.kind]), u.credit_code, u.legal_person,
            mask_phone(u.phone) if masked else u.phone, "" if u.employees is None else str(u.employees),
            u.address.full_name if u.address else "", u.area_code, u.note]


def _places(subject: Subject, f: dict[str, str]) -> Select[Any]:
    return repo.places(subject, q=f.get("q"), kind=f.get("kind") or None, within=f.get("within") or None)


def _place_line(p: Place, masked: bool) -> list[str]:
    return [str(p.id), p.name, _(PLACE_KIND_LABELS[p.kind]), f"{p.lon:.6f}", f"{p.lat:.6f}", p.manager,
            mask_phone(p.phone) if masked else p.phone, "" if p.capacity is None else str(p.capacity),
            p.area_code, p.note]


KINDS: Final = {
    "residents": ExportKind((N_("编号"), N_("姓名"), N_("身份证号"), N_("性别"), N_("出生日期"), N_("电话"),
                             N_("人口类型"), N_("住址"), N_("户主"), N_("与户主关系"), N_("民族"), N_("户籍地"),
                             N_("国籍"), N_("工作单位"), N_("所属网格/社区"), N_("迁出日期"), N_("备注")),
                            _residents, _resident_line),
    "houses": ExportKind((N_("编号"), N_("地址"), N_("用途"), N_("房主"), N_("房主电话"), N_("面积（㎡）"),
                          N_("出租屋"), N_("群租房"), N_("所属网格/社区"), N_("备注")), _houses, _house_line),
    "units": ExportKind((N_("编号"), N_("名称"), N_("类型"), N_("统一社会信用代码"), N_("法定代表人"), N_("电话"),
                         N_("从业人数"), N_("地址"), N_("所属网格/社区"), N_("备注")), _units, _unit_line),
    "places": ExportKind((N_("编号"), N_("名称"), N_("类型"), N_("经度"), N_("纬度"), N_("负责人"), N_("电话"),
                          N_("容纳人数"), N_("所属网格/社区"), N_("备注")), _places, _place_line),
}


def clean_filters(filters: dict[str, Any]) -> dict[str, str]:
    return {k: str(v)[:100] for k, v in filters.items() if k in FILTER_NAMES and v not in (None, "")}


def _kind(kind: str) -> ExportKind:
    if kind not in KINDS:
        message = _("不支持导出“{k}”", k=kind)
        raise Invalid(message, [FieldProblem("kind", message, "residents, houses, units, places")])
    return KINDS[kind]


def write_csv(session: Session, subject: Subject, kind: str, filters: dict[str, str], *, masked: bool) -> Path:
    """The export as a CSV file (UTF-8 with BOM, for Excel) in a temporary file, written row by row."""
    spec = _kind(kind)
    handle, name = tempfile.mkstemp(prefix="zhili-base-export-", suffix=".csv")
    os.close(handle)
    path = Path(name)
    try:
        with path.open("w", encoding="utf-8-sig", newline="") as out:
            writer = csv.writer(out)
            writer.writerow([_(h) for h in spec.header])
            for row in session.scalars(spec.rows(subject, filters).execution_options(yield_per=1000)):
                writer.writerow(spec.line(row, masked))
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


def file_name(kind: str, masked: bool) -> tuple[str, str]:
    stamp = now().strftime("%Y%m%d-%H%M")
    suffix = "masked" if masked else "full"
    return f"zhili-{kind}-{suffix}-{stamp}.csv", f"{_(KIND_LABELS[kind])}-{stamp}.csv"


def masked_export(session: Session, subject: Subject, kind: str, filters: dict[str, Any], ip: str = "") -> Path:
    """A masked export needs no approval; it is logged all the same."""
    filters = clean_filters(filters)
    path = write_csv(session, subject, kind, filters, masked=True)
    audit(session, "personal.export", actor_id=_actor(subject), actor_name=subject.display_name,
          target_type=kind, region_code=subject.region_code, ip=ip, masked=True, filters=filters)
    return path


def _actor(subject: Subject) -> int | None:
    return subject.id if subject.kind == "staff" and subject.id > 0 else None


def request_export(session: Session, subject: Subject, data: ExportRequestIn, ip: str = "") -> ExportRequest:
    if subject.kind != "staff":
        raise Forbidden(_("导出个人信息须由工作人员账号申请"))
    _kind(data.kind)
    row = ExportRequest(kind=data.kind, filters=clean_filters(data.filters), purpose=data.purpose,
                        status=ExportStatus.pending, region_code=subject.region_code, requested_by_id=subject.id,
                        requested_by_name=subject.display_name, requested_at=now(), decided_by_name="",
                        decision_note="", downloads=0)
    session.add(row)
    session.flush()
    audit(session, "personal.export_request", actor_id=subject.id, actor_name=subject.display_name,
          target_type="export_request", target_id=row.id, region_code=subject.region_code, ip=ip, kind=data.kind,
          purpose=data.purpose, filters=row.filters)
    return row


def decide(session: Session, subject: Subject, export_id: int, approve: bool, note: str, ip: str = "") -> ExportRequest:
    subject.require(Role.admin)
    row = repo.export_request(session, subject, export_id)
    if row.requested_by_id == subject.id:
        raise Forbidden(_("不能审批自己的导出申请：请由本辖区的另一位管理员审批"))
    if row.status != ExportStatus.pending:
        raise Conflict(_("该申请已处理（{s}）", s=row.status.value))
    if not approve and not note.strip():
        message = _("不批准时请写明理由")
        raise Invalid(message, [FieldProblem("note", message)])
    at = now()
    row.status = ExportStatus.approved if approve else ExportStatus.denied
    row.decided_by_id, row.decided_by_name, row.decided_at = _actor(subject), subject.display_name, at
    row.decision_note = note.strip()[:500]
    row.expires_at = at + VALID_FOR if approve else None
    audit(session, "personal.export_approve" if approve else "personal.export_deny", actor_id=_actor(subject),
          actor_name=subject.display_name, target_type="export_request", target_id=row.id,
          region_code=row.region_code, ip=ip, requester=row.requested_by_name, note=row.decision_note)
    return row


def downloadable(row: ExportRequest, subject: Subject) -> bool:
    return (row.status == ExportStatus.approved and row.requested_by_id == subject.id
            and row.expires_at is not None and row.expires_at > now() and row.downloads < MAX_DOWNLOADS)


def download(session: Session, subject: Subject, export_id: int, ip: str = "") -> tuple[ExportRequest, Path]:
    row = repo.export_request(session, subject, export_id)
    if row.requested_by_id != subject.id:
        raise Forbidden(_("只有申请人本人可以下载该导出文件"))
    if row.status != ExportStatus.approved:
        raise Conflict(_("该申请尚未获批准，不能下载"))
    if row.expires_at is None or row.expires_at <= now():
        raise Conflict(_("下载期限已过，请重新申请"))
    if row.downloads >= MAX_DOWNLOADS:
        raise Conflict(_("已下载 {n} 次，达到上限；如需再次导出请重新申请", n=row.downloads))
    path = write_csv(session, subject, row.kind, row.filters, masked=False)
    row.downloads += 1
    row.last_downloaded_at = now()
    audit(session, "personal.export_download", actor_id=subject.id, actor_name=subject.display_name,
          target_type="export_request", target_id=row.id, region_code=row.region_code, ip=ip, kind=row.kind,
          filters=row.filters, download=row.downloads)
    return row, path


def withdraw(session: Session, subject: Subject, export_id: int) -> ExportRequest:
    row = repo.export_request(session, subject, export_id)
    if row.requested_by_id != subject.id:
        raise Forbidden(_("只有申请人本人可以撤回申请"))
    if row.status != ExportStatus.pending:
        raise Conflict(_("该申请已处理（{s}）", s=row.status.value))
    row.status = ExportStatus.withdrawn
    return row


def iter_file(path: Path) -> Iterator[bytes]:
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 16):
            yield chunk


