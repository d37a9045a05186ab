"""Use cases of categories and responsibility rules, and routing: where an appeal goes and by when."""

from collections.abc import Iterable

from sqlalchemy.orm import Session

from zhili.access import can_see_region
from zhili.auth import audit
from zhili.auth.subject import Subject
from zhili.category import repository as repo
from zhili.category.schemas import (
    CategoryCreate,
    CategoryDetail,
    CategoryOut,
    CategoryUpdate,
    DeadlineIn,
    DeadlineOut,
    RoutingOut,
    RuleCreate,
    RuleOut,
    RuleUpdate,
)
from zhili.errors import Conflict, FieldProblem, Forbidden, Invalid
from zhili.jurisdiction import repository as jrepo
from zhili.jurisdiction.schemas import DepartmentRef
from zhili.jurisdiction.service import require_admin, require_manages
from zhili.kit.calendar import Limit
from zhili.kit.codes import LEVEL_DEPTH, RegionLevel
from zhili.kit.i18n import _
from zhili.models import (
    Category,
    CategoryDeadline,
    CategoryKind,
    Department,
    Region,
    ResponsibilityRule,
    RuleAssist,
    Stage,
    Urgency,
)


def check_limit(text: str) -> str | None:
    try:
        Limit.parse(text)
    except ValueError:
        return _("时限应写作数量加单位：4wh（工作时）、15wd（工作日）、2h（自然小时）")
    return None


def limit_label(text: str) -> str:
    return Limit.parse(text).label()


def _dept_ref(d: Department | None) -> DepartmentRef | None:
    return DepartmentRef(id=d.id, code=d.code, name=d.name) if d else None


def require_catalogue_admin(subject: Subject) -> None:
    """The category tree is the deployment's own configuration: kept by its top-level admins."""
    require_admin(subject)
    if subject.region_level not in (RegionLevel.city, RegionLevel.county):
        raise Forbidden(_("事项分类由市、县（区）级系统管理员维护"))


# Categories ------------------------------------------------------------------------------------


def category_out(c: Category, has_children: bool, parent_code: str | None) -> CategoryOut:
    return CategoryOut(id=c.id, code=c.code, name=c.name, kind=c.kind, parent_code=parent_code, depth=c.depth,
                       leaf=not has_children, public=c.public, active=c.active,
                       default_department=_dept_ref(c.default_department))


def category_outs(session: Session, rows: list[Category]) -> list[CategoryOut]:
    parents = repo.with_children(session, [c.id for c in rows])
    codes = repo.codes_of(session, [c.parent_id for c in rows if c.parent_id])
    return [category_out(c, c.id in parents, codes.get(c.parent_id) if c.parent_id else None) for c in rows]


def effective_deadlines(session: Session, category: Category) -> list[DeadlineOut]:
    """Each (urgency, stage) from the category itself or its nearest ancestor that sets it."""
    chain = [*category.ancestor_ids, category.id]
    by_cat: dict[int, list[CategoryDeadline]] = {}
    for d in repo.deadlines_of(session, chain):
        by_cat.setdefault(d.category_id, []).append(d)
    codes = repo.codes_of(session, chain)
    out: dict[tuple[Urgency, Stage], DeadlineOut] = {}
    for cid in chain:  # root first: nearer nodes overwrite
        for d in by_cat.get(cid, []):
            out[(d.urgency, d.stage)] = DeadlineOut(
                urgency=d.urgency, stage=d.stage, limit=d.limit, label=limit_label(d.limit),
                inherited_from=None if cid == category.id else codes[cid])
    return [out[k] for k in sorted(out, key=lambda k: (list(Urgency).index(k[0]), list(Stage).index(k[1])))]


def category_detail(session: Session, category: Category) -> CategoryDetail:
    base = category_outs(session, [category])[0]
    codes = repo.codes_of(session, category.ancestor_ids)
    return CategoryDetail(**base.model_dump(), description=category.description,
                          path=[codes[i] for i in category.ancestor_ids],
                          deadlines=effective_deadlines(session, category))


def _department(session: Session, code: str | None, field: str) -> tuple[Department | None, list[FieldProblem]]:
    if not code:
        return None, []
    dept = repo.department_by_code(session, code)
    if dept is None:
        return None, [FieldProblem(field, _("部门 {c} 不存在", c=code))]
    return dept, []


def _set_deadlines(category: Category, deadlines: Iterable[DeadlineIn]) -> None:
    seen: dict[tuple[Urgency, Stage], str] = {}
    for d in deadlines:
        seen[(d.urgency, d.stage)] = d.limit
    category.deadlines = [CategoryDeadline(urgency=u, stage=s, limit=limit) for (u, s), limit in seen.items()]


def add_category(session: Session, parent: Category | None, code: str, name: str, kind: CategoryKind,
                 department: Department | None = None, *, public: bool = True, description: str = "",
                 sort: int = 0) -> Category:
    category = Category(code=code, name=name, kind=kind, parent=parent, parent_id=parent.id if parent else None,
                        depth=parent.depth + 1 if parent else 0, default_department=department,
                        default_department_id=department.id if department else None, public=public,
                        description=description, sort=sort)
    session.add(category)
    session.flush()
    category.path = f"{parent.path if parent else '/'}{category.id}/"
    return category


def create_category(session: Session, subject: Subject, data: CategoryCreate) -> Category:
    require_catalogue_admin(subject)
    if repo.category_by_code(session, data.code):
        raise Conflict(_("分类编码 {c} 已存在", c=data.code))
    problems: list[FieldProblem] = []
    parent = None
    if data.parent_code:
        parent = repo.category_by_code(session, data.parent_code)
        if parent is None:
            problems.append(FieldProblem("parent_code", _("上级分类 {c} 不存在", c=data.parent_code)))
    dept, more = _department(session, data.default_department_code, "default_department_code")
    problems += more
    if problems:
        raise Invalid(problems[0].problem, problems)
    category = add_category(session, parent, data.code, data.name, data.kind, dept, public=data.public,
                            description=data.description)
    _set_deadlines(category, data.deadlines)
    session.flush()
    audit.record(session, "category.create", actor_id=subject.id, actor_name=subject.name,
                 target_type="category", target_id=category.code, region_code=subject.region_code)
    return category


def update_category(session: Session, subject: Subject, code: str, data: CategoryUpdate) -> Category:
    require_catalogue_admin(subject)
    category = repo.category(session, subject, code)
    fields = data.model_fields_set
    if "default_department_code" in fields:
        dept, problems = _department(session, data.default_department_code, "default_department_code")
        if problems:
            raise Invalid(problems[0].problem, problems)
        category.default_department, category.default_department_id = dept, dept.id if dept else None
    for key in ("name", "description", "public", "active"):
        if getattr(data, key) is not None:
            setattr(category, key, getattr(data, key))
    if data.deadlines is not None:
        _set_deadlines(category, data.deadlines)
    session.flush()
    audit.record(session, "category.update", actor_id=subject.id, actor_name=subject.name,
                 target_type="category", target_id=category.code, region_code=subject.region_code,
                 fields=sorted(fields))
    return category


# Responsibility rules --------------------------------------------------------------------------


def rule_out(r: ResponsibilityRule) -> RuleOut:
    return RuleOut(id=r.id, category_code=r.category.code, category_name=r.category.name,
                   region_code=r.region.code, region_name=r.region.name,
                   lead_department=DepartmentRef(id=r.lead_department.id, code=r.lead_department.code,
                                                 name=r.lead_department.name),
                   assist_departments=[DepartmentRef(id=a.department.id, code=a.department.code,
                                                     name=a.department.name) for a in r.assists],
                   note=r.note, active=r.active)


def _rule_departments(session: Session, subject: Subject, lead_code: str | None,
                      assist_codes: list[str] | None) -> tuple[Department | None, list[Department], list[FieldProblem]]:
    problems: list[FieldProblem] = []
    lead = None
    if lead_code is not None:
        lead = jrepo.department_by_code(session, subject, lead_code)
        if lead is None:
            problems.append(FieldProblem("lead_department_code",
                                         _("部门 {c} 不存在或不在您的管辖范围内", c=lead_code)))
    assists: list[Department] = []
    for code in assist_codes or []:
        dept = jrepo.department_by_code(session, subject, code)
        if dept is None:
            problems.append(FieldProblem("assist_department_codes",
                                         _("部门 {c} 不存在或不在您的管辖范围内", c=code)))
        elif dept not in assists and (lead is None or dept.id != lead.id):
            assists.append(dept)
    return lead, assists, problems


def create_rule(session: Session, subject: Subject, data: RuleCreate) -> ResponsibilityRule:
    require_manages(subject, data.region_code)
    problems: list[FieldProblem] = []
    category = repo.category_by_code(session, data.category_code)
    if category is None:
        problems.append(FieldProblem("category_code", _("分类 {c} 不存在", c=data.category_code)))
    region = jrepo.region_by_code(session, data.region_code)
    if region is None:
        problems.append(FieldProblem("region_code", _("区划 {c} 不存在", c=data.region_code)))
    lead, assists, more = _rule_departments(session, subject, data.lead_department_code,
                                            data.assist_department_codes)
    problems += more
    if problems or category is None or region is None or lead is None:
        raise Invalid(problems[0].problem, problems)
    existing = [r for r in repo.candidate_rules(session, [category.id], [region.code])]
    if existing:
        raise Conflict(_("{r}已有“{c}”的派单规则（#{id}），请修改那一条", r=region.name, c=category.name,
                         id=existing[0].id))
    rule = ResponsibilityRule(category=category, category_id=category.id, region=region, region_id=region.id,
                              lead_department=lead, lead_department_id=lead.id, note=data.note,
                              assists=[RuleAssist(department_id=d.id, department=d) for d in assists])
    session.add(rule)
    session.flush()
    audit.record(session, "rule.create", actor_id=subject.id, actor_name=subject.name, target_type="rule",
                 target_id=rule.id, region_code=region.code, category=category.code, lead=lead.code)
    return rule


def update_rule(session: Session, subject: Subject, rule_id: int, data: RuleUpdate) -> ResponsibilityRule:
    rule = repo.rule(session, subject, rule_id)
    require_manages(subject, rule.region.code)
    lead, assists, problems = _rule_departments(session, subject, data.lead_department_code,
                                                data.assist_department_codes)
    if problems:
        raise Invalid(problems[0].problem, problems)
    if lead is not None:
        rule.lead_department, rule.lead_department_id = lead, lead.id
    if data.assist_department_codes is not None:
        rule.assists = [RuleAssist(department_id=d.id, department=d) for d in assists
                        if d.id != rule.lead_department_id]
    if data.note is not None:
        rule.note = data.note
    if data.active is not None:
        rule.active = data.active
    session.flush()
    audit.record(session, "rule.update", actor_id=subject.id, actor_name=subject.name, target_type="rule",
                 target_id=rule.id, region_code=rule.region.code, fields=sorted(data.model_fields_set))
    return rule


# Routing ---------------------------------------------------------------------------------------


def _region_chain(region: Region) -> list[Region]:
    """The region and every region above it (load them first with jurisdiction.repository.load_regions,
    and walking `parent` reads the session, not the database)."""
    chain = [region]
    while chain[-1].parent is not None:
        chain.append(chain[-1].parent)  # type: ignore[arg-type]
    return chain


def _best_rule(session: Session, category: Category, region: Region) -> ResponsibilityRule | None:
    """The most specific active rule: the deepest region first (a town's own list overrides the county's),
    then the deepest category."""
    cat_chain = [*category.ancestor_ids, category.id]
    rules = repo.candidate_rules(session, cat_chain, [r.code for r in _region_chain(region)])
    if not rules:
        return None
    return max(rules, key=lambda r: (LEVEL_DEPTH[RegionLevel(r.region.level)], cat_chain.index(r.category_id)))


def _default_owner(category: Category) -> Category | None:
    """The nearest category up the tree that names a default department."""
    node: Category | None = category
    while node is not None and node.default_department is None:
        node = node.parent
    return node


def suggested_lead(session: Session, category: Category, region: Region) -> Department | None:
    """The lead department `route` would name, without the rest of its answer (the intake path)."""
    rule = _best_rule(session, category, region)
    if rule is not None:
        return rule.lead_department
    owner = _default_owner(category)
    return owner.default_department if owner else None


def route(session: Session, category: Category, region: Region, urgency: Urgency = Urgency.normal) -> RoutingOut:
    """Where an appeal goes and by when: the best rule, else the nearest default department up the
    category tree."""
    best = _best_rule(session, category, region)
    deadlines = [d for d in effective_deadlines(session, category) if d.urgency == urgency]
    if best is not None:
        out = rule_out(best)
        return RoutingOut(category_code=category.code, region_code=region.code, urgency=urgency,
                          lead_department=out.lead_department, assist_departments=out.assist_departments,
                          rule_id=best.id, deadlines=deadlines,
                          reason=_("按派单规则 #{id}（{r} · {c}）", id=best.id, r=best.region.name,
                                   c=best.category.name))
    node = _default_owner(category)
    lead = node.default_department if node else None
    reason = (_("按分类“{c}”的默认责任部门", c=node.name) if node and lead
              else _("没有派单规则，分类也未设默认部门：需要人工派遣"))
    return RoutingOut(category_code=category.code, region_code=region.code, urgency=urgency,
                      lead_department=_dept_ref(lead), assist_departments=[], rule_id=None, reason=reason,
                      deadlines=deadlines)


def preview(session: Session, subject: Subject, category_code: str, region_code: str,
            urgency: Urgency) -> RoutingOut:
    category = repo.category(session, subject, category_code)
    region = jrepo.region(session, subject, region_code)
    return route(session, category, region, urgency)


def can_manage_rule(subject: Subject, rule: ResponsibilityRule) -> bool:
    return can_see_region(subject, rule.region.code)
