"""Photos of a work order: upload from the field, download by whoever sees the order."""

from __future__ import annotations

import io
from typing import Any

from flask import send_file

from station_portal.api.core import Blueprint, caller, order_access, roles, write
from station_portal.api.queries import attachment_out
from station_portal.api.schemas import AttachmentSchema, AttachmentUploadSchema
from station_portal.auth.roles import ALL_STAFF
from station_portal.services import attachments
from station_portal.storage import for_config
from station_portal.web.context import portal, read_session

blp = Blueprint("attachments", __name__, description="Photos from the field.")

IMAGE = {"schema": {"type": "string", "format": "binary"}}


@blp.route("/work-orders/<int:order_id>/attachments", methods=["POST"])
@roles(action="add_note")
@blp.arguments(AttachmentUploadSchema, location="multipart")
@blp.response(201, AttachmentSchema)
@blp.alt_response(200, schema=AttachmentSchema, success=True,
                  description="The same photo is already on this order (a retried upload).")
@blp.errors(401, 403, 404, 413, 422)
def upload_photo(form: dict[str, Any], order_id: int):
    """Add a photo to a work order (multipart/form-data, field `file`).

    JPEG, PNG or WebP only, recognised by the file's first bytes (not its name or
    declared type), at most 10 MB. `event_client_key` links it to the step sent
    with that key (e.g. the restore). The photo goes onto the order's timeline.
    """
    data = form["file"].stream.read(attachments.MAX_BYTES + 1)
    stored = None
    try:
        with order_access(), write() as (session, actor):
            stored = attachments.store_photo(
                session, actor, order_id, data, filename=form["file"].filename,
                upload_dir=for_config(portal().config), note=form.get("note") or "",
                event_client_key=form.get("event_client_key"))
            body = attachment_out(stored.attachment)
    except BaseException:
        if stored is not None:  # written, but the transaction did not commit
            attachments.discard(stored.path)
        raise
    return (body, 201) if stored.created else (body, 200)


@blp.route("/attachments/<int:attachment_id>", methods=["GET"])
@roles(ALL_STAFF)
@blp.doc(responses={"200": {"description": "The photo.", "content": {
    "image/jpeg": IMAGE, "image/png": IMAGE, "image/webp": IMAGE}}})
@blp.errors(401, 403, 404)
def download_photo(attachment_id: int):
    """Download a photo, if the caller sees its work order (the same 404/403 rule)."""
    with order_access():
        attachment, data = attachments.open_photo(
            read_session(), caller().model(), attachment_id, for_config(portal().config))
    response = send_file(io.BytesIO(data), mimetype=attachment.content_type,
                         as_attachment=False,
                         download_name=attachment.original_name or attachment.stored_name,
                         conditional=True, etag=attachment.sha256,
                         last_modified=attachment.uploaded_at, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
