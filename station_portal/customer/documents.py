"""The documents an online application needs (``data/application_documents.toml``), the
size of one file and how much one case may hold (files and MB, every document of the case
together: the customer's later additions cannot fill the disk)."""

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
    max_bytes: int  # one file
    max_files_per_case: int = 20
    max_bytes_per_case: int = 60 * 1024 * 1024

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
    mb = 1024 * 1024
    rules = DocumentRules(kinds, required, int(float(raw.get("max_mb", 10)) * mb),
                          int(raw.get("max_files_per_case", 20)),
                          int(float(raw.get("max_mb_per_case", 60)) * mb))
    if rules.max_files_per_case < len(kinds) or rules.max_bytes_per_case < rules.max_bytes:
        raise ValueError(f"{origin}: a case must hold at least one file of each kind "
                         "(max_files_per_case) and one file of the largest size (max_mb_per_case)")
    return rules


DOCUMENTS_FILE = DataFile("application_documents.toml", read_text(parse_document_rules))


def document_rules() -> DocumentRules:
    """The rules of ``data/application_documents.toml`` (re-read when it changes)."""
    return DOCUMENTS_FILE.get()
