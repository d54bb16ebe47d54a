"""Photos from the field and customers' documents: check, store, record, read back.

A photo is accepted only if its first bytes say JPEG, PNG or WebP (the file
name and the declared content type are ignored), and only up to
:data:`MAX_BYTES`. It is written under a random name into the store of uploads
(``station_portal/storage.py``: the upload folder, outside every folder the portal
serves, or an S3 bucket), and recorded as an ``Attachment`` with its SHA-256, with a ``photo_added`` event on
the order's timeline in the same transaction.

Who may add one: whoever may add a note to the order (responsibility matrix)
and sees it; who may read one back: whoever sees its order.

A customer's document (PDF, JPEG or PNG, checked the same way) is stored by
:func:`store_document`; the customer service (``services/customer.py``) has
checked that the caller holds the case.

No Flask here; the caller passes the bytes and the store (or a local folder).
"""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from station_portal.auth.models import User
from station_portal.auth.scope import scope_for
from station_portal.db import utcnow
from station_portal.errors import NotFound, PortalError, ValidationFailed
from station_portal.i18n import _
from station_portal.services import changes
from station_portal.storage import KeyMissing, Storage, Written, as_storage
from station_portal.validate import as_id, text
from station_portal.workorders.access import sees_order
from station_portal.workorders.models import Attachment, WorkOrder, WorkOrderEvent

MAX_BYTES = 10 * 1024 * 1024
PHOTO_ADDED = "photo_added"
PHOTO = "photo"  # the purpose of a field photo (documents are named by their kind)
# Content type → file extension of the stored copy.
EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp",
              "application/pdf": ".pdf"}
STORED_NAME_RE = re.compile(r"^[0-9a-f]{32}\.(jpg|png|webp|pdf)$")
PHOTO_TYPES = frozenset({"image/jpeg", "image/png", "image/webp"})
DOCUMENT_TYPES = frozenset({"application/pdf", "image/jpeg", "image/png"})
DOCUMENT_ADDED = "document_added"


class TooLarge(PortalError):
    status = 413


class FileMissing(PortalError):
    """The record exists but its file is gone from the store of uploads."""

    status = 404


def sniff(data: bytes) -> str | None:
    """The image type the bytes really are (magic numbers), or None."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    return None


def clean_filename(name: object) -> str:
    """The last part of a client's file name, plain text, at most 120 characters; format
    characters (such as a right-to-left override that disguises the extension) removed."""
    if not isinstance(name, str):
        return ""
    base = re.split(r"[\\/]", name)[-1]
    base = "".join(ch for ch in base if unicodedata.category(ch) != "Cf")
    return text(base, 120).strip()


# Suffixes a file of each type may keep in its shown name.
SUFFIXES = {"image/jpeg": (".jpg", ".jpeg"), "image/png": (".png",), "image/webp": (".webp",),
            "application/pdf": (".pdf",)}


def shown_name(name: object, content_type: str) -> str:
    """The client's file name cleaned, with an extension that says what the bytes are:
    'invoice.html' that is a PDF is shown and downloaded as 'invoice.pdf', a name without
    an extension gets one; '' when the client gave none."""
    base = clean_filename(name)
    if not base:
        return ""
    stem, dot, suffix = base.rpartition(".")
    if dot and stem and f".{suffix.lower()}" in SUFFIXES[content_type]:
        return base
    return (stem if dot and stem else base)[:115] + EXTENSIONS[content_type]


@dataclass(frozen=True)
class StoredPhoto:
    attachment: Attachment
    created: bool  # False: the same photo was already on this order (a retried upload)
    path: Written | None  # the file written by this call (to remove if the commit fails)


def _linked_event(session: Session, order: WorkOrder, key: object,
                  errors: dict[str, str]) -> int | None:
    """The id of the order's event sent with ``key`` (the step the photo documents)."""
    if key in (None, ""):
        return None
    if not isinstance(key, str) or not changes.CLIENT_KEY_RE.match(key):
        errors["event_client_key"] = _("The action key has 8 to 64 letters, digits, '-' or '_'.")
        return None
    event = session.scalar(select(WorkOrderEvent).where(WorkOrderEvent.client_key == key))
    if event is None or event.work_order_id != order.id:
        errors["event_client_key"] = _("No step of this order was sent with this key.")
        return None
    return event.id


def store_photo(session: Session, actor: User | None, order_id: object, data: bytes, *,
                filename: object, upload_dir: Storage | Path, note: object = "",
                event_client_key: object = None, now: datetime | None = None) -> StoredPhoto:
    """Check the photo, write it under a random name, record it and its timeline event."""
    changes.require_action(actor, "add_note")
    now = now or utcnow()
    order = changes.load_order(session, actor, order_id, need_version=False)
    if len(data) > MAX_BYTES:
        raise TooLarge(_("A photo may be at most %(n)s MB.", n=MAX_BYTES // (1024 * 1024)))
    errors: dict[str, str] = {}
    content_type = sniff(data)
    if content_type not in PHOTO_TYPES:
        content_type = None
    if not data:
        errors["file"] = _("Choose a photo to upload.")
    elif content_type is None:
        errors["file"] = _("Only JPEG, PNG or WebP photos can be uploaded.")
    note_text = changes.plain_text(note, "note", 300, errors)
    linked = _linked_event(session, order, event_client_key, errors)
    if errors:
        raise ValidationFailed(errors)
    assert content_type is not None
    return _keep(session, order, data, content_type, purpose=PHOTO, filename=filename,
                 upload_dir=upload_dir, now=now, actor=actor, action=PHOTO_ADDED,
                 reason=note_text, linked_event=linked)


def check_document(data: bytes, max_bytes: int) -> str:
    """The content type of a customer's document, or ValidationFailed-ready message as
    :class:`ValueError` (empty, too large, not PDF/JPEG/PNG)."""
    if not data:
        raise ValueError(_("Choose a file to upload."))
    if len(data) > max_bytes:
        raise ValueError(_("A file may be at most %(n)s MB.", n=max_bytes // (1024 * 1024)))
    content_type = sniff(data)
    if content_type not in DOCUMENT_TYPES:
        raise ValueError(_("Only PDF, JPEG or PNG files can be uploaded."))
    return content_type


def store_document(session: Session, order: WorkOrder, data: bytes, content_type: str, *,
                   purpose: str, filename: object, upload_dir: Storage | Path,
                   now: datetime) -> StoredPhoto:
    """A customer's checked document: written under a random name, recorded with its
    timeline event. The same file again as the same document of the order is kept once."""
    return _keep(session, order, data, content_type, purpose=purpose, filename=filename,
                 upload_dir=upload_dir, now=now, actor=None, action=DOCUMENT_ADDED, to=purpose,
                 details={"by": "customer"})


def _keep(session: Session, order: WorkOrder, data: bytes, content_type: str, *, purpose: str,
          filename: object, upload_dir: Storage | Path, now: datetime, actor: User | None,
          action: str,
          to: str | None = None, reason: str = "", details: dict | None = None,
          linked_event: int | None = None) -> StoredPhoto:
    """Write the checked file under a random name and record it with its timeline event
    (the same bytes again as the same kind of file on the order: the first copy stands)."""
    digest = hashlib.sha256(data).hexdigest()
    same = session.scalar(select(Attachment).where(Attachment.work_order_id == order.id,
                                                   Attachment.sha256 == digest,
                                                   Attachment.purpose == purpose))
    if same is not None:
        return StoredPhoto(same, created=False, path=None)
    stored_name = secrets.token_hex(16) + EXTENSIONS[content_type]
    store = as_storage(upload_dir)
    store.put(stored_name, data)
    path = Written(store, stored_name)
    try:
        attachment = Attachment(
            work_order_id=order.id, stored_name=stored_name, purpose=purpose,
            original_name=shown_name(filename, content_type) or stored_name,
            content_type=content_type,
            size=len(data), sha256=digest, uploaded_by=actor.id if actor else None,
            uploaded_at=now)
        session.add(attachment)
        session.flush()
        event = WorkOrderEvent(
            work_order_id=order.id, at=now, actor_id=actor.id if actor else None, action=action,
            to_value=to if to is not None else str(attachment.id), reason=reason,
            details={"attachment": attachment.id, "size": len(data), "type": content_type,
                     "sha256": digest, **(details or {})})
        session.add(event)
        session.flush()
        attachment.event_id = linked_event or event.id
        order.updated_at = now
    except BaseException:
        discard(path)
        raise
    return StoredPhoto(attachment, created=True, path=path)


def discard(written: Written | None) -> None:
    """Remove a file written for an upload whose transaction did not commit."""
    if written is not None:
        written.discard()


def open_photo(session: Session, actor: User | None, attachment_id: object,
               upload_dir: Storage | Path) -> tuple[Attachment, bytes]:
    """The attachment and its bytes, if the actor sees its order (NotFound otherwise)."""
    aid = as_id(attachment_id)
    attachment = session.get(Attachment, aid) if aid is not None else None
    order = session.get(WorkOrder, attachment.work_order_id) if attachment is not None else None
    if order is None or (actor is not None and not sees_order(scope_for(session, actor), order)):
        raise NotFound(_("There is no such photo in your area."))
    assert attachment is not None
    missing = FileMissing(_("The file of this photo is no longer stored."))
    if not STORED_NAME_RE.match(attachment.stored_name):
        raise missing
    try:
        return attachment, as_storage(upload_dir).get(attachment.stored_name)
    except KeyMissing:
        raise missing from None


def photos_of(session: Session, order_id: int) -> list[Attachment]:
    """The order's files: field photos and customers' documents, oldest first."""
    return list(session.scalars(select(Attachment).where(Attachment.work_order_id == order_id)
                                .order_by(Attachment.uploaded_at, Attachment.id)))
