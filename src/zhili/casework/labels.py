"""Labels, statutory limits and the small clock helpers both kinds of case share."""

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from zhili.kit.i18n import N_
from zhili.kit.time import now
from zhili.models import (
    DisputeCategory,
    DisputeScale,
    DisputeStatus,
    MediationLevel,
    PetitionForm,
    PetitionStatus,
)

LOCAL_TZ = ZoneInfo("Asia/Shanghai")

SCALE_LABELS = {DisputeScale.general: N_("一般"), DisputeScale.large: N_("较大"), DisputeScale.major: N_("重大")}
CATEGORY_LABELS = {
    DisputeCategory.family: N_("婚姻家庭"), DisputeCategory.neighbour: N_("邻里纠纷"),
    DisputeCategory.land: N_("山林土地"), DisputeCategory.property: N_("物业纠纷"),
    DisputeCategory.contract: N_("合同纠纷"), DisputeCategory.labour: N_("劳动争议"),
    DisputeCategory.damages: N_("损害赔偿"), DisputeCategory.demolition: N_("征地拆迁"),
    DisputeCategory.environment: N_("环境污染"), DisputeCategory.medical: N_("医疗纠纷"),
    DisputeCategory.business: N_("生产经营"), DisputeCategory.other: N_("其他纠纷"),
}
LEVEL_LABELS = {MediationLevel.village: N_("村（居）调委会"), MediationLevel.town: N_("乡镇（街道）综治中心"),
                MediationLevel.county: N_("县矛盾纠纷调处化解中心")}
DISPUTE_STATUS_LABELS = {
    DisputeStatus.registered: N_("待调解"), DisputeStatus.mediating: N_("调解中"),
    DisputeStatus.resolved: N_("调解成功"), DisputeStatus.failed: N_("调解不成"), DisputeStatus.closed: N_("已结案"),
}
FORM_LABELS = {PetitionForm.letter: N_("来信"), PetitionForm.visit: N_("来访"), PetitionForm.online: N_("网上信访")}
PETITION_STATUS_LABELS = {
    PetitionStatus.received: N_("待受理"), PetitionStatus.not_accepted: N_("不予受理"),
    PetitionStatus.accepted: N_("办理中"), PetitionStatus.answered: N_("已答复"), PetitionStatus.closed: N_("已办结"),
}
METHODS = (N_("人民调解"), N_("行政调解"), N_("司法调解"), N_("联合调解"), N_("引导诉讼"), N_("仲裁"))
SIDES = (N_("申请方"), N_("被申请方"), N_("第三人"))

# 化解时限 by scale, in natural days from registration: configuration, not law (人民调解法 leaves it to
# the committee; counties commonly give a general dispute a fortnight and a major one six weeks).
DISPUTE_DAYS = {DisputeScale.general: 15, DisputeScale.large: 30, DisputeScale.major: 45}
# 信访工作条例 (2022) arts. 24, 32, 33: 15 days to decide acceptance, 60 to handle, one extension ≤ 30.
ACCEPT_DAYS, HANDLE_DAYS, MAX_EXTENSION_DAYS = 15, 60, 30
# Five or more petitioners for the same matter make a collective petition (集体访).
COLLECTIVE = 5

EVENT_LABELS = {
    "register": N_("登记"), "add_party": N_("添加当事人"), "assign": N_("指派调解"), "session": N_("调解记录"),
    "resolve": N_("达成协议"), "fail": N_("调解不成"), "follow_up": N_("回访结案"), "escalate": N_("上报上级"),
    "flag_risk": N_("标记民转刑风险"), "clear_risk": N_("解除民转刑风险"), "accept": N_("受理"),
    "refuse": N_("不予受理"), "set_leader": N_("确定包案领导"), "extend": N_("延期"), "answer": N_("出具处理意见"),
    "close": N_("办结"), "schedule": N_("安排接访"), "list_key_person": N_("列为信访重点人员"),
}


def today() -> date:
    """The date where the platform's people are (deadlines are Beijing calendar days)."""
    return now().astimezone(LOCAL_TZ).date()


def colour(due: date | None, span_days: int, at: date | None = None) -> str:
    """green, yellow (a fifth of the time or less left) or red (past due); "" without a clock."""
    if due is None:
        return ""
    at = at or today()
    if at > due:
        return "red"
    if (due - at) <= timedelta(days=max(1, span_days // 5)):
        return "yellow"
    return "green"
