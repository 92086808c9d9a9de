"""Registration: validate the paper's form fields, hash the password, insert the user.

Pure Python (no Streamlit), so every rule is unit-tested; the page only shows the messages.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass

import bcrypt

from dashboard.settings import AppSettings
from dashboard.store import DuplicateUserError, NewUser, Store, User

EMAIL_RE = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+$"
)
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
PHONE_ALLOWED_RE = re.compile(r"^\+?[0-9 ().\-/]+$")
# A few passwords that pass the class rules but are the first an attacker tries.
COMMON_PASSWORDS = frozenset({"password1!", "password123", "qwerty1234", "welcome123", "p@ssw0rd123", "letmein123!"})

FIELDS = (
    "full_name",
    "address",
    "email",
    "phone",
    "gender",
    "age",
    "username",
    "password",
    "confirm_password",
)


@dataclass(frozen=True)
class RegistrationForm:
    """What the user typed, untouched."""

    full_name: str = ""
    address: str = ""
    email: str = ""
    phone: str = ""
    gender: str = ""
    age: int | None = None
    username: str = ""
    password: str = ""
    confirm_password: str = ""


def password_problems(password: str, username: str, email: str, settings: AppSettings) -> list[str]:
    """Every rule the password breaks, in words a user can act on."""
    rules = settings.password
    problems = []
    if password != password.strip():
        problems.append("must not start or end with a space")
    if len(password) < rules.min_length:
        problems.append(f"needs at least {rules.min_length} characters")
    if len(password.encode()) > rules.max_bytes:
        problems.append(f"must be at most {rules.max_bytes} bytes long")
    classes = sum(
        (
            any(c.islower() for c in password),
            any(c.isupper() for c in password),
            any(c.isdigit() for c in password),
            any(c in string.punctuation or c == " " for c in password),
        )
    )
    if classes < rules.min_character_classes:
        problems.append(
            f"needs {rules.min_character_classes} of: lower-case letters, upper-case letters, digits, symbols"
        )
    lowered = password.lower()
    if username and username.lower() in lowered:
        problems.append("must not contain your user name")
    local = email.split("@")[0].lower()
    if len(local) >= 4 and local in lowered:
        problems.append("must not contain your e-mail address")
    if lowered in COMMON_PASSWORDS:
        problems.append("is too common")
    return problems


def validate_registration(form: RegistrationForm, settings: AppSettings) -> tuple[dict[str, str], dict[str, str]]:
    """(clean values, errors by field). The form is valid when errors is empty."""
    errors: dict[str, str] = {}
    full_name = " ".join(form.full_name.split())
    address = " ".join(form.address.split())
    email = form.email.strip().lower()
    username = form.username.strip().lower()
    phone = form.phone.strip()

    if not 2 <= len(full_name) <= 100:
        errors["full_name"] = "Full name: enter 2 to 100 characters."
    if not 5 <= len(address) <= 300:
        errors["address"] = "Address: enter 5 to 300 characters."
    if len(email) > 254 or not EMAIL_RE.match(email):
        errors["email"] = "E-mail: enter an address like name@example.org."
    digits = re.sub(r"\D", "", phone)
    if not PHONE_ALLOWED_RE.match(phone or "x"):
        errors["phone"] = "Phone: use digits, spaces, dashes, brackets and an optional leading +."
    elif not settings.min_phone_digits <= len(digits) <= settings.max_phone_digits:
        errors["phone"] = f"Phone: enter {settings.min_phone_digits} to {settings.max_phone_digits} digits."
    if form.gender not in settings.genders:
        errors["gender"] = "Gender: pick one of the options."
    if form.age is None or not settings.min_age <= int(form.age) <= settings.max_age:
        errors["age"] = f"Age: enter a whole number from {settings.min_age} to {settings.max_age}."
    if not settings.username_min <= len(username) <= settings.username_max or not USERNAME_RE.match(username):
        errors["username"] = (
            f"User name: {settings.username_min} to {settings.username_max} characters: "
            "letters, digits, dot, dash or underscore, starting with a letter or digit."
        )
    problems = password_problems(form.password, username, email, settings)
    if problems:
        errors["password"] = "Password " + "; ".join(problems) + "."
    if form.password != form.confirm_password:
        errors["confirm_password"] = "Confirm password: the two passwords differ."
    clean = {
        "full_name": full_name,
        "address": address,
        "email": email,
        "phone": phone,
        "gender": form.gender,
        "age": str(form.age),
        "username": username,
    }
    return clean, errors


def hash_password(password: str, rounds: int) -> str:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=rounds)).decode()


def register(store: Store, form: RegistrationForm, settings: AppSettings) -> tuple[User | None, dict[str, str]]:
    """Validate, check uniqueness and insert. Returns (user, {}) or (None, errors by field).

    Uniqueness is checked up front for friendly messages and again by the database's UNIQUE
    constraints, which settle a race between two registrations with the same name.
    """
    clean, errors = validate_registration(form, settings)
    if "username" not in errors and store.username_taken(clean["username"]):
        errors["username"] = "User name: already taken; pick another."
    if "email" not in errors and store.email_taken(clean["email"]):
        errors["email"] = "E-mail: an account with this address exists already."
    if errors:
        return None, errors
    new_user = NewUser(
        username=clean["username"],
        email=clean["email"],
        password_hash=hash_password(form.password, settings.password.bcrypt_rounds),
        full_name=clean["full_name"],
        address=clean["address"],
        phone=clean["phone"],
        gender=clean["gender"],
        age=int(clean["age"]),
    )
    try:
        return store.create_user(new_user), {}
    except DuplicateUserError as error:
        field = "email" if error.field == "email" else "username"
        label = "E-mail" if field == "email" else "User name"
        return None, {field: f"{label}: already registered."}
