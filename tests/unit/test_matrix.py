"""The responsibility matrix (权力清单) is data, checked when it is read."""

import pytest

from station_portal.org.matrix import LEAD, SUPPORT, MatrixError, load_matrix, parse_matrix


def test_the_shipped_matrix_names_a_lead_for_every_business():
    matrix = load_matrix()
    assert len(matrix.businesses) >= 10
    assert all(b.lead for b in matrix.businesses)


def test_low_voltage_repair_is_led_by_repair_groups_and_grids():
    business = load_matrix().business("fault_repair_lv")
    assert business.part_of("lv_repair_group") == LEAD
    assert business.part_of("grid") == LEAD
    assert business.part_of("supply_office") == SUPPORT
    assert business.part_of("metering_team") is None


def test_high_voltage_metering_stays_with_the_county_metering_team():
    assert load_matrix().lead_kinds("hv_metering") == ("metering_team",)


def test_only_admins_manage_users_and_everyone_sees_the_organisation():
    matrix = load_matrix()
    assert matrix.may("admin", "manage_users")
    assert not matrix.may("company_manager", "manage_users")
    assert all(matrix.may(r, "view_organisation") for r in
               ("admin", "company_manager", "station_head", "grid_manager", "account_manager", "crew"))


def test_an_undeclared_action_is_nobodys():
    assert not load_matrix().may("admin", "launch_rockets")


GOOD = """
[[business]]
code = "x"
name_zh = "甲"
name_en = "X"
lead = ["grid"]
"""


def test_unknown_unit_kinds_are_refused():
    with pytest.raises(MatrixError, match="unknown unit kinds"):
        parse_matrix(GOOD.replace('["grid"]', '["moon_base"]'))


def test_user_management_cannot_be_granted_to_other_roles():
    text = GOOD + """
[[action]]
code = "manage_users"
name_zh = "甲"
name_en = "X"
roles = ["admin", "station_head"]
"""
    with pytest.raises(MatrixError, match="reserved to admin"):
        parse_matrix(text)


def test_a_business_without_lead_is_refused():
    with pytest.raises(MatrixError, match="lead"):
        parse_matrix(GOOD.replace('lead = ["grid"]', 'lead = []'))


def test_broken_toml_names_the_file():
    with pytest.raises(MatrixError, match=r"matrix\.toml"):
        parse_matrix("[[business]\n", origin="matrix.toml")


@pytest.mark.parametrize(("page", "action"), [
    ("counter", "serve_counter"), ("hall_dashboard", "view_hall_dashboard"),
    ("gridworks", "link_grid_works")])
def test_pages_open_to_exactly_the_roles_the_matrix_names(page, action):
    """A page's roles and the matrix action it stands for must not drift apart (the
    grid-works page also lets the admin in, to manage projects)."""
    import importlib

    roles = {str(r) for r in importlib.import_module(f"station_portal.pages.{page}").ROLES}
    expected = set(load_matrix().action(action).roles)
    if page == "gridworks":
        expected |= set(load_matrix().action("manage_grid_works").roles)
    assert roles == expected


def test_the_counter_intake_page_opens_to_the_roles_that_may_register_and_accept():
    """Whoever opens the intake page may register a fault and an application and accept
    it (an application taken at a counter is accepted at once); the fault action names
    exactly the page's roles."""
    from station_portal.pages import intake

    roles = {str(r) for r in intake.ROLES}
    matrix = load_matrix()
    assert roles == set(matrix.action("create_repair").roles)
    assert roles <= set(matrix.action("create_application").roles)
    assert roles <= set(matrix.action("accept_application").roles)
    assert roles <= set(matrix.action("issue_tracking_code").roles)
