"""Sign-in rules with a controlled clock: throttling, idle timeout, demo passwords."""

from datetime import timedelta

from sqlalchemy import func, select

from station_portal.audit import AuditEvent
from station_portal.auth.signin import (
    Outcome,
    ThrottlePolicy,
    authenticate,
    check_session,
    touch,
)
from station_portal.db import utcnow
from station_portal.services.users import UserInput, create_user
from tests.helpers import unique

PASSWORD = "correct horse battery"
POLICY = ThrottlePolicy(max_failures_per_account=3, max_failures_per_address=6,
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


def test_repeated_failures_lock_the_account_for_a_while(db):
    name, ip, now = make_user(db), "10.2.0.1", utcnow()
    assert attempt(db, name, "wrong", ip, now).outcome is Outcome.BAD_CREDENTIALS
    assert attempt(db, name, "wrong", ip, now).outcome is Outcome.BAD_CREDENTIALS
    third = attempt(db, name, "wrong", ip, now)
    assert third.outcome is Outcome.LOCKED_ACCOUNT
    assert third.locked_until == now + POLICY.lock
    # even the right password is refused while locked
    assert attempt(db, name, PASSWORD, "10.2.0.2", now + timedelta(minutes=5)).outcome \
        is Outcome.LOCKED_ACCOUNT
    # and works once the lock has passed
    assert attempt(db, name, PASSWORD, "10.2.0.2", now + timedelta(minutes=11)).outcome is Outcome.OK
    with db.read() as s:
        actions = s.execute(select(AuditEvent.action, func.count()).where(
            AuditEvent.subject == name).group_by(AuditEvent.action)).all()
    assert dict(actions) == {"sign_in_failed": 3, "sign_in_locked": 1, "user_created": 1,
                             "sign_in": 1}


def test_a_success_resets_the_failure_count(db):
    name, ip, now = make_user(db), "10.2.1.1", utcnow()
    attempt(db, name, "wrong", ip, now)
    attempt(db, name, "wrong", ip, now)
    assert attempt(db, name, PASSWORD, ip, now).outcome is Outcome.OK
    assert attempt(db, name, "wrong", ip, now).outcome is Outcome.BAD_CREDENTIALS


def test_many_failures_from_one_address_lock_that_address(db):
    ip, now = "10.2.2.1", utcnow()
    for _i in range(6):  # six different, unknown usernames
        attempt(db, unique("nobody"), "guess", ip, now)
    name = make_user(db)
    assert attempt(db, name, PASSWORD, ip, now).outcome is Outcome.LOCKED_ADDRESS
    assert attempt(db, name, PASSWORD, "10.2.2.2", now).outcome is Outcome.OK


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
