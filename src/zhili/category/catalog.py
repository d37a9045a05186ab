"""The standard catalogue every deployment starts from: the 12345 appeal kinds crossed with subject areas,
and the GB/T 30428 部件 (components) and 事件 (events) with their time limits.

It is configuration, not truth: admins edit names, limits and owners afterwards. Limits are texts
understood by `zhili.kit.calendar.Limit`: "4wh" working hours, "15wd" working days, "2h" natural hours.
Major and minor numbers follow GB/T 30428 where DESIGN.md cites them (0101 上水井盖, 0102 污水井盖, 事件
major classes 01–05, 市容环境 minors 01–06); the other minor numbers are this catalogue's own.
"""

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from zhili.models import Urgency

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from zhili.models import Category, Region

# (sign, handle, verify, callback) per urgency.
Limits = dict[Urgency, tuple[str, str, str, str]]


def _limits(normal_handle: str, urgent_handle: str, critical_handle: str) -> Limits:
    return {
        Urgency.normal: ("4wh", normal_handle, "1wd", "2wd"),
        Urgency.urgent: ("2wh", urgent_handle, "4wh", "1wd"),
        Urgency.critical: ("1h", critical_handle, "2h", "8h"),
    }


@dataclass(frozen=True)
class Node:
    code: str
    name: str
    kind: str  # CategoryKind value
    department: str | None = None  # default department, by name (resolved against the county's)
    limits: Limits | None = None  # None: inherited from the nearest ancestor that has them
    public: bool = True
    children: list["Node"] = field(default_factory=list)


# 12345: kinds × subject areas ---------------------------------------------------------------------

APPEAL_KINDS = [  # code, name, limits of the whole kind
    ("ZX", "咨询", _limits("1wd", "4wh", "2h")),
    ("QZ", "求助", _limits("3wd", "1wd", "4h")),
    ("TS", "投诉", _limits("5wd", "2wd", "24h")),
    ("JB", "举报", _limits("10wd", "3wd", "24h")),
    ("JY", "建议", _limits("15wd", "5wd", "48h")),
    ("BY", "表扬", _limits("3wd", "2wd", "24h")),
]

SUBJECT_AREAS = [  # code, name, default department
    ("CXJS", "城乡建设", "县住房和城乡建设局"),
    ("SRGL", "市容城管", "县综合行政执法局"),
    ("HJBH", "环境保护", "市生态环境局临溪分局"),
    ("JTYS", "交通运输", "县交通运输局"),
    ("DLJT", "道路交通安全", "县公安局交通警察大队"),
    ("SHZA", "社会治安", "县公安局"),
    ("LDBZ", "劳动和社会保障", "县人力资源和社会保障局"),
    ("JYWT", "教育文体", "县教育局"),
    ("WSJK", "卫生健康", "县卫生健康局"),
    ("SCJG", "市场监管", "县市场监督管理局"),
    ("GS", "供水排水", "临溪水务集团有限公司"),
    ("GD", "供电", "国网临溪县供电公司"),
    ("RQ", "燃气", "临溪港华燃气有限公司"),
    ("MZ", "民政养老", "县民政局"),
    ("NYNC", "农业农村", "县农业农村局"),
    ("ZRZY", "自然资源", "县自然资源和规划局"),
    ("YJAQ", "应急安全", "县应急管理局"),
    ("YB", "医疗保障", "县医疗保障局"),
    ("WLTY", "文化旅游", "县文化和广电旅游体育局"),
    ("TX", "通信网络", "中国电信临溪分公司"),
]


def _hotline() -> Node:
    kinds = [
        Node(f"12345.{k}", name, "group", limits=limits, children=[
            Node(f"12345.{k}.{a}", f"{name}·{area}", "appeal", department=dept) for a, area, dept in SUBJECT_AREAS
        ])
        for k, name, limits in APPEAL_KINDS
    ]
    return Node("12345", "12345 热线诉求", "group", children=kinds)


# GB/T 30428: components (部件) -------------------------------------------------------------------

COMPONENTS = [  # major code, major name, [(minor code, name, department)], handle limit
    ("01", "公用设施", [
        ("01", "上水井盖", "临溪水务集团有限公司"), ("02", "污水井盖", "县住房和城乡建设局"),
        ("03", "雨水井盖", "县住房和城乡建设局"), ("04", "雨水箅子", "县住房和城乡建设局"),
        ("05", "电力井盖", "国网临溪县供电公司"), ("06", "路灯井盖", "县住房和城乡建设局"),
        ("07", "通信井盖", "中国电信临溪分公司"), ("08", "燃气井盖", "临溪港华燃气有限公司"),
        ("09", "消防栓", "县消防救援大队"), ("10", "路灯", "县住房和城乡建设局"),
    ], "3wd"),
    ("02", "道路交通", [
        ("01", "公交站亭", "县交通运输局"), ("02", "交通信号灯", "县公安局交通警察大队"),
        ("03", "交通标志牌", "县公安局交通警察大队"), ("04", "道路护栏", "县交通运输局"),
        ("05", "路名牌", "县自然资源和规划局"), ("06", "停车泊位", "县综合行政执法局"),
    ], "3wd"),
    ("03", "市容环境", [
        ("01", "公共厕所", "县综合行政执法局"), ("02", "垃圾箱", "县综合行政执法局"),
        ("03", "垃圾收集站", "县综合行政执法局"), ("04", "户外广告设施", "县综合行政执法局"),
    ], "2wd"),
    ("04", "园林绿化", [
        ("01", "古树名木", "县自然资源和规划局"), ("02", "行道树", "县住房和城乡建设局"),
        ("03", "绿地", "县住房和城乡建设局"), ("04", "护树设施", "县住房和城乡建设局"),
    ], "5wd"),
]

# GB/T 30428: events (事件) with the time limits of their minor classes --------------------------------

EVENTS = [  # major code, major name, [(minor code, name, department, normal handle limit)]
    ("01", "市容环境", [
        ("01", "私搭乱建", "县综合行政执法局", "15wd"), ("02", "暴露垃圾", "县综合行政执法局", "4wh"),
        ("03", "积存垃圾渣土", "县综合行政执法局", "1wd"), ("04", "道路不洁", "县综合行政执法局", "5wh"),
        ("05", "水域不洁", "县水利局", "1wd"), ("06", "绿地脏乱", "县住房和城乡建设局", "1wd"),
    ]),
    ("02", "宣传广告", [
        ("01", "非法小广告", "县综合行政执法局", "1wd"), ("02", "违规户外广告", "县综合行政执法局", "5wd"),
        ("03", "占道广告牌", "县综合行政执法局", "2wd"),
    ]),
    ("03", "施工管理", [
        ("01", "施工扰民", "县住房和城乡建设局", "1wd"), ("02", "工地扬尘", "市生态环境局临溪分局", "1wd"),
        ("03", "道路遗撒", "县综合行政执法局", "4wh"), ("04", "无证掘路", "县住房和城乡建设局", "1wd"),
    ]),
    ("04", "街面秩序", [
        ("01", "无照经营游商", "县综合行政执法局", "4wh"), ("02", "店外经营", "县综合行政执法局", "4wh"),
        ("03", "机动车乱停放", "县公安局交通警察大队", "4wh"), ("04", "非机动车乱停放", "县综合行政执法局", "4wh"),
        ("05", "露天烧烤", "县综合行政执法局", "4wh"), ("06", "占道废品收购", "县综合行政执法局", "1wd"),
    ]),
    ("05", "突发事件", [
        ("01", "路面塌陷", "县住房和城乡建设局", "2h"), ("02", "自来水管破裂", "临溪水务集团有限公司", "2h"),
        ("03", "燃气管道破裂", "临溪港华燃气有限公司", "1h"), ("04", "下水道堵塞或破损", "县住房和城乡建设局", "4wh"),
        ("05", "道路积水", "县住房和城乡建设局", "2h"), ("06", "火灾", "县消防救援大队", "1h"),
    ]),
]


def _scaled(handle: str) -> Limits:
    """Urgent halves the normal handling time; critical answers within natural hours."""
    amount, unit = float(handle.rstrip("whd")), handle.lstrip("0123456789.")
    urgent = f"{amount / 2:g}{unit}" if amount >= 2 else handle
    critical = urgent if unit == "h" else ("2h" if unit == "wh" else "24h")
    return _limits(handle, urgent, critical)


def _city_management() -> list[Node]:
    components = Node("C", "城市管理部件", "group", children=[
        Node(f"C{major}", name, "group", limits=_scaled(limit), children=[
            Node(f"C{major}{minor}", minor_name, "component", department=dept) for minor, minor_name, dept in minors
        ])
        for major, name, minors, limit in COMPONENTS
    ])
    events = Node("E", "城市管理事件", "group", children=[
        Node(f"E{major}", name, "group", children=[
            Node(f"E{major}{minor}", minor_name, "event", department=dept, limits=_scaled(limit))
            for minor, minor_name, dept, limit in minors
        ])
        for major, name, minors in EVENTS
    ])
    return [components, events]


def standard_catalogue() -> list[Node]:
    return [_hotline(), *_city_management()]


# Responsibility rules of the demo: (category code, region code or "towns", lead, assists).
# "towns": one rule per town, lead resolved to that town's department whose name ends with the suffix.
DEMO_RULES = [
    ("12345.TS.SHZA", "towns", "派出所", []),
    ("12345.JB.SHZA", "towns", "派出所", []),
    ("12345.QZ.SHZA", "towns", "派出所", []),
    ("E0503", "339922000000", "临溪港华燃气有限公司", ["县应急管理局", "县消防救援大队"]),
    ("E0501", "339922000000", "县住房和城乡建设局", ["县公安局交通警察大队"]),
    ("E0506", "339922000000", "县消防救援大队", ["县应急管理局"]),
]

# Service attributes of the demo (Open311 service definitions): what an outside channel is asked for.
WELL_COVER: list[dict[str, object]] = [
    {"code": "WELL_DAMAGE", "datatype": "singlevaluelist", "required": True, "description": "井盖是什么情况？",
     "values": [{"key": "missing", "name": "井盖缺失"}, {"key": "broken", "name": "破损或裂开"},
                {"key": "loose", "name": "松动、有异响"}, {"key": "uneven", "name": "下沉或凸起"}]},
    {"code": "WELL_TYPE", "datatype": "singlevaluelist", "description": "井盖是什么形状？",
     "datatype_description": "看不清可不填",
     "values": [{"key": "round", "name": "圆形"}, {"key": "square", "name": "方形"},
                {"key": "grate", "name": "格栅（箅子）"}]},
]
DEMO_ATTRIBUTES: dict[str, list[dict[str, object]]] = {
    **{f"C01{minor:02d}": WELL_COVER for minor in range(1, 9)},  # 上水井盖 … 燃气井盖
    "C0110": [  # 路灯
        {"code": "LAMP_FAULT", "datatype": "singlevaluelist", "required": True, "description": "路灯是什么问题？",
         "values": [{"key": "off", "name": "夜间不亮"}, {"key": "day", "name": "白天常亮"},
                    {"key": "flicker", "name": "闪烁"}, {"key": "damaged", "name": "灯杆倾斜或破损"}]},
        {"code": "POLE_NUMBER", "datatype": "string", "description": "灯杆编号",
         "datatype_description": "灯杆上喷涂的编号，例如 LX-0231；找不到可不填"},
    ],
    "E0301": [  # 施工扰民
        {"code": "NOISE_TIME", "datatype": "multivaluelist", "required": True, "description": "噪声出现在哪些时段？",
         "values": [{"key": "day", "name": "白天（06:00–22:00）"}, {"key": "noon", "name": "午休（12:00–14:00）"},
                    {"key": "night", "name": "夜间（22:00–次日 06:00）"}]},
        {"code": "NOISE_SINCE", "datatype": "datetime", "description": "从什么时候开始？",
         "datatype_description": "例如 2026-11-20T22:30:00+08:00"},
    ],
    "E0503": [  # 燃气管道破裂
        {"code": "GAS_SAFETY", "datatype": "string", "variable": False,
         "description": "闻到燃气味请立即远离，不要开关电器或使用明火，并拨打 119 或燃气抢修电话"},
    ],
}


def install(session: "Session", county: "Region", *, demo_rules: bool = False) -> int:
    """Write the standard catalogue under an empty category table; owners are the county's departments
    of the same name (a department missing from this county leaves the category without a default).
    `demo_rules` adds the demo's responsibility rules and service attributes. Returns the number of
    categories written."""
    from sqlalchemy import select

    from zhili.category.attributes import add_attribute
    from zhili.category.schemas import AttributeCreate
    from zhili.category.service import add_category
    from zhili.models import CategoryDeadline, CategoryKind, Department, Region, ResponsibilityRule, RuleAssist, Stage

    by_name = {d.name: d for d in session.scalars(select(Department).where(Department.region_id == county.id))}
    count = 0

    def write(node: Node, parent: "Category | None", sort: int) -> None:
        nonlocal count
        category = add_category(session, parent, node.code, node.name, CategoryKind(node.kind),
                                by_name.get(node.department or ""), public=node.public, sort=sort)
        count += 1
        if node.limits:
            category.deadlines = [CategoryDeadline(urgency=urgency, stage=stage, limit=limit)
                                  for urgency, limits in node.limits.items()
                                  for stage, limit in zip(Stage, limits, strict=True)]
        for i, child in enumerate(node.children):
            write(child, category, i)

    for i, root in enumerate(standard_catalogue()):
        write(root, None, i)
    session.flush()
    if demo_rules:
        from zhili.models import Category

        towns = list(session.scalars(select(Region).where(Region.parent_id == county.id).order_by(Region.code)))
        for code, where, lead_name, assist_names in DEMO_RULES:
            category = session.scalar(select(Category).where(Category.code == code))
            assert category is not None, code
            targets: list[tuple[Region, Department | None]] = []
            if where == "towns":
                for town in towns:
                    lead = session.scalar(select(Department).where(Department.region_id == town.id,
                                                                   Department.name.endswith(lead_name)))
                    targets.append((town, lead))
            else:
                targets.append((county, by_name.get(lead_name)))
            for region, lead in targets:
                if lead is None:
                    continue
                session.add(ResponsibilityRule(
                    category_id=category.id, region_id=region.id, lead_department_id=lead.id,
                    assists=[RuleAssist(department_id=by_name[n].id) for n in assist_names if n in by_name]))
        for code, attributes in DEMO_ATTRIBUTES.items():
            category = session.scalar(select(Category).where(Category.code == code))
            assert category is not None, code
            for attribute in attributes:
                add_attribute(session, category, AttributeCreate.model_validate(attribute))
        session.flush()
    return count
