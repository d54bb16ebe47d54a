"""Sign-in rules with a controlled clock: throttling per account and network (the owner is
never locked out by others' failures), idle timeout, demo passwords."""

from datetime import timedelta

from sqlalchemy import func, select

from station_portal.audit import AuditEvent
from station_portal.auth.models import User
from station_portal.auth.signin import (
    Network,
    Outcome,
    ThrottlePolicy,
    authenticate,
    check_session,
    network_of,
    reverify,
    touch,
)
from station_portal.db import utcnow
from station_portal.services.users import UserInput, create_user
from tests.helpers import unique

PASSWORD = "correct horse battery"
POLICY = ThrottlePolicy(max_failures_per_network=3, max_failures_per_address=6,
                        window=timedelta(minutes=15), lock=timedelta(minutes=10))


def make_user(db) -> str:
    name = unique("s")
    with db.write() as s:
        create_user(s, None, username=name, password=PASSWORD,
                    data=UserInput(display_name="X", role="admin"), allow_demo_password=False)
    return name


def attempt(db, name, password, ip, now):
    with db.write() as s:
        return authenticate(s, name, password, ip=ip, demo_mode=True, policy=POLICY, now=now)


def test_repeated_failures_make_that_network_wait_longer_each_time(db):
    policy = ThrottlePolicy(max_failures_per_network=3, window=timedelta(hours=1),
                            lock=timedelta(minutes=10))
    name, ip, now = make_user(db), "10.2.0.1", utcnow()

    def try_(password, at, address=ip):
        with db.write() as s:
            return authenticate(s, name, password, ip=address, demo_mode=True, policy=policy,
                                now=at)

    assert try_("wrong", now).outcome is Outcome.BAD_CREDENTIALS
    assert try_("wrong", now).outcome is Outcome.BAD_CREDENTIALS
    third = try_("wrong", now)  # the limit: told about the wait at once
    assert third.outcome is Outcome.LOCKED_NETWORK
    assert third.locked_until == now + timedelta(minutes=1)
    # the whole /24 waits, even with the right password
    assert try_(PASSWORD, now + timedelta(seconds=30), "10.2.0.200").outcome \
        is Outcome.LOCKED_NETWORK
    # each further failure doubles the wait: 2, 4, 8 minutes, then at most the lock (10)
    at = third.locked_until
    for minutes in (2, 4, 8, 10, 10):
        at += timedelta(seconds=1)
        result = try_("wrong", at)
        assert result.outcome is Outcome.LOCKED_NETWORK
        assert result.locked_until == at + timedelta(minutes=minutes), minutes
        at = result.locked_until
    # once the wait has passed, the right password works from that network
    assert try_(PASSWORD, at + timedelta(seconds=1)).outcome is Outcome.OK
    with db.read() as s:
        actions = dict(s.execute(select(AuditEvent.action, func.count()).where(
            AuditEvent.subject == name).group_by(AuditEvent.action)).all())
    assert actions == {"sign_in_failed": 8, "sign_in_locked": 1, "user_created": 1,
                       "sign_in": 1}


def test_failures_from_one_network_never_keep_the_owner_out_from_another(db):
    """50 wrong passwords from 10.0.0.0/24 (before: the account itself was locked)."""
    name, now = make_user(db), utcnow()
    outcomes = [attempt(db, name, "guess", f"10.0.0.{i % 250 + 1}", now).outcome
                for i in range(50)]
    assert outcomes[:2] == [Outcome.BAD_CREDENTIALS] * 2
    assert set(outcomes[2:]) == {Outcome.LOCKED_NETWORK}
    owner = attempt(db, name, PASSWORD, "192.168.1.5", now + timedelta(seconds=1))
    assert owner.outcome is Outcome.OK and owner.token
    with db.read() as s:
        refused = s.scalars(select(AuditEvent.details).where(
            AuditEvent.subject == name, AuditEvent.action == "sign_in_locked")).all()
        success = s.scalar(select(AuditEvent.details).where(
            AuditEvent.subject == name, AuditEvent.action == "sign_in"))
    assert len(refused) == 47
    assert refused[0]["scope"] == "network" and refused[0]["network"] == "10.0.0.0/24"
    assert refused[0]["network_failures"] == 3 and refused[0]["until"]
    # the owner's success is audited with what it got past
    assert success["after_failures"] == {"network": "192.168.1.0/24", "network_failures": 0,
                                         "account_failures": 3, "ceiling": False}


def test_a_success_starts_the_count_afresh_for_that_network_only(db):
    name, now = make_user(db), utcnow()
    attempt(db, name, "wrong", "10.2.1.1", now)
    attempt(db, name, "wrong", "10.2.1.1", now)
    attempt(db, name, "wrong", "10.2.9.1", now)
    attempt(db, name, "wrong", "10.2.9.1", now)
    assert attempt(db, name, PASSWORD, "10.2.1.1", now).outcome is Outcome.OK
    assert attempt(db, name, "wrong", "10.2.1.1", now).outcome is Outcome.BAD_CREDENTIALS
    # the other network's failures still count: the owner's success is no gift to it
    assert attempt(db, name, "wrong", "10.2.9.1", now).outcome is Outcome.LOCKED_NETWORK


def test_the_account_ceiling_slows_every_failing_network_but_lets_a_new_one_in(db):
    """A guessing campaign from many networks: past the ceiling each network that failed
    waits the whole lock after each failure; a network that has not failed is still
    checked, and the right password gets in."""
    policy = ThrottlePolicy(max_failures_per_network=3, max_failures_per_address=6,
                            account_ceiling=8, window=timedelta(minutes=15),
                            lock=timedelta(minutes=10))
    name, now = make_user(db), utcnow()

    def try_(password, ip, at=now):
        with db.write() as s:
            return authenticate(s, name, password, ip=ip, demo_mode=True, policy=policy, now=at)

    for net in range(7):  # 7 networks, one failure each: below the ceiling, no waits
        assert try_("guess", f"10.4.{net}.1").outcome is Outcome.BAD_CREDENTIALS
    eighth = try_("guess", "10.4.7.1")  # reaches the ceiling: this network waits the lock
    assert eighth.outcome is Outcome.LOCKED_NETWORK
    assert eighth.locked_until == now + policy.lock
    # a network that failed once waits now, even with the right password
    assert try_(PASSWORD, "10.4.0.9", now + timedelta(minutes=1)).outcome \
        is Outcome.LOCKED_NETWORK
    # a new network's wrong guess is checked, and starts the whole lock for it
    fresh = try_("guess", "10.4.8.1", now + timedelta(minutes=1))
    assert fresh.outcome is Outcome.LOCKED_NETWORK
    assert fresh.locked_until == now + timedelta(minutes=1) + policy.lock
    # the owner, from a network that has not failed, gets in with the right password
    assert try_(PASSWORD, "172.16.5.5", now + timedelta(minutes=2)).outcome is Outcome.OK
    with db.read() as s:
        failed = s.scalars(select(AuditEvent.details).where(
            AuditEvent.subject == name, AuditEvent.action == "sign_in_failed")
            .order_by(AuditEvent.id)).all()
    assert [d["ceiling"] for d in failed] == [False] * 7 + [True, True]
    assert failed[-1]["account_failures"] == 9 and failed[-1]["until"]


def test_many_failures_from_one_address_lock_that_address(db):
    ip, now = "10.2.2.1", utcnow()
    for _i in range(6):  # six different, unknown usernames
        attempt(db, unique("nobody"), "guess", ip, now)
    name = make_user(db)
    assert attempt(db, name, PASSWORD, ip, now).outcome is Outcome.LOCKED_ADDRESS
    assert attempt(db, name, PASSWORD, "10.2.2.2", now).outcome is Outcome.OK


def test_an_ipv6_network_is_its_64(db):
    name, now = make_user(db), utcnow()
    for address in ("2001:db8:1:2::1", "2001:db8:1:2:ffff:1:2:3", "2001:DB8:1:2:abcd::9"):
        attempt(db, name, "wrong", address, now)
    assert attempt(db, name, PASSWORD, "2001:db8:1:2:9::1", now).outcome is Outcome.LOCKED_NETWORK
    assert attempt(db, name, PASSWORD, "2001:db8:1:3::1", now).outcome is Outcome.OK


def test_network_of_addresses():
    assert network_of("10.1.2.3") == Network("10.1.2.3", "10.1.2.0/24", "10.1.2.")
    assert network_of("::ffff:10.1.2.3").label == "10.1.2.0/24"
    v6 = network_of("2001:DB8::1")
    assert v6.address == "2001:0db8:0000:0000:0000:0000:0000:0001"
    assert v6.label == "2001:db8::/64" and v6.prefix == "2001:0db8:0000:0000:"
    assert network_of("not an address") == Network("not an address", "not an address")
    assert network_of(None) == Network(None, "unknown")


def test_checking_the_password_again_counts_per_network(db):
    name, now = make_user(db), utcnow()
    with db.write() as s:
        user = s.scalar(select(User).where(User.username == name))
        outcomes = [reverify(s, user, "wrong", ip="10.2.6.1", policy=POLICY, now=now)
                    for _i in range(4)]
        elsewhere = reverify(s, user, PASSWORD, ip="10.2.7.1", policy=POLICY, now=now)
    assert outcomes == [Outcome.BAD_CREDENTIALS, Outcome.BAD_CREDENTIALS,
                        Outcome.LOCKED_NETWORK, Outcome.LOCKED_NETWORK]
    assert elsewhere is Outcome.OK
    with db.read() as s:
        locked = s.scalar(select(AuditEvent.details).where(
            AuditEvent.subject == name, AuditEvent.action == "sign_in_locked"))
    assert locked["channel"] == "password_check" and locked["network"] == "10.2.6.0/24"


def test_unknown_users_and_wrong_passwords_get_the_same_answer(db):
    now = utcnow()
    assert attempt(db, unique("ghost"), "x", "10.2.3.1", now).outcome is Outcome.BAD_CREDENTIALS
    assert attempt(db, make_user(db), "x", "10.2.3.1", now).outcome is Outcome.BAD_CREDENTIALS


def test_the_demo_password_is_refused_outside_demo_mode(db):
    with db.write() as s:
        result = authenticate(s, "head", "portal-demo", ip="10.2.4.1", demo_mode=False)
    assert result.outcome is Outcome.DEMO_PASSWORD_REFUSED and result.token is None
    with db.write() as s:
        assert authenticate(s, "head", "portal-demo", ip="10.2.4.1", demo_mode=True).token


def test_a_session_ends_after_the_idle_timeout_and_polling_does_not_count(db):
    name, now = make_user(db), utcnow()
    token = attempt(db, name, PASSWORD, "10.2.5.1", now).token
    idle, max_age = timedelta(minutes=30), timedelta(hours=12)
    with db.read() as s:
        assert check_session(s, token, idle_timeout=idle, max_age=max_age,
                             now=now + timedelta(minutes=29))
        assert check_session(s, token, idle_timeout=idle, max_age=max_age,
                             now=now + timedelta(minutes=31)) is None
        active = check_session(s, token, idle_timeout=idle, max_age=max_age,
                               now=now + timedelta(minutes=20))
    with db.write() as s:
        touch(s, active.session_id, now + timedelta(minutes=20))
    with db.read() as s:
        assert check_session(s, token, idle_timeout=idle, max_age=max_age,
                             now=now + timedelta(minutes=45))
        assert check_session(s, token, idle_timeout=idle, max_age=max_age,
                             now=now + timedelta(hours=13)) is None
        assert check_session(s, "forged-token", idle_timeout=idle, max_age=max_age) is None
