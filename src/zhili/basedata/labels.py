"""The Chinese names of base-data choices and fields (translated where shown)."""

from typing import Final

from zhili.kit.i18n import N_
from zhili.models.basedata import AddressLevel, ChangeAction, ExportStatus, HouseUse, PlaceKind, ResidentKind, UnitKind

LEVEL_LABELS: Final = {
    AddressLevel.road: N_("街路巷/村组"), AddressLevel.building: N_("楼栋/门牌"),
    AddressLevel.unit: N_("单元"), AddressLevel.room: N_("户室"),
}
USE_LABELS: Final = {
    HouseUse.residential: N_("住宅"), HouseUse.commercial: N_("商业"), HouseUse.office: N_("办公"),
    HouseUse.industrial: N_("厂房仓储"), HouseUse.mixed: N_("商住混合"), HouseUse.other: N_("其他"),
}
RESIDENT_KIND_LABELS: Final = {
    ResidentKind.registered: N_("户籍人口"), ResidentKind.floating: N_("流动人口"),
    ResidentKind.overseas: N_("境外人员"), ResidentKind.left_behind: N_("留守人员"),
}
UNIT_KIND_LABELS: Final = {
    UnitKind.enterprise: N_("企业"), UnitKind.shop: N_("个体工商户"), UnitKind.institution: N_("事业单位"),
    UnitKind.government: N_("机关"), UnitKind.social_org: N_("社会组织"), UnitKind.other: N_("其他"),
}
PLACE_KIND_LABELS: Final = {
    PlaceKind.school: N_("学校"), PlaceKind.hospital: N_("医院"), PlaceKind.scenic: N_("景区"),
    PlaceKind.water: N_("水域"), PlaceKind.market: N_("市场"), PlaceKind.hazardous: N_("危化品场所"),
    PlaceKind.venue: N_("人员密集场所"), PlaceKind.other: N_("其他"),
}
ACTION_LABELS: Final = {
    ChangeAction.create: N_("新建"), ChangeAction.update: N_("修改"), ChangeAction.merge: N_("合并重复记录"),
    ChangeAction.merged: N_("被合并"), ChangeAction.delete: N_("删除"),
}
EXPORT_STATUS_LABELS: Final = {
    ExportStatus.pending: N_("待审批"), ExportStatus.approved: N_("已批准"), ExportStatus.denied: N_("未批准"),
    ExportStatus.withdrawn: N_("已撤回"),
}
ENTITY_LABELS: Final = {
    "address": N_("地址"), "house": N_("房屋"), "resident": N_("人口"), "unit": N_("单位"), "place": N_("场所"),
}
GENDER_LABELS: Final = {"M": N_("男"), "F": N_("女")}
# Every field a history entry may name (other areas' fields show under their own names).
FIELD_LABELS: Final = {
    "name": N_("名称/姓名"), "level": N_("层级"), "full_name": N_("完整地址"), "parent_id": N_("上级地址"),
    "area_code": N_("所属网格/社区"), "grid_id": N_("网格"), "lon": N_("经度"), "lat": N_("纬度"),
    "address_id": N_("地址"), "use": N_("用途"), "owner_name": N_("房主"), "owner_phone": N_("房主电话"),
    "floor_area_m2": N_("面积（㎡）"), "rented": N_("出租屋"), "group_rental": N_("群租房"), "note": N_("备注"),
    "id_number": N_("身份证号"), "gender": N_("性别"), "birth_date": N_("出生日期"), "phone": N_("电话"),
    "kind": N_("类型"), "house_id": N_("房屋"), "household_head": N_("户主"), "relation": N_("与户主关系"),
    "ethnicity": N_("民族"), "origin": N_("户籍地"), "nationality": N_("国籍"), "workplace": N_("工作单位"),
    "moved_out_on": N_("迁出日期"), "merged_into_id": N_("合并到"), "credit_code": N_("统一社会信用代码"),
    "legal_person": N_("法定代表人"), "employees": N_("从业人数"), "geometry": N_("位置/范围"),
    "manager": N_("负责人"), "capacity": N_("容纳人数"), "merged_from": N_("合并自"),
    "address": N_("地址"), "grid_code": N_("网格编码"),
}
