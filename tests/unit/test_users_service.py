"""Account management: validation, conflicts, sessions ended, audit rows with the change."""

import pytest
from sqlalchemy import func, select

from station_portal.audit import AuditEvent
from station_portal.auth.models import AuthSession, User
from station_portal.auth.passwords import verify_password
from station_portal.auth.signin import authenticate
from station_portal.errors import Conflict, Forbidden, ValidationFailed
from station_portal.i18n import use_locale
from station_portal.org.models import Staff, Unit
from station_portal.services.users import (
    UserInput,
    change_own_password,
    create_user,
    reset_password,
    set_active,
    update_user,
)
from tests.helpers import unique

PASSWORD = "correct horse battery"


def admin(s) -> User:
    return s.scalar(select(User).where(User.username == "admin"))


def station(s, code="JL-CH-S") -> int:
    return s.scalar(select(Unit.id).where(Unit.code == code))


def new_head(s, name=None) -> User:
    return create_user(s, admin(s), username=name or unique("h"), password=PASSWORD,
                       data=UserInput(display_name="Head", role="station_head",
                                      scope_unit_id=station(s)),
                       allow_demo_password=False)


def audit_count(s, action, user_id) -> int:
    return s.scalar(select(func.count()).where(AuditEvent.action == action,
                                               AuditEvent.entity_id == user_id))


def test_creating_an_account_hashes_the_password_and_writes_an_audit_row(db):
    with db.write() as s:
        user = new_head(s)
        uid = user.id
    with db.read() as s:
        stored = s.get(User, uid)
        assert stored.password_hash != PASSWORD and verify_password(stored.password_hash, PASSWORD)
        assert audit_count(s, "user_created", uid) == 1


def test_a_failed_change_leaves_no_audit_row(db):
    name = unique("h")
    with pytest.raises(RuntimeError), db.write() as s:
        new_head(s, name)
        raise RuntimeError("something later in the same transaction fails")
    with db.read() as s:
        assert s.scalar(select(User).where(User.username == name)) is None
        assert s.scalar(select(func.count()).where(AuditEvent.subject == name)) == 0


@pytest.mark.parametrize(("data", "field"), [
    (UserInput(display_name="", role="station_head"), "display_name"),
    (UserInput(display_name="X", role="wizard"), "role"),
    (UserInput(display_name="X", role="station_head"), "scope_unit_id"),
    (UserInput(display_name="X", role="crew"), "staff_id"),
    (UserInput(display_name="X", role="admin", email="not-an-address"), "email"),
    (UserInput(display_name="X", role="account_manager", staff_id=1, client_ids=("x",)),
     "client_ids"),
])
def test_invalid_accounts_are_refused_with_a_message_per_field(db, data, field):
    with db.write() as s, pytest.raises(ValidationFailed) as caught:
        create_user(s, admin(s), username=unique(), password=PASSWORD, data=data,
                    allow_demo_password=False)
    assert caught.value.fields.get(field)


def test_a_station_head_cannot_be_scoped_to_a_grid(db):
    with db.write() as s, pytest.raises(ValidationFailed) as caught:
        grid = s.scalar(select(Unit.id).where(Unit.kind == "grid"))
        create_user(s, admin(s), username=unique(), password=PASSWORD,
                    data=UserInput(display_name="X", role="station_head", scope_unit_id=grid),
                    allow_demo_password=False)
    assert "scope_unit_id" in caught.value.fields


def test_messages_are_in_the_users_language(db):
    with use_locale("zh_CN"), db.write() as s, pytest.raises(ValidationFailed) as caught:
        create_user(s, admin(s), username="x", password="short",
                    data=UserInput(display_name="X", role="admin"), allow_demo_password=False)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in caught.value.fields["password"])


@pytest.mark.parametrize(("username", "password", "field"), [
    ("admin", PASSWORD, "username"),
    ("no spaces allowed", PASSWORD, "username"),
    (None, PASSWORD, "username"),
    ("ok.name", "short", "password"),
    ("ok.name2", "portal-demo", "password"),  # demo password outside demo mode
    ("samepass1", "samepass1", "password"),
])
def test_usernames_and_passwords_are_checked(db, username, password, field):
    with db.write() as s, pytest.raises(ValidationFailed) as caught:
        create_user(s, admin(s), username=username, password=password,
                    data=UserInput(display_name="X", role="admin"), allow_demo_password=False)
    assert field in caught.value.fields


def test_only_admins_manage_users(db):
    with db.write() as s, pytest.raises(Forbidden):
        head = s.scalar(select(User).where(User.username == "head"))
        create_user(s, head, username=unique(), password=PASSWORD,
                    data=UserInput(display_name="X", role="admin"), allow_demo_password=False)


def test_an_edit_from_a_stale_form_is_a_conflict_and_changes_nothing(db):
    with db.write() as s:
        user = new_head(s)
        uid, version = user.id, user.version
    with db.write() as s:
        update_user(s, admin(s), uid, version, UserInput(
            display_name="First edit", role="station_head", scope_unit_id=station(s)))
    with db.write() as s, pytest.raises(Conflict):
        update_user(s, admin(s), uid, version, UserInput(
            display_name="Second edit", role="station_head", scope_unit_id=station(s)))
    with db.read() as s:
        assert s.get(User, uid).display_name == "First edit"
        assert audit_count(s, "user_updated", uid) == 1


def _sign_in(db, username, password):
    with db.write() as s:
        return authenticate(s, username, password, ip="10.1.1.1", demo_mode=True)


def test_disabling_an_account_ends_its_sessions(db):
    with db.write() as s:
        user = new_head(s)
        uid, name = user.id, user.username
    assert _sign_in(db, name, PASSWORD).token
    with db.write() as s:
        set_active(s, admin(s), uid, s.get(User, uid).version, False)
    with db.read() as s:
        assert s.scalar(select(func.count()).where(AuthSession.user_id == uid,
                                                   AuthSession.ended_at.is_(None))) == 0
    assert _sign_in(db, name, PASSWORD).token is None


def test_an_admin_cannot_disable_themselves(db):
    with db.write() as s, pytest.raises(ValidationFailed):
        me = admin(s)
        set_active(s, me, me.id, me.version, False)


def test_a_reset_gives_a_one_time_password_that_must_be_changed(db):
    with db.write() as s:
        user = new_head(s)
        uid, name = user.id, user.username
    with db.write() as s:
        _user, temporary = reset_password(s, admin(s), uid, s.get(User, uid).version)
    assert _sign_in(db, name, PASSWORD).token is None
    assert _sign_in(db, name, temporary).token
    with db.write() as s:
        user = s.get(User, uid)
        assert user.must_change_password
        assert change_own_password(s, user, temporary, "a brand new passphrase",
                                   allow_demo_password=False, keep_session=None) == {}
    with db.read() as s:
        assert not s.get(User, uid).must_change_password
        assert audit_count(s, "password_reset", uid) == 1


def test_a_staff_member_has_at_most_one_account(db):
    with db.write() as s, pytest.raises(ValidationFailed) as caught:
        taken = s.scalar(select(User.staff_id).where(User.username == "crew"))
        create_user(s, admin(s), username=unique(), password=PASSWORD,
                    data=UserInput(display_name="X", role="crew", staff_id=taken),
                    allow_demo_password=False)
    assert "crew" in caught.value.fields["staff_id"]
    with db.read() as s:
        assert s.get(Staff, taken) is not None


def test_a_change_of_the_client_list_alone_claims_a_new_version(db):
    with db.write() as s:
        staff = s.scalar(select(Staff.id).where(Staff.position == "account_manager",
                                                Staff.id.not_in(select(User.staff_id).where(
                                                    User.staff_id.is_not(None)))))
        user = create_user(s, None, username=unique("am"), password=PASSWORD,
                           data=UserInput(display_name="AM", role="account_manager",
                                          staff_id=staff, client_ids=(1,)),
                           allow_demo_password=False)
        uid, seen = user.id, user.version
    data_a = UserInput(display_name="AM", role="account_manager", staff_id=staff,
                       client_ids=(1, 2))
    data_b = UserInput(display_name="AM", role="account_manager", staff_id=staff, client_ids=())
    with db.write() as s:
        update_user(s, admin(s), uid, seen, data_a)
    with db.write() as s, pytest.raises(Conflict):
        update_user(s, admin(s), uid, seen, data_b)  # B saw the same version as A
    with db.read() as s:
        assert [c.id for c in s.get(User, uid).clients] == [1, 2]


def test_signing_in_does_not_make_an_open_edit_form_stale(db):
    with db.write() as s:
        user = new_head(s)
        uid, name, seen = user.id, user.username, user.version
    assert _sign_in(db, name, PASSWORD).token
    with db.write() as s:
        update_user(s, admin(s), uid, seen, UserInput(
            display_name="Edited", role="station_head", scope_unit_id=station(s)))


def test_a_web_edit_without_its_version_is_refused(db):
    with db.write() as s:
        uid = new_head(s).id
    with db.write() as s, pytest.raises(Conflict):
        update_user(s, admin(s), uid, None, UserInput(
            display_name="X", role="station_head", scope_unit_id=station(s)))


def test_a_company_manager_needs_an_explicit_area(db):
    with db.write() as s, pytest.raises(ValidationFailed) as caught:
        create_user(s, admin(s), username=unique(), password=PASSWORD,
                    data=UserInput(display_name="X", role="company_manager"),
                    allow_demo_password=False)
    assert "scope_unit_id" in caught.value.fields


def test_two_admins_creating_the_same_username_at_once_get_a_message(db):
    from concurrent.futures import ThreadPoolExecutor

    name = unique("twin")

    def create(_i):
        try:
            with db.write() as s:
                new_head(s, name)
            return "created"
        except ValidationFailed as exc:
            return sorted(exc.fields)

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(create, range(2)))
    assert sorted(map(str, results)) == ["['username']", "created"]
