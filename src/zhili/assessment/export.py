"""The ledger as an Excel report a leader signs (openpyxl): title, period, ranking table with the
figures behind each rate, the formulas and weights underneath, printed landscape on one page wide."""

from io import BytesIO

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from zhili.assessment.kpi import HOURS_LABEL
from zhili.assessment.ledger import Ledger
from zhili.kit.i18n import _
from zhili.templating import local_time

THIN = Side(style="thin", color="B8C2CC")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
HEAD_FILL = PatternFill("solid", fgColor="E8EEF5")


def workbook(ledger: Ledger, title: str, dimension_label: str) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = _("考评排名")
    kpis = [k for k in ledger.kpis if any(k.key in r.figures for r in ledger.rows)] or list(ledger.kpis)
    headers = [_("排名"), dimension_label, _("综合得分"), _("名次变化"),
               *[_(k.label) for k in kpis], _("{label}（小时）", label=_(HOURS_LABEL))]
    width = len(headers)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    ws["A1"] = title
    ws["A1"].font = Font(size=16, bold=True)
    ws["A1"].alignment = Alignment(horizontal="center")
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=width)
    state = _("已关账（{t}，{who}）", t=local_time(ledger.snapshot.closed_at), who=ledger.snapshot.closed_by) \
        if ledger.snapshot else _("未关账，数据截至 {t}", t=local_time(ledger.as_of))
    ws["A2"] = _("考评期间：{p}　　{s}", p=ledger.period.label, s=state)
    ws["A2"].alignment = Alignment(horizontal="center")
    for col, text in enumerate(headers, 1):
        cell = ws.cell(row=4, column=col, value=text)
        cell.font, cell.fill, cell.border = Font(bold=True), HEAD_FILL, BOX
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for i, r in enumerate(ledger.rows, 5):
        values: list[object] = [r.rank if r.rank is not None else "—", r.name,
                                r.score if r.score is not None else "—",
                                "—" if r.change is None else f"{r.change:+d}" if r.change else "="]
        for k in kpis:
            f = r.figures.get(k.key)
            values.append(f.rate if f is not None and f.rate is not None else "—")
        values.append(r.hours if r.hours is not None else "—")
        for col, value in enumerate(values, 1):
            cell = ws.cell(row=i, column=col, value=value)
            cell.border = BOX
            cell.alignment = Alignment(horizontal="left" if col == 2 else "center")
            if 5 <= col < 5 + len(kpis) and isinstance(value, float):
                cell.number_format = "0.00%"
            if col == 3 and isinstance(value, float):
                cell.number_format = "0.00"
    row = 5 + len(ledger.rows) + 1
    ws.cell(row=row, column=1, value=_("指标口径")).font = Font(bold=True)
    for k in kpis:
        row += 1
        weight = ledger.weights.get(k.key, 0)
        ws.cell(row=row, column=1, value=_(k.label))
        ws.merge_cells(start_row=row, start_column=2, end_row=row, end_column=width)
        ws.cell(row=row, column=2, value=_("{f}　权重 {w}", f=_(k.formula), w=f"{weight:g}"))
    row += 2
    rule = _("综合得分 = Σ(权重 × 指标值) ÷ Σ权重 × 100；返工率、重复诉求率按 (1 − 指标值) 计")
    ws.cell(row=row, column=1, value=rule)
    row += 2
    ws.cell(row=row, column=1, value=_("审核：　　　　　　　　签发：　　　　　　　　日期："))
    ws.column_dimensions["A"].width = 8
    ws.column_dimensions["B"].width = 24
    for col in range(3, width + 1):
        ws.column_dimensions[get_column_letter(col)].width = 11
    ws.row_dimensions[4].height = 32
    ws.freeze_panes = "C5"
    ws.print_title_rows = "4:4"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    out = BytesIO()
    wb.save(out)
    return out.getvalue()
