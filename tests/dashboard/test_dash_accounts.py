"""Registration: every field rule, duplicate names and e-mails, and the bcrypt hash."""

from __future__ import annotations

import bcrypt
import pytest

from dashboard import accounts
from dashboard.accounts import register, validate_registration
from dashboard.settings import AppSettings
from dashboard.store import Store
from tests.dashboard.builders import PASSWORD, registration

pytest_plugins = ["tests.dashboard.support"]


def errors_for(settings: AppSettings, **changes: object) -> dict[str, str]:
    return validate_registration(registration(**changes), settings)[1]


def test_a_complete_form_is_valid(app_settings: AppSettings) -> None:
    clean, errors = validate_registration(registration("Ada_01", email=" Ada@Example.ORG "), app_settings)
    assert errors == {}
    assert clean["username"] == "ada_01"
    assert clean["email"] == "ada@example.org"


@pytest.mark.parametrize("email", ["", "ada", "ada@", "@example.org", "ada@example", "a da@example.org", "ada@@x.org"])
def test_bad_emails_are_refused(app_settings: AppSettings, email: str) -> None:
    assert "email" in errors_for(app_settings, email=email)


@pytest.mark.parametrize("age", [None, 12, 121, -1])
def test_age_outside_the_range_is_refused(app_settings: AppSettings, age: int | None) -> None:
    assert "age" in errors_for(app_settings, age=age)


@pytest.mark.parametrize("age", [13, 120])
def test_age_range_is_inclusive(app_settings: AppSettings, age: int) -> None:
    assert "age" not in errors_for(app_settings, age=age)


@pytest.mark.parametrize(
    "phone",
    ["", "12345", "call me", "+49 30 12ab567", "1234567890123456", "//1/2/3//", "+1 000 000 0000", "+49 1", "5550100"],
)
def test_bad_phone_numbers_are_refused(app_settings: AppSettings, phone: str) -> None:
    assert "phone" in errors_for(app_settings, phone=phone)


@pytest.mark.parametrize("phone", ["+49 (30) 123-4567", "+44 113 496 0000", "+1 202-555-0143", "+33 1 42 68 53 00"])
def test_usual_phone_formats_pass(app_settings: AppSettings, phone: str) -> None:
    assert "phone" not in errors_for(app_settings, phone=phone)


def test_a_national_number_passes_with_a_configured_region(app_settings: AppSettings) -> None:
    assert "phone" not in errors_for(app_settings.with_overrides(phone_region="DE"), phone="030 1234567")


@pytest.mark.parametrize(
    "password",
    [
        "short1!A",
        "alllowercaseletters",
        "ALLUPPER12345",
        " Newsroom-2024!",
        "Password123",
        "a" * 70 + "A1é€",
        "Password123!",
        "Qwerty123!",
        "aaaaaaaaA1",
        "Sunshine2024!",
        "Football#1",
    ],
)
def test_weak_passwords_are_refused(app_settings: AppSettings, password: str) -> None:
    assert "password" in errors_for(app_settings, password=password, confirm_password=password)


def test_password_may_not_contain_the_user_name(app_settings: AppSettings) -> None:
    password = "Xadaminister9"
    errors = errors_for(app_settings, username="adamin", password=password, confirm_password=password)
    assert "user name" in errors["password"]


def test_passwords_must_match(app_settings: AppSettings) -> None:
    errors = errors_for(app_settings, confirm_password=PASSWORD + "x")
    assert set(errors) == {"confirm_password"}


@pytest.mark.parametrize("username", ["ab", "-ada", "ada smith", "ada!", "x" * 33])
def test_bad_user_names_are_refused(app_settings: AppSettings, username: str) -> None:
    assert "username" in errors_for(app_settings, username=username)


def test_gender_must_be_one_of_the_options(app_settings: AppSettings) -> None:
    assert "gender" in errors_for(app_settings, gender="")
    assert "gender" in errors_for(app_settings, gender="robot")


def test_register_stores_a_bcrypt_hash_not_the_password(store: Store, app_settings: AppSettings) -> None:
    user, errors = register(store, registration("ada"), app_settings)
    assert errors == {} and user is not None
    stored = store.password_hash(user.id)
    assert stored is not None
    assert stored != PASSWORD
    assert bcrypt.checkpw(PASSWORD.encode(), stored.encode())
    assert store.profile(user.id)["address"] == "1 Press Street, 10115 Berlin"


def test_register_keeps_the_first_of_taken_names_and_emails_and_says_nothing(
    store: Store, app_settings: AppSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, _ = register(store, registration("ada"), app_settings)
    hashed: list[str] = []
    real_hash = accounts.hash_password
    monkeypatch.setattr(accounts, "hash_password", lambda p, r: hashed.append(p) or real_hash(p, r))
    assert register(store, registration("ADA", email="new@example.org"), app_settings) == (None, {})
    assert register(store, registration("bob", email="ADA@example.org"), app_settings) == (None, {})
    assert len(hashed) == 2  # a taken name costs the same bcrypt time as a new one
    assert store.count_users() == 1
    assert store.get_user("ada") == first


def test_control_characters_are_stripped_from_names_and_addresses(app_settings: AppSettings) -> None:
    clean, errors = validate_registration(
        registration(full_name="Ada\x00 \u202eReporter\u200b", address="1 Press\u2066 Street,\tBerlin"), app_settings
    )
    assert errors == {}
    assert clean["full_name"] == "Ada Reporter"
    assert clean["address"] == "1 Press Street, Berlin"


def test_the_blocklist_is_the_packaged_one(app_settings: AppSettings) -> None:
    common = accounts.common_passwords()
    assert len(common) > 10_000 and {"password", "qwerty", "123456", "letmein"} <= common


def test_registration_is_throttled_per_address_and_per_server(store: Store, app_settings: AppSettings) -> None:
    settings = app_settings.with_overrides(signups_per_address=2, signups_per_hour=3)
    for number in range(2):
        assert register(store, registration(f"ada{number}"), settings, "10.0.0.1")[0] is not None
    assert "throttled" in register(store, registration("ada8"), settings, "10.0.0.1")[1]
    assert register(store, registration("bob1"), settings, "10.0.0.2")[0] is not None
    assert "throttled" in register(store, registration("bob2"), settings, "10.0.0.3")[1]
    assert store.count_users() == 3


def test_invalid_form_creates_nothing(store: Store, app_settings: AppSettings) -> None:
    user, errors = register(store, registration("ada", age=5), app_settings)
    assert user is None and "age" in errors
    assert store.count_users() == 0
