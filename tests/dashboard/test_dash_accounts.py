"""Registration: every field rule, duplicate names and e-mails, and the bcrypt hash."""

from __future__ import annotations

import bcrypt
import pytest

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


@pytest.mark.parametrize("phone", ["", "12345", "call me", "+49 30 12ab567", "1234567890123456"])
def test_bad_phone_numbers_are_refused(app_settings: AppSettings, phone: str) -> None:
    assert "phone" in errors_for(app_settings, phone=phone)


@pytest.mark.parametrize("phone", ["+49 (30) 123-4567", "030 1234567", "5550100"])
def test_usual_phone_formats_pass(app_settings: AppSettings, phone: str) -> None:
    assert "phone" not in errors_for(app_settings, phone=phone)


@pytest.mark.parametrize(
    "password",
    ["short1!A", "alllowercaseletters", "ALLUPPER12345", " Newsroom-2024!", "Password123", "a" * 70 + "A1é€"],
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
    stored = store.credentials()["usernames"]["ada"]["password"]
    assert stored != PASSWORD
    assert bcrypt.checkpw(PASSWORD.encode(), stored.encode())
    assert store.profile(user.id)["address"] == "1 Press Street, 10115 Berlin"


def test_register_refuses_taken_names_and_emails_and_keeps_the_first(store: Store, app_settings: AppSettings) -> None:
    first, _ = register(store, registration("ada"), app_settings)
    _, name_errors = register(store, registration("ADA", email="new@example.org"), app_settings)
    _, email_errors = register(store, registration("bob", email="ADA@example.org"), app_settings)
    assert "username" in name_errors and "email" in email_errors
    assert store.count_users() == 1
    assert store.get_user("ada") == first


def test_invalid_form_creates_nothing(store: Store, app_settings: AppSettings) -> None:
    user, errors = register(store, registration("ada", age=5), app_settings)
    assert user is None and "age" in errors
    assert store.count_users() == 0
