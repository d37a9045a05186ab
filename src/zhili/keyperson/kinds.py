"""What each kind of key person records beyond the common fields (GB/T 31000-2015 特殊人群), and the
labels of kinds, risks and helpers. `clean_details` is the one validator both interfaces use."""

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from zhili.errors import FieldProblem, Invalid
from zhili.kit.i18n import N_, _
from zhili.models.keyperson import CheckInKind, HelperKind, KeyPersonKind, LeaveState, Risk, VisitKind, WarningKind

KIND_LABELS = {
    KeyPersonKind.released: N_("刑满释放人员"),
    KeyPersonKind.corrections: N_("社区矫正对象"),
    KeyPersonKind.mental: N_("严重精神障碍患者"),
    KeyPersonKind.drug: N_("吸毒人员"),
    KeyPersonKind.aids: N_("艾滋病危险人员"),
    KeyPersonKind.youth: N_("重点青少年"),
    KeyPersonKind.petition: N_("信访重点人员"),
}
RISK_LABELS = {Risk.green: N_("低风险（绿）"), Risk.yellow: N_("中风险（黄）"), Risk.red: N_("高风险（红）")}
HELPER_LABELS = {
    HelperKind.grid_worker: N_("网格员"),
    HelperKind.police: N_("民警"),
    HelperKind.cadre: N_("村（社区）干部"),
    HelperKind.family: N_("家属"),
    HelperKind.doctor: N_("医生"),
    HelperKind.social_worker: N_("社工"),
}
CHECKIN_LABELS = {CheckInKind.sign: N_("签到"), CheckInKind.locate: N_("定位")}
LEAVE_LABELS = {
    LeaveState.pending: N_("待审批"),
    LeaveState.approved: N_("已批准（外出中）"),
    LeaveState.rejected: N_("未批准"),
    LeaveState.returned: N_("已销假"),
    LeaveState.overdue: N_("逾期未归"),
}
WARNING_LABELS = {
    WarningKind.visit_overdue: N_("走访逾期"),
    WarningKind.checkin_missed: N_("漏签到/定位"),
    WarningKind.leave_overdue: N_("请假逾期未归"),
    WarningKind.risk_raised: N_("风险升为红色"),
}
VISIT_LABELS = {VisitKind.visit: N_("走访"), VisitKind.patrol: N_("巡查"), VisitKind.door_knock: N_("敲门走访")}


@dataclass(frozen=True)
class DetailField:
    """One kind-specific field: `kind` is text, choice, date or int (with `low`/`high`)."""

    name: str
    label: str
    kind: str = "text"
    required: bool = False
    choices: tuple[str, ...] = field(default=())
    low: int | None = None
    high: int | None = None
    hint: str = ""
    max_length: int = 200


_C = "choice"
DETAILS: dict[KeyPersonKind, tuple[DetailField, ...]] = {
    KeyPersonKind.released: (
        DetailField("crime", N_("原罪名"), required=True, max_length=100),
        DetailField("sentence", N_("原判刑期"), hint=N_("例如：3年6个月"), max_length=50),
        DetailField("released_on", N_("释放日期"), "date", required=True),
        DetailField("resettlement", N_("安置帮教情况"), max_length=500),
    ),
    KeyPersonKind.corrections: (
        DetailField("correction_type", N_("矫正类别"), _C, required=True,
                    choices=(N_("管制"), N_("缓刑"), N_("假释"), N_("暂予监外执行"))),
        DetailField("starts_on", N_("矫正起始日期"), "date", required=True),
        DetailField("ends_on", N_("矫正终止日期"), "date", required=True),
        DetailField("place", N_("执行地"), required=True, max_length=100),
    ),
    KeyPersonKind.mental: (
        DetailField("diagnosis", N_("诊断"), required=True, max_length=100),
        DetailField("guardian", N_("监护人"), max_length=50),
        DetailField("danger_level", N_("危险性评估"), "int", required=True, low=0, high=5,
                    hint=N_("0–5 级，3 级及以上为高风险")),
    ),
    KeyPersonKind.drug: (
        DetailField("drug_type", N_("吸毒类型"), _C, required=True,
                    choices=(N_("海洛因"), N_("冰毒"), N_("氯胺酮"), N_("大麻"), N_("其他"))),
        DetailField("rehab_status", N_("戒毒状态"), _C, required=True,
                    choices=(N_("社区戒毒"), N_("社区康复"), N_("强制隔离戒毒"), N_("戒断三年未复吸"), N_("其他"))),
    ),
    KeyPersonKind.aids: (
        DetailField("follow_up", N_("随访管理情况"), max_length=500),
    ),
    KeyPersonKind.youth: (
        DetailField("category", N_("类别"), _C, required=True,
                    choices=(N_("闲散青少年"), N_("有不良行为青少年"), N_("流浪乞讨未成年人"),
                             N_("服刑在教人员未成年子女"), N_("农村留守儿童"), N_("其他"))),
    ),
    KeyPersonKind.petition: (
        DetailField("summary", N_("诉求摘要"), required=True, max_length=500),
    ),
}


def clean_details(kind: KeyPersonKind, raw: dict[str, Any]) -> dict[str, Any]:
    """The kind's fields, checked and normalised (dates as ISO text, levels as int); unknown names and
    every problem are reported per field as `details.<name>`."""
    fields = {f.name: f for f in DETAILS[kind]}
    problems: list[FieldProblem] = []
    for name in raw:
        if name not in fields:
            problems.append(FieldProblem(f"details.{name}", _("{kind}没有这一项", kind=_(KIND_LABELS[kind]))))
    clean: dict[str, Any] = {}
    for f in fields.values():
        value = raw.get(f.name)
        text = "" if value is None else str(value).strip()
        where = f"details.{f.name}"
        if not text:
            if f.required:
                problems.append(FieldProblem(where, _("请填写{label}", label=_(f.label))))
            continue
        if len(text) > f.max_length:
            problems.append(FieldProblem(where, _("最多 {n} 个字符", n=f.max_length)))
        elif f.kind == "choice" and text not in f.choices:
            problems.append(FieldProblem(where, _("取值应为以下之一：{e}", e="、".join(f.choices))))
        elif f.kind == "date":
            try:
                clean[f.name] = date.fromisoformat(text).isoformat()
            except ValueError:
                problems.append(FieldProblem(where, _("日期格式应为 YYYY-MM-DD")))
            continue
        elif f.kind == "int":
            if not text.lstrip("-").isdigit() or not (f.low or 0) <= int(text) <= (f.high or 0):
                problems.append(FieldProblem(where, _("应为 {low}–{high} 的整数", low=f.low, high=f.high)))
            else:
                clean[f.name] = int(text)
            continue
        clean[f.name] = text
    if kind == KeyPersonKind.corrections and "starts_on" in clean and "ends_on" in clean \
            and clean["ends_on"] < clean["starts_on"]:
        problems.append(FieldProblem("details.ends_on", _("矫正终止日期不能早于起始日期")))
    if problems:
        raise Invalid(problems[0].problem if len(problems) == 1 else _("请更正以下问题"), problems)
    return clean


def detail_rows(kind: KeyPersonKind, details: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, value) for the detail page, in the kind's order."""
    return [(_(f.label), str(details[f.name]) if f.kind != _C else _(str(details[f.name])))
            for f in DETAILS[kind] if details.get(f.name) not in (None, "")]
