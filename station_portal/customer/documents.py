"""The documents an online application needs (``data/application_documents.toml``)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass

from station_portal.datafiles import DataFile, read_text
from station_portal.i18n import BilingualName


@dataclass(frozen=True)
class DocumentKind(BilingualName):
    code: str
    name_zh: str
    name_en: str


@dataclass(frozen=True)
class DocumentRules:
    kinds: dict[str, DocumentKind]
    required: dict[str, tuple[str, ...]]  # customer class → document codes
    max_bytes: int

    def required_for(self, customer_class: str) -> tuple[str, ...]:
        return self.required.get(customer_class, ())


def parse_document_rules(text: str, origin: str = "<documents>") -> DocumentRules:
    raw = tomllib.loads(text)
    kinds = {d["code"]: DocumentKind(d["code"], d["name_zh"], d["name_en"])
             for d in raw.get("document", [])}
    required = {klass: tuple(codes) for klass, codes in raw.get("required", {}).items()}
    for klass, codes in required.items():
        unknown = set(codes) - set(kinds)
        if unknown:
            raise ValueError(f"{origin}: {klass} requires unknown documents {sorted(unknown)}")
    return DocumentRules(kinds, required, int(float(raw.get("max_mb", 10)) * 1024 * 1024))


DOCUMENTS_FILE = DataFile("application_documents.toml", read_text(parse_document_rules))


def document_rules() -> DocumentRules:
    """The rules of ``data/application_documents.toml`` (re-read when it changes)."""
    return DOCUMENTS_FILE.get()
