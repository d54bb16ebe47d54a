"""Customer classes of a connection application and the businesses it can be for.

The class is the utility's decision (from what the customer states and, for high
voltage, from the supply plan); the business is what the customer asks for.
Plain constants, imported by the rule and stage books; no I/O here.
"""

from __future__ import annotations

LV_RESIDENT = "lv_resident"
LV_SMALL_FIRM = "lv_small_firm"  # 低压小微企业 ("three zeros")
LV_NON_RESIDENT = "lv_non_resident"
HV_SINGLE = "hv_single"
HV_DUAL = "hv_dual"
CUSTOMER_CLASSES = (LV_RESIDENT, LV_SMALL_FIRM, LV_NON_RESIDENT, HV_SINGLE, HV_DUAL)
HV_CLASSES = (HV_SINGLE, HV_DUAL)

# What the customer states about themselves.
RESIDENT = "resident"
NON_RESIDENT = "non_resident"
CUSTOMER_TYPES = (RESIDENT, NON_RESIDENT)

# Single or dual supply: decided in the supply plan.
SUPPLY_SINGLE = "single"
SUPPLY_DUAL = "dual"
SUPPLY_CLASS = {SUPPLY_SINGLE: HV_SINGLE, SUPPLY_DUAL: HV_DUAL}

# Businesses (业务类型): new connections and capacity increases (业扩) and the changes of
# use (变更用电) of the supply rules, plus the kinds of connection of newer policies.
BUSINESSES = (
    "new_connection", "capacity_increase", "temporary_supply", "ev_charging",
    "distributed_generation", "capacity_reduction", "suspension", "resumption",
    "temporary_swap", "relocation", "meter_move", "temporary_removal", "name_change",
    "transfer", "split", "merge", "closure", "voltage_change", "category_change",
)


def is_high_voltage(customer_class: str | None) -> bool:
    return customer_class in HV_CLASSES
