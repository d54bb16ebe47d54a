"""Small layout pieces shared by pages (headers, empty states, badges, tables)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import dash_bootstrap_components as dbc
from dash import dcc, html

from station_portal.i18n import _, get_locale


def graph_config(**extra: Any) -> dict[str, Any]:
    """A chart's Plotly config in the user's language: month and day names, number formats
    and the toolbar's tips in Chinese (assets/plotly-locale-zh-cn.js) or English."""
    return {"displaylogo": False, "locale": "zh-CN" if get_locale() == "zh_CN" else "en",
            **extra}


def page_header(title: str, subtitle: str | None = None, actions: Any = None) -> html.Div:
    return html.Div(
        [
            html.Div([
                html.H1(title, className="h3 mb-1"),
                html.P(subtitle, className="text-body-secondary mb-0") if subtitle else None,
            ]),
            html.Div(actions, className="ms-auto") if actions is not None else None,
        ],
        className="d-flex flex-wrap align-items-end gap-2 mb-3 portal-page-header",
    )


def empty_state(message: str, hint: str | None = None, icon: str = "bi-inbox") -> html.Div:
    """Shown instead of a blank table or chart, saying why there is nothing."""
    return html.Div(
        [
            html.I(className=f"bi {icon} fs-2 d-block mb-2"),
            html.Div(message, className="fw-semibold"),
            html.Div(hint, className="small") if hint else None,
        ],
        className="text-center text-body-secondary py-4 portal-empty",
    )


FEEDBACK_ICONS = {"success": "bi-check-circle", "info": "bi-info-circle",
                  "warning": "bi-exclamation-triangle", "danger": "bi-x-octagon"}


def feedback(message: Any, kind: str = "warning", id_: str | None = None,
             duration: int | None = None) -> dbc.Alert:
    """The answer to what a user just did: done (success), nothing to do (info), refused
    (warning: the user can fix it) or failed (danger). Dismissable, read out by screen
    readers (Bootstrap's alert has role=alert), with an icon so the colour is not the only
    sign. ``duration`` (ms) closes it by itself: for a routine success the user sees done
    on the page anyway (a called ticket, a saved form)."""
    if kind not in FEEDBACK_ICONS:
        raise ValueError(f"unknown feedback kind {kind!r}")
    extra: dict[str, Any] = {"id": id_} if id_ else {}
    if duration:
        extra["duration"] = duration
    if isinstance(message, list | tuple):  # a nested list is not a child Dash can draw
        message = html.Span(list(message))
    return dbc.Alert([html.I(className=f"bi {FEEDBACK_ICONS[kind]} me-2", **{"aria-hidden": "true"}),
                      message], color=kind, dismissable=True, className="py-2 portal-feedback",
                     **extra)


def error_text(exc: Exception) -> str:
    """What a refusal says: each bad field's message (a ValidationFailed), else its message."""
    fields = getattr(exc, "fields", None)
    if isinstance(fields, dict) and fields:
        return "; ".join(str(v) for v in fields.values())
    return str(getattr(exc, "message", exc))


def form_field(label_text: str, control: Any, error_id: str, help_text: Any = None,
               required: bool = False) -> html.Div:
    """A labelled form control with its hint and the place its refusal is shown
    (``error_id``, filled by the form's callback)."""
    control_id = getattr(control, "id", None)
    return html.Div([
        dbc.Label([label_text, html.Span(" *", className="text-danger") if required else None],
                  html_for=control_id if isinstance(control_id, str) else None),
        control,
        dbc.FormText(help_text) if help_text is not None else None,
        html.Div(id=error_id, className="invalid-feedback d-block"),
    ], className="mb-3")


def no_such_item(message: str) -> dbc.Alert:
    """A page opened for something that does not exist (a mistyped or stale link)."""
    return dbc.Alert([html.I(className="bi bi-question-circle me-2"), message], color="info",
                     className="portal-not-found")


def out_of_scope() -> dbc.Alert:
    return dbc.Alert(
        [html.I(className="bi bi-shield-lock me-2"),
         _("This is outside your area of responsibility, so nothing is shown.")],
        color="warning", className="portal-out-of-scope",
    )


def stat(label: str, value: Any, icon: str, id_: str | None = None) -> dbc.Card:
    props = {"id": id_} if id_ else {}
    return dbc.Card(
        dbc.CardBody([
            html.Div([html.I(className=f"bi {icon} me-2"), label],
                     className="text-body-secondary small"),
            html.Div(value, className="fs-4 fw-semibold", **props),
        ]),
        className="h-100 portal-stat",
    )


def simple_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], **kwargs: Any) -> dbc.Table:
    return dbc.Table(
        [html.Thead(html.Tr([html.Th(h) for h in headers])),
         html.Tbody([html.Tr([html.Td(c) for c in row]) for row in rows])],
        striped=True, hover=True, size="sm", responsive=True, className="align-middle", **kwargs,
    )


def badges(values: Sequence[str], color: str = "light") -> list[dbc.Badge]:
    return [dbc.Badge(v, color=color, text_color="dark" if color == "light" else None,
                      className="me-1 fw-normal border") for v in values]


def dropdown(id_: str, **kwargs: Any) -> dcc.Dropdown:
    """A Dash dropdown whose own texts (search, select all …) are in the user's language."""
    labels = {
        "search": _("Search"), "clear_search": _("Clear search"),
        "clear_selection": _("Clear selection"), "select_all": _("Select all"),
        "deselect_all": _("Deselect all"), "no_options_found": _("No options found"),
        # {num_selected} is filled in by the component itself
        "selected_count": _("{num_selected} selected"),
    }
    return dcc.Dropdown(id=id_, labels=labels, **kwargs)


_PLOTLY_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


def plotly_text(value: Any) -> Any:
    """Text as plotly.js shows it, never as markup.

    plotly.js reads a small HTML subset in every text it draws (``<a href>`` becomes a link,
    ``<b>``, ``<br>``, ``<span style>`` format) and decodes ``&lt;``, ``&gt;`` and ``&amp;``:
    escaped, a name such as ``<a href="…">`` shows exactly as typed and links nowhere.
    Strings are escaped, lists and tuples element by element; anything else is returned as is.
    """
    if isinstance(value, str):
        return value.translate(_PLOTLY_ESCAPES)
    if isinstance(value, (list, tuple)):
        return [plotly_text(item) for item in value]
    return value
