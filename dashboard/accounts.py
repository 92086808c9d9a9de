"""Registration: validate the paper's form fields, hash the password, insert the user.

Pure Python (no Streamlit), so every rule is unit-tested; the page only shows the messages.
"""

from __future__ import annotations

import re
import string
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import bcrypt
import phonenumbers
from zxcvbn import zxcvbn
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from dashboard.settings import AppSettings
from dashboard.store import DuplicateUserError, NewUser, Store, User

EMAIL_RE = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+$"
)
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
PHONE_ALLOWED_RE = re.compile(r"^\+?[0-9 ().\-]+$")
# What registration answers in every case, so it never tells whether a name or address is taken.
REGISTRATION_DONE = (
    "Thank you. If this user name and e-mail address were not registered yet, your account is ready: "
    "log in with your user name in the *Log in* tab. If you cannot log in, the user name or the address "
    "is already registered: log in with that account, or register again with another user name."
)
REGISTRATION_THROTTLED = "Too many new accounts from here in the last hour; please try again later."

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


# Every Unicode category except the "other" ones: controls become spaces, the rest (format, private,
# unassigned) are dropped.
_KEPT = {"Lu", "Ll", "Lt", "Lm", "Lo", "Mn", "Mc", "Me", "Nd", "Nl", "No", "Pc", "Pd", "Ps", "Pe", "Pi", "Pf", "Po"}
_KEPT |= {"Sm", "Sc", "Sk", "So", "Zs", "Zl", "Zp", "Cc"}


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The 30,000 most common passwords of zxcvbn's packaged list (from real leaks), lower case."""
    return frozenset(FREQUENCY_LISTS["passwords"])


def clean_text(value: str) -> str:
    """Drop control and formatting characters (NUL, right-to-left overrides, zero-width joiners), fold spaces.

    They let a name look like another one, or reorder what is shown next to it.
    """
    text = unicodedata.normalize("NFC", value)
    kept = "".join(" " if unicodedata.category(c) == "Cc" else c for c in text if unicodedata.category(c) in _KEPT)
    return " ".join(kept.split())


def phone_problem(phone: str, settings: AppSettings) -> str | None:
    """None for a real phone number (by its country's numbering plan), else what to fix."""
    hint = "Phone: enter a number with its country code, like +49 30 1234567."
    if not PHONE_ALLOWED_RE.match(phone or "x"):
        return hint
    try:
        number = phonenumbers.parse(phone, settings.phone_region)
    except phonenumbers.NumberParseException:
        return hint
    return None if phonenumbers.is_valid_number(number) else hint


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
    if lowered in common_passwords() or lowered.rstrip(string.punctuation + string.digits) in common_passwords():
        problems.append("is one of the most common passwords")
    elif not problems and zxcvbn(password[:100], user_inputs=[username, email])["score"] < rules.min_strength:
        problems.append("is too easy to guess: use a longer phrase of unrelated words")
    return problems


def validate_registration(form: RegistrationForm, settings: AppSettings) -> tuple[dict[str, str], dict[str, str]]:
    """(clean values, errors by field). The form is valid when errors is empty."""
    errors: dict[str, str] = {}
    full_name = clean_text(form.full_name)
    address = clean_text(form.address)
    email = form.email.strip().lower()
    username = form.username.strip().lower()
    phone = clean_text(form.phone)

    if not 2 <= len(full_name) <= 100:
        errors["full_name"] = "Full name: enter 2 to 100 characters."
    if not 5 <= len(address) <= 300:
        errors["address"] = "Address: enter 5 to 300 characters."
    if len(email) > 254 or not EMAIL_RE.match(email):
        errors["email"] = "E-mail: enter an address like name@example.org."
    problem = phone_problem(phone, settings)
    if problem:
        errors["phone"] = problem
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


def register(
    store: Store, form: RegistrationForm, settings: AppSettings, address: str = "unknown"
) -> tuple[User | None, dict[str, str]]:
    """Validate, hash and insert. Returns (user or None, errors by field).

    A taken user name or e-mail is not an error the form shows: the caller answers
    `REGISTRATION_DONE` either way, and the password is hashed in both cases so the answer takes as
    long. The database's UNIQUE constraints settle a race between two registrations of one name.
    Anonymous registration is throttled per client address and for the whole server.
    """
    clean, errors = validate_registration(form, settings)
    if errors:
        return None, errors
    if not store.throttle("signup-address", address, settings.signups_per_address, 3600.0) or not store.throttle(
        "signup-server", "all", settings.signups_per_hour, 3600.0
    ):
        return None, {"throttled": REGISTRATION_THROTTLED}
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
    except DuplicateUserError:
        return None, {}
