from dataclasses import dataclass, field
from enum import StrEnum

from zhili.errors import Forbidden
from zhili.kit.codes import RegionLevel, subtree_prefix
from zhili.kit.i18n import N_, _
from zhili.models import Role

# The roles of an account that works one or more grids and nothing above them.
GRID_ROLES = frozenset({Role.grid_worker, Role.grid_chief})

ROLE_LABELS = {
    Role.citizen: N_("群众"),
    Role.hotline_agent: N_("12345 坐席"),
    Role.dispatcher: N_("指挥中心派遣员"),
    Role.command_leader: N_("指挥长/值班长"),
    Role.department_handler: N_("职能部门处置员"),
    Role.grid_worker: N_("网格员"),
    Role.grid_chief: N_("网格长"),
    Role.mediator: N_("调解员"),
    Role.viewer: N_("领导"),
    Role.admin: N_("系统管理员"),
}


class SubjectKind(StrEnum):
    staff = "staff"
    api_key = "api_key"


@dataclass(frozen=True)
class Subject:
    """Who a request acts as: a staff account (session or token) or an outside system (API key).
    Built once per request; everything scoped reads `region_code` and `department_id` from here."""

    kind: SubjectKind
    id: int
    name: str
    display_name: str
    roles: frozenset[Role]
    region_id: int
    region_code: str
    region_level: RegionLevel
    region_name: str
    department_id: int | None = None
    department_name: str | None = None
    ancestor_codes: tuple[str, ...] = field(default=())
    # An outside system's allowed channels (the first is its own), and its requests-a-minute limit.
    channels: tuple[str, ...] = field(default=())
    rate_limit: int | None = None
    # The grids a grid worker or chief serves (GridMember); base data is scoped down to them.
    grid_codes: tuple[str, ...] = field(default=())

    @property
    def scope_prefix(self) -> str:
        return subtree_prefix(self.region_code)

    @property
    def grid_bound(self) -> bool:
        """A grid worker or chief with nothing more: sees the people and places of its own grids only."""
        return bool(self.grid_codes) and self.roles <= GRID_ROLES

    @property
    def owner_key(self) -> str:
        return f"{self.kind}:{self.id}"

    def has(self, *roles: Role) -> bool:
        return bool(self.roles.intersection(roles))

    def require(self, *roles: Role) -> None:
        if not self.has(*roles):
            names = "、".join(_(ROLE_LABELS[r]) for r in roles)
            raise Forbidden(_("此操作需要以下角色之一：{roles}", roles=names))
