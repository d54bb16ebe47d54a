"""The caller's notifications, for phones and other terminals: the bell's list and count."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from station_portal.api.core import Blueprint, caller, roles, write
from station_portal.api.fields import ApiSchema, Id
from station_portal.auth.roles import ALL_STAFF
from station_portal.errors import ValidationFailed
from station_portal.i18n import _, get_locale
from station_portal.notify import service
from station_portal.web.context import read_session

blp = Blueprint("notifications", __name__, description=(
    "The caller's notifications (time limits, escalations, visits, briefings), in the "
    "caller's language."))

MAX_IDS = 200


class NotificationQuerySchema(ApiSchema):
    class Meta:
        unknown = ma.EXCLUDE

    unread = ma.fields.Boolean(load_default=False,
                               metadata={"description": "Only unread notifications."})
    limit = ma.fields.Integer(load_default=50, validate=ma.validate.Range(1, 200),
                              metadata={"minimum": 1, "maximum": 200})


class NotificationSchema(ma.Schema):
    id = ma.fields.Integer()
    event = ma.fields.String(metadata={"enum": list(service.EVENTS)})
    subject = ma.fields.String()
    body = ma.fields.String()
    link = ma.fields.String(metadata={"description": "The page in the portal (a path)."})
    work_order_id = ma.fields.Integer(allow_none=True)
    created_at = ma.fields.DateTime()
    read_at = ma.fields.DateTime(allow_none=True)


class NotificationListSchema(ma.Schema):
    unread = ma.fields.Integer(metadata={"description": "How many are unread (the bell)."})
    items = ma.fields.List(ma.fields.Nested(NotificationSchema))


class MarkReadSchema(ApiSchema):
    ids = ma.fields.List(Id(big=True), validate=ma.validate.Length(max=MAX_IDS),
                         metadata={"description": "Notifications to mark read."})
    all = ma.fields.Boolean(metadata={"description": "Mark every notification read."})


class MarkedSchema(ma.Schema):
    marked = ma.fields.Integer()
    unread = ma.fields.Integer()


@blp.route("/notifications", methods=["GET"])
@roles(ALL_STAFF)
@blp.arguments(NotificationQuerySchema, location="query")
@blp.response(200, NotificationListSchema)
@blp.errors(401, 422)
def list_notifications(args: dict[str, Any]):
    """The caller's notifications, newest first, and the unread count."""
    session, user = read_session(), caller()
    locale = get_locale()
    notes = service.inbox(session, user.id, unread_only=args["unread"], limit=args["limit"])
    items = []
    for note in notes:
        text = service.render(note, locale)
        items.append({"id": note.id, "event": note.event, "subject": text.subject,
                      "body": text.body, "link": text.link,
                      "work_order_id": note.work_order_id, "created_at": note.created_at,
                      "read_at": note.read_at})
    return {"unread": service.unread_count(session, user.id), "items": items}


@blp.route("/notifications/read", methods=["POST"])
@roles(ALL_STAFF)
@blp.arguments(MarkReadSchema, examples={"some": {"value": {"ids": [12, 13]}},
                                          "all": {"value": {"all": True}}})
@blp.response(200, MarkedSchema)
@blp.errors(401, 403, 422)
def mark_read(args: dict[str, Any]):
    """Mark the caller's notifications read: the listed ones, or all. Ids of other
    people's notifications are ignored."""
    if args.get("all") is True:
        ids = None
    elif args.get("ids"):
        ids = args["ids"]
    else:
        raise ValidationFailed({"ids": _("Give the notifications to mark, or all.")})
    with write() as (session, user):
        marked = service.mark_read(session, user.id, ids)
        unread = service.unread_count(session, user.id)
    return {"marked": marked, "unread": unread}


