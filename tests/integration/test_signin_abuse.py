"""Trying to keep someone else out by failing to sign in as them, through the real app.

Before: five wrong passwords from anywhere locked the account itself, so anyone could keep
any account (the administrator's too) locked. Now the failing network waits, the owner
from another network gets in, on the sign-in page and the API token endpoint alike.
"""

from __future__ import annotations

from sqlalchemy import select

from station_portal.audit import AuditEvent
from tests.helpers import API, PASSWORD, make_user, sign_in


def _actions(db, name: str) -> list[str]:
    with db.read() as s:
        return s.scalars(select(AuditEvent.action).where(AuditEvent.subject == name)
                         .order_by(AuditEvent.id)).all()


def test_fifty_wrong_passwords_from_one_network_do_not_keep_the_admin_out(app, db):
    name = make_user(db, "admin")
    attacker = app.test_client()
    codes = [sign_in(attacker, name, f"guess-{i}", ip=f"10.0.0.{i % 200 + 1}").status_code
             for i in range(50)]
    assert codes[:4] == [401] * 4 and set(codes[4:]) == {429}
    refused = sign_in(attacker, name, PASSWORD, ip="10.0.0.77")  # the attacker's network waits
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 60
    assert "Too many failed sign-ins from your network. Try again in 1 minutes." in refused.text
    owner = sign_in(app.test_client(), name, PASSWORD, ip="192.168.1.5")
    assert owner.status_code == 302
    actions = _actions(db, name)
    assert actions.count("sign_in_failed") == 5 and actions.count("sign_in_locked") == 46
    assert actions[-1] == "sign_in"


def test_the_api_lets_the_owner_have_a_token_while_another_network_is_held(client, db):
    name = make_user(db, "station_head", unit="JL-CY-S")

    def ask(password: str, ip: str):
        return client.post(f"{API}/tokens", json={"username": name, "password": password},
                           environ_base={"REMOTE_ADDR": ip})

    codes = [ask(f"guess-{i}", f"10.0.1.{i + 1}").status_code for i in range(20)]
    assert codes[:4] == [401] * 4 and set(codes[4:]) == {429}
    held = ask(PASSWORD, "10.0.1.250")
    assert held.status_code == 429 and held.json["error"] == "too_many_failures"
    assert "from your network" in held.json["message"]
    owner = ask(PASSWORD, "192.168.7.5")
    assert owner.status_code == 201 and owner.json["token"]


def test_a_campaign_from_many_networks_slows_each_but_the_owner_gets_in(app, db):
    """20 networks (the account's ceiling) fail once each: each of them then waits the
    whole lock after a failure; a network that has not failed signs in."""
    name = make_user(db, "admin")
    attacker = app.test_client()
    codes = [sign_in(attacker, name, "guess", ip=f"10.1.{n}.9").status_code for n in range(20)]
    assert codes[:19] == [401] * 19 and codes[19] == 429  # the 20th reaches the ceiling
    again = sign_in(attacker, name, "guess", ip="10.1.3.10")  # a network that failed once
    assert again.status_code == 429 and int(again.headers["Retry-After"]) > 14 * 60
    assert sign_in(app.test_client(), name, PASSWORD, ip="172.20.1.5").status_code == 302
    with db.read() as s:
        success = s.scalar(select(AuditEvent.details).where(
            AuditEvent.subject == name, AuditEvent.action == "sign_in"))
    assert success["after_failures"]["account_failures"] == 20
    assert success["after_failures"]["ceiling"] is True
