"""The supply contract (供用电合同) a customer accepts online.

The text is built from the case (parties, site, business, capacity) and a
versioned template, so what was signed can be shown again and proven by its
SHA-256. Low-voltage customers accept the standard terms with their
application; high-voltage customers sign at the contract stage.
"""

from __future__ import annotations

import hashlib

from station_portal.i18n import _
from station_portal.labels import BUSINESS_TYPES, CUSTOMER_CLASSES, label
from station_portal.workorders.models import WorkOrder

VERSION = "2026-12"  # load in kW and transformer capacity in kVA kept apart


def contract_text(order: WorkOrder, *, supplier: str) -> str:
    """The contract as plain text in the current language."""
    kw = f"{order.load_kw:g}" if order.load_kw is not None else "–"
    kva = f"{order.capacity_kva:g}" if order.capacity_kva is not None else "–"
    lines = [
        _("Supply contract (standard terms, version %(v)s)", v=VERSION),
        _("Case number: %(code)s", code=order.code),
        _("Supplier: %(name)s", name=supplier),
        _("Customer: %(name)s", name=order.customer_name),
        _("Site: %(address)s", address=order.address),
        _("Business: %(business)s; customer class: %(klass)s; load: %(kw)s kW; "
          "transformer capacity: %(kva)s kVA",
          business=label(BUSINESS_TYPES, order.business_type),
          klass=label(CUSTOMER_CLASSES, order.customer_class), kw=kw, kva=kva),
        "",
        _("1. The supplier supplies electricity at the site within the capacity above, "
          "in the quality the national standards set, and tells the customer of planned "
          "outages seven days ahead."),
        _("2. The customer uses electricity safely and for the declared purpose, keeps the "
          "installations on their side in good order, and pays for the electricity by the "
          "published tariff."),
        _("3. The metering point and the property boundary are set in the supply plan; each "
          "party maintains the installations on its side of the boundary."),
        _("4. Disputes are settled by negotiation, else under the Civil Code and the "
          "electricity supply rules."),
        _("5. The contract takes effect when the customer accepts it online and the supply "
          "is connected."),
    ]
    return "\n".join(lines)


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
