"""A weekly briefing as sections of text and numbers, and as PDF and .xlsx files to mail.

:func:`sections` turns the frozen figures of a briefing
(``analytics.briefing.week_figures``) into titled tables in one language; the
page, :func:`briefing_pdf` (reportlab, A4; Chinese with reportlab's built-in
STSong-Light CID font, so no font file is needed) and :func:`briefing_xlsx`
(openpyxl, one sheet per section) all show those same tables. Unit names are
stored in both languages, so a briefing renders in either whenever it is
asked for. Domain code: no Flask, no Dash.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any
from xml.sax.saxutils import escape

from station_portal.i18n import _, use_locale
from station_portal.labels import HOLDERS, ORDER_KINDS, label, stage_label
from station_portal.timefmt import format_deadline, format_local

TEXT, NUMBER, PERCENT = "text", "number", "percent"
# Excel runs a cell starting with one of these as a formula: such texts get an apostrophe
# (as the dashboards' Excel export does).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CJK_FONT = "STSong-Light"


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    headers: tuple[str, ...]
    kinds: tuple[str, ...]  # per column: text | number | percent
    rows: list[list[Any]]
    empty: str  # what to say when there are no rows
    note: str = ""


def _zh(locale: str) -> bool:
    return locale.startswith("zh")


def _pct(share: Any) -> float | None:
    return None if share is None else round(100 * float(share), 1)


def _instant(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def unit_name(figures: dict[str, Any], locale: str) -> str:
    unit = figures.get("unit")
    if not unit:
        return _("Whole company")
    return unit["name_zh"] if _zh(locale) else unit["name_en"]


def week_label(week_start: str) -> str:
    start = date.fromisoformat(week_start)
    end = start.fromordinal(start.toordinal() + 6)
    return f"{start.isoformat()} – {end.isoformat()}"


def title(figures: dict[str, Any], locale: str) -> str:
    with use_locale(locale):
        return _("Weekly briefing: %(unit)s, %(week)s", unit=unit_name(figures, locale),
                 week=week_label(figures["week_start"]))


def subtitle(figures: dict[str, Any], locale: str) -> str:
    with use_locale(locale):
        text = _("Made %(made)s. Open and overdue work as of %(as_of)s.",
                 made=format_local(_instant(figures["made_at"])),
                 as_of=format_local(_instant(figures["as_of"])))
        if not figures.get("complete", True):
            text += " " + _("The week is not over yet: its figures run up to now.")
        return text


def headline(figures: dict[str, Any], locale: str) -> list[tuple[str, str, str, str | None]]:
    """The numbers for the cards: (label, value, icon, colour)."""
    def share(value: Any) -> str:
        return "–" if value is None else f"{100 * value:.1f} %"

    orders, late = figures["orders"]["all"], figures["late"]
    with use_locale(locale):
        return [
            (_("Received"), str(orders["received"]), "bi-inbox", None),
            (_("Closed"), str(orders["closed"]), "bi-check2-circle", None),
            (_("Arrivals on time"), share(figures["repairs"]["arrival"]["on_time"]),
             "bi-stopwatch", None),
            (_("Application stages on time"),
             share(figures["applications"]["stages"]["on_time"]), "bi-plug", None),
            (_("Overdue at the week's end"), str(orders["overdue"]), "bi-exclamation-octagon",
             "danger" if orders["overdue"] else None),
            (_("Late cases"), str(late["count"]), "bi-hourglass-bottom",
             "danger" if late["count"] else None),
        ]


def _holder(holder: dict[str, Any], locale: str) -> str:
    if holder.get("kind") != "unit":
        return label(HOLDERS, holder.get("kind"))
    return holder.get("name_zh" if _zh(locale) else "name_en") or ""


def _late_unit(code: str) -> str:
    return {"minutes": _("min"), "workdays": _("working days"), "days": _("days")}.get(code, "")


def sections(figures: dict[str, Any], locale: str) -> list[Section]:
    """The briefing's tables in ``locale``: summary, orders, time limits, trend, late cases
    and (for the company) the league."""
    with use_locale(locale):
        return _sections(figures, locale)


def _sections(figures: dict[str, Any], locale: str) -> list[Section]:
    orders, repairs, apps = figures["orders"], figures["repairs"], figures["applications"]
    late = figures["late"]
    summary = Section("summary", _("The week in figures"), (_("Figure"), _("Value")),
                      (TEXT, NUMBER), [
                          [_("Orders received"), orders["all"]["received"]],
                          [_("Orders closed"), orders["all"]["closed"]],
                          [_("Arrival on time (%)"), _pct(repairs["arrival"]["on_time"])],
                          [_("Restoration on time (%)"), _pct(repairs["restoration"]["on_time"])],
                          [_("Application stages on time (%)"), _pct(apps["stages"]["on_time"])],
                          [_("Applications within the total limit (%)"),
                           _pct(apps["total"]["on_time"])],
                          [_("Open at the week's end"), orders["all"]["open"]],
                          [_("Overdue at the week's end"), orders["all"]["overdue"]],
                          [_("Late cases"), late["count"]],
                      ], "")
    kinds = [*ORDER_KINDS, "all"]
    by_kind = Section(
        "orders", _("Orders by kind"),
        (_("Kind"), _("Received"), _("Closed"), _("Open at the week's end"),
         _("Overdue at the week's end")), (TEXT, NUMBER, NUMBER, NUMBER, NUMBER),
        [[label(ORDER_KINDS, k) if k != "all" else _("All kinds"), orders[k]["received"],
          orders[k]["closed"], orders[k]["open"], orders[k]["overdue"]]
         for k in kinds if k in orders], "")
    clock_rows = []
    for name, values, unit in (
            (stage_label("arrival"), repairs["arrival"], _("min")),
            (stage_label("restoration"), repairs["restoration"], _("min")),
            (_("Application stages"), apps["stages"], _("working days")),
            (stage_label("total"), apps["total"], _("working days"))):
        clock_rows.append([name, values["done"], values["timed"], values["late"],
                           _pct(values["on_time"]), values["avg_used"], unit])
    clocks = Section(
        "clocks", _("Time limits"),
        (_("Time limit"), _("Finished"), _("With a limit"), _("Late"),
         _("Within the limit (%)"), _("Average time"), _("Unit of time")),
        (TEXT, NUMBER, NUMBER, NUMBER, PERCENT, NUMBER, TEXT), clock_rows, "")
    trend = Section(
        "trend", _("Trend: this week and the four before"),
        (_("Week"), _("Received"), _("Closed"), _("Arrival on time (%)"),
         _("Restoration on time (%)"), _("Application stages on time (%)"), _("Late")),
        (TEXT, NUMBER, NUMBER, PERCENT, PERCENT, PERCENT, NUMBER),
        [[week_label(w["week_start"]), w["received"], w["closed"], _pct(w["arrival_on_time"]),
          _pct(w["restoration_on_time"]), _pct(w["stages_on_time"]), w["late"]]
         for w in figures["trend"]], "")
    states = {"finished_late": _("Finished late"), "overdue": _("Overdue at the week's end")}
    late_rows = [[r["code"], label(ORDER_KINDS, r["kind"]), stage_label(r["stage"]),
                  _holder(r["holder"], locale), r.get("crew") or "",
                  format_deadline(_instant(r["due_at"])), states.get(r["state"], r["state"]),
                  r["late"], _late_unit(r["late_unit"])] for r in late["rows"]]
    cases = Section(
        "late", _("Late cases"),
        (_("Order"), _("Kind"), _("Stage"), _("Held by"), _("Crew"), _("Due at"),
         _("Outcome"), _("Late by"), _("Unit of time")),
        (TEXT, TEXT, TEXT, TEXT, TEXT, TEXT, TEXT, NUMBER, TEXT), late_rows,
        _("No case became overdue or finished late this week."),
        _("%(shown)s of %(count)s late cases, the latest first.", shown=len(late_rows),
          count=late["count"]) if late["count"] > len(late_rows) else "")
    out = [summary, by_kind, clocks, trend, cases]
    if figures.get("league") is not None:
        out.append(Section(
            "league", _("Station league"),
            (_("Rank"), _("Station or supply office"), _("Received"), _("Closed"),
             _("Within the limit (%)"), _("Open at the week's end"),
             _("Overdue at the week's end")),
            (NUMBER, TEXT, NUMBER, NUMBER, PERCENT, NUMBER, NUMBER),
            [[r["rank"], r["name_zh"] if _zh(locale) else r["name_en"], r["received"],
              r["closed"], _pct(r["on_time"]), r["open"], r["overdue"]]
             for r in figures["league"]], _("No finished work in this period.")))
    return out


def cell_text(value: Any) -> str:
    """A cell as text (PDF and page): numbers without trailing zeros, None as a dash."""
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))
    return str(value)


def file_name(figures: dict[str, Any], extension: str) -> str:
    unit = figures.get("unit")
    who = unit["code"] if unit else "company"
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in who)
    return f"briefing-{figures['week_start']}-{safe}.{extension}"


# -- PDF -------------------------------------------------------------------------------------
@cache
def _cjk_font() -> str:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))
    return CJK_FONT


def briefing_pdf(figures: dict[str, Any], locale: str) -> bytes:
    """The briefing as an A4 PDF in ``locale``."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import (
        KeepTogether,
        Paragraph,
        SimpleDocTemplate,
        Spacer,
        Table,
        TableStyle,
    )

    zh = _zh(locale)
    font = _cjk_font() if zh else "Helvetica"
    bold = font if zh else "Helvetica-Bold"
    base = getSampleStyleSheet()
    styles = {
        "title": ParagraphStyle("t", parent=base["Title"], fontName=bold, fontSize=16,
                                leading=20, alignment=0),
        "sub": ParagraphStyle("s", parent=base["Normal"], fontName=font, fontSize=8.5,
                              leading=11, textColor=colors.HexColor("#555555")),
        "h": ParagraphStyle("h", parent=base["Heading2"], fontName=bold, fontSize=11.5,
                            leading=14, spaceBefore=8, spaceAfter=4),
        "cell": ParagraphStyle("c", parent=base["Normal"], fontName=font, fontSize=7.5,
                               leading=9.5, wordWrap="CJK" if zh else None),
        "head": ParagraphStyle("hc", parent=base["Normal"], fontName=bold, fontSize=7.5,
                               leading=9.5, wordWrap="CJK" if zh else None),
    }
    with use_locale(locale):
        story: list[Any] = [Paragraph(escape(title(figures, locale)), styles["title"]),
                            Paragraph(escape(subtitle(figures, locale)), styles["sub"]),
                            Spacer(1, 4 * mm)]
        width = A4[0] - 30 * mm
        for section in sections(figures, locale):
            parts: list[Any] = [Paragraph(escape(section.title), styles["h"])]
            if section.note:
                parts.append(Paragraph(escape(section.note), styles["sub"]))
            if not section.rows:
                parts.append(Paragraph(escape(section.empty), styles["sub"]))
                story.append(KeepTogether(parts))
                continue
            data = [[Paragraph(escape(h), styles["head"]) for h in section.headers]]
            data += [[Paragraph(escape(cell_text(v)), styles["cell"]) for v in row]
                     for row in section.rows]
            table = Table(data, colWidths=_widths(section, width, font, bold, 7.5), repeatRows=1)
            table.setStyle(TableStyle([
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e9ecef")),
                ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#adb5bd")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#f8f9fa")]),
                ("TOPPADDING", (0, 0), (-1, -1), 2), ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
            ]))
            parts.append(table)
            # a short table stays with its title; a long one may break across pages
            story += [KeepTogether(parts)] if len(section.rows) <= 12 else parts
        buffer = io.BytesIO()
        doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm,
                                topMargin=15 * mm, bottomMargin=15 * mm,
                                title=title(figures, locale), author="Station Portal")
        doc.build(story)
    return buffer.getvalue()


def _widths(section: Section, width: float, font: str, bold: str, size: float,
            pad: float = 12.0) -> list[float]:
    """Column widths in points: each column as wide as its longest cell (or header word), so
    codes, times and numbers stay on one line; when that is too wide for the page, the
    columns of long texts (names, stages) give up room and wrap, down to their longest word."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    def words(text: str) -> list[str]:  # Chinese wraps anywhere: a character is a "word"
        return [w for part in text.split() for w in ([part] if part.isascii() else list(part))]

    need, least = [], []
    for i, header in enumerate(section.headers):
        cells = [cell_text(row[i]) for row in section.rows[:200]]
        head = max((stringWidth(w, bold, size) for w in words(header)), default=0.0)
        need.append(max([stringWidth(c, font, size) for c in cells] + [head, 16.0]) + pad)
        least.append(max([stringWidth(w, font, size) for c in cells for w in words(c)]
                         + [head, 16.0]) + pad)
    if sum(need) <= width:
        return [w * width / sum(need) for w in need]
    flexible = [i for i, kind in enumerate(section.kinds) if kind == TEXT and need[i] > least[i]]
    room = width - sum(w for i, w in enumerate(need) if i not in flexible)
    share = sum(need[i] for i in flexible) or 1.0
    return [max(need[i] * room / share, least[i]) if i in flexible else need[i]
            for i in range(len(need))]


# -- Excel -----------------------------------------------------------------------------------
def plain_text(value: Any) -> Any:
    """Text Excel would run as a formula is written as text: a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _sheet_name(text: str, taken: set[str]) -> str:
    name = text.replace("/", "-")
    for bad in "[]:*?\\'":
        name = name.replace(bad, " ")
    name = name.strip()[:31] or "Sheet"
    base, n = name, 2
    while name.lower() in taken:
        suffix = f" {n}"
        name, n = base[:31 - len(suffix)] + suffix, n + 1
    taken.add(name.lower())
    return name


def briefing_xlsx(figures: dict[str, Any], locale: str) -> bytes:
    """The briefing as a workbook in ``locale``: one sheet per section, the header row bold,
    every text a text (never a formula)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    with use_locale(locale):
        book = Workbook()
        book.remove(book.active)
        book.properties.title = title(figures, locale)
        book.properties.creator = "Station Portal"
        taken: set[str] = set()
        for section in sections(figures, locale):
            sheet = book.create_sheet(_sheet_name(section.title, taken))
            rows = list(section.rows)
            if section.key == "summary":  # what the workbook is about, above the figures
                rows = [[_("Unit"), unit_name(figures, locale)],
                        [_("Week"), week_label(figures["week_start"])],
                        [_("Made at"), format_local(_instant(figures["made_at"]))], *rows]
            sheet.append([plain_text(h) for h in section.headers])
            for cell in sheet[1]:
                cell.font = Font(bold=True)
            for row in rows:
                sheet.append([plain_text(v) for v in row])
            if not rows and section.empty:
                sheet.append([plain_text(section.empty)])
            if section.note:
                sheet.append([])
                sheet.append([plain_text(section.note)])
            for i, header in enumerate(section.headers, start=1):
                longest = max([len(str(header))] + [len(cell_text(r[i - 1])) for r in rows
                                                    if i - 1 < len(r)])
                sheet.column_dimensions[sheet.cell(1, i).column_letter].width = \
                    min(50, longest + 4)
            sheet.freeze_panes = "A2"
        buffer = io.BytesIO()
        book.save(buffer)
    return buffer.getvalue()
