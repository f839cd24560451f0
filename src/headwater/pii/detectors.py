"""Built-in detectors of personal values (pure, no I/O).

Each detector answers, for one field (its key and its decoded JSON value), whether the value is
of its kind. They check what can be checked exactly, to keep false positives rare:

- ``email``: an address (``name@domain.tld``) anywhere in a string;
- ``phone``: E.164 (``+14155550123``) or a national format with separators or a trunk ``0``
  (``(415) 555-0123``, ``020 7946 0958``, ``06 12 34 56 78``): 10 to 15 digits (8 to 15 after
  ``+``), never an IP address or a decimal number;
- ``card``: 13 to 19 digits, with spaces or dashes between groups, passing the Luhn check;
- ``iban``: a country's length (the IBAN registry's) and the mod-97 check;
- ``government_id``: a US SSN (``123-45-6789``, without the invalid areas 000, 666 and
  900-999, group 00 or serial 0000), a UK National Insurance number (``QQ 12 34 56 C``, valid
  prefixes only), a Spanish DNI or NIE (its check letter), a Canadian SIN (``046-454-286``, Luhn);
- ``ip``: an IPv4 or IPv6 address (:mod:`ipaddress`);
- ``location``: a ``"lat, long"`` pair with at least 3 decimals each, or a number with at least
  3 decimals under a key named ``lat``, ``latitude``, ``lng``, ``lon`` or ``longitude``, in range.

Numbers are never card numbers, phone numbers or ids (an integer id passes Luhn one time in
ten); only coordinates are read from numbers.

>>> card = DETECTORS["card"]
>>> card("number", "4111 1111 1111 1111"), card("number", "4111 1111 1111 1112")
(True, False)
>>> DETECTORS["iban"]("iban", "GB82 WEST 1234 5698 7654 32")
True
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from typing import Any, Final

from headwater.access.personal import DEFAULT, words

__all__ = ["DETECTORS", "NUMBERS", "Detector", "detect", "luhn", "personal_key"]

Detector = Callable[[str, Any], bool]
"""(key, value) -> is the value of this kind."""

_EMAIL: Final = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.[A-Za-z]{2,24}"
)
_PHONE_CHARS: Final = re.compile(r"\+?[0-9 ().\-]{7,24}")
_PHONE_START: Final = frozenset("+(0123456789")
_DECIMAL: Final = re.compile(r"-?\d+\.\d+")
_CARD: Final = re.compile(r"\d(?:[ -]?\d){12,18}")
_IBAN: Final = re.compile(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}")
_SSN: Final = re.compile(r"(\d{3})([- ])(\d{2})\2(\d{4})")
_NINO: Final = re.compile(r"([A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]) ?\d{2} ?\d{2} ?\d{2} ?[A-D]")
_NINO_NEVER: Final = frozenset({"BG", "GB", "NK", "KN", "TN", "NT", "ZZ"})
_DNI: Final = re.compile(r"([XYZ]?)(\d{7,8})-?([A-Z])")
_DNI_LETTERS: Final = "TRWAGMYFPDXBNJZSQVHLCKE"
_SIN: Final = re.compile(r"(\d{3})([- ])(\d{3})\2(\d{3})")
_PAIR: Final = re.compile(r"\s*(-?\d{1,3}\.(\d+))\s*[,;]\s*(-?\d{1,3}\.(\d+))\s*")
_LATITUDE_KEYS: Final = frozenset({"lat", "latitude"})
_LONGITUDE_KEYS: Final = frozenset({"lng", "lon", "long", "longitude"})

_IBAN_LENGTHS: Final = {
    **dict.fromkeys(["NO"], 15),
    **dict.fromkeys(["BE"], 16),
    **dict.fromkeys(["DK", "FI", "FO", "GL", "NL", "SD"], 18),
    **dict.fromkeys(["MK", "SI"], 19),
    **dict.fromkeys(["AT", "BA", "EE", "KZ", "LT", "LU", "XK"], 20),
    **dict.fromkeys(["CH", "CR", "HR", "LI", "LV"], 21),
    **dict.fromkeys(["BG", "BH", "DE", "GB", "GE", "IE", "ME", "RS", "VA"], 22),
    **dict.fromkeys(["AE", "GI", "IL", "IQ", "TL"], 23),
    **dict.fromkeys(["AD", "CZ", "ES", "MD", "PK", "RO", "SA", "SE", "SK", "TN", "VG"], 24),
    **dict.fromkeys(["LY", "PT", "ST"], 25),
    **dict.fromkeys(["IS", "TR"], 26),
    **dict.fromkeys(["FR", "GR", "IT", "MC", "MR", "SM"], 27),
    **dict.fromkeys(["AL", "AZ", "BY", "CY", "DO", "GT", "HU", "LB", "PL", "SV"], 28),
    **dict.fromkeys(["BR", "EG", "PS", "QA", "UA"], 29),
    **dict.fromkeys(["JO", "KW", "MU"], 30),
    **dict.fromkeys(["MT", "SC"], 31),
    **dict.fromkeys(["LC"], 32),
    **dict.fromkeys(["RU"], 33),
}
"""Each country's IBAN length (the SWIFT IBAN registry)."""


def luhn(digits: str) -> bool:
    """The Luhn check of a string of digits.

    >>> luhn("79927398713"), luhn("79927398710")
    (True, False)
    """
    total = 0
    for position, char in enumerate(reversed(digits)):
        digit = ord(char) - 48
        if position % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def _email(key: str, value: Any) -> bool:
    return isinstance(value, str) and "@" in value and _EMAIL.search(value) is not None


def _phone(key: str, value: Any) -> bool:
    if not isinstance(value, str) or not 7 <= len(value) <= 24 or value[0] not in _PHONE_START:
        return False
    if _PHONE_CHARS.fullmatch(value) is None:
        return False
    if _DECIMAL.fullmatch(value) or _ip(key, value):
        return False
    digits = sum(c.isdigit() for c in value)
    if value.startswith("+"):
        return 8 <= digits <= 15 and value[1:2] != "0"
    stripped = value.lstrip("(")
    separated = any(c in value for c in " ()-.")
    return 10 <= digits <= 15 and (separated or stripped.startswith("0"))


def _card(key: str, value: Any) -> bool:
    if not isinstance(value, str) or not 13 <= len(value) <= 40 or not value.lstrip()[:1].isdigit():
        return False
    if _CARD.fullmatch(value.strip()) is None:
        return False
    digits = "".join(c for c in value if c.isdigit())
    return len(set(digits)) > 1 and luhn(digits)


def iban_valid(text: str) -> bool:
    """Is ``text`` (spaces allowed, any case) an IBAN of the right length with a good check?"""
    compact = text.replace(" ", "").upper()
    if _IBAN.fullmatch(compact) is None or _IBAN_LENGTHS.get(compact[:2]) != len(compact):
        return False
    rearranged = compact[4:] + compact[:4]
    number = "".join(str(int(c, 36)) for c in rearranged)
    return int(number) % 97 == 1


def _iban(key: str, value: Any) -> bool:
    return (
        isinstance(value, str)
        and 15 <= len(value) <= 42
        and value[:2].isalpha()
        and value[2:4].isdigit()
        and iban_valid(value)
    )


def _ssn(text: str) -> bool:
    found = _SSN.fullmatch(text)
    if found is None:
        return False
    area, _, group, serial = found.groups()
    return area not in ("000", "666") and area[0] != "9" and group != "00" and serial != "0000"


def _nino(text: str) -> bool:
    found = _NINO.fullmatch(text.upper())
    return found is not None and found.group(1) not in _NINO_NEVER


def _dni(text: str) -> bool:
    found = _DNI.fullmatch(text.upper())
    if found is None:
        return False
    prefix, number, letter = found.groups()
    if prefix:
        if len(number) != 7:
            return False
        number = str("XYZ".index(prefix)) + number
    elif len(number) != 8:
        return False
    return _DNI_LETTERS[int(number) % 23] == letter


def _sin(text: str) -> bool:
    found = _SIN.fullmatch(text)
    if found is None:
        return False
    digits = found.group(1) + found.group(3) + found.group(4)
    return digits[0] not in "08" and luhn(digits)


def _government_id(key: str, value: Any) -> bool:
    if not isinstance(value, str) or not 9 <= len(value) <= 13:
        return False
    text = value.strip()
    return _ssn(text) or _nino(text) or _dni(text) or _sin(text)


def _ip(key: str, value: Any) -> bool:
    if not isinstance(value, str) or not 2 <= len(value) <= 45:
        return False
    if "." not in value and ":" not in value:
        return False
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _decimals(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return 0
    text = value if isinstance(value, str) else repr(value)
    if _DECIMAL.fullmatch(text) is None:
        return 0
    return len(text.partition(".")[2])


def _location(key: str, value: Any) -> bool:
    if isinstance(value, str):
        pair = _PAIR.fullmatch(value)
        if pair is not None:
            lat, lat_decimals, lng, lng_decimals = pair.groups()
            return (
                len(lat_decimals) >= 3
                and len(lng_decimals) >= 3
                and abs(float(lat)) <= 90
                and abs(float(lng)) <= 180
            )
    name = words(key)
    if name not in _LATITUDE_KEYS and name not in _LONGITUDE_KEYS:
        return False
    if _decimals(value) < 3:
        return False
    limit = 90 if name in _LATITUDE_KEYS else 180
    return abs(float(value)) <= limit


DETECTORS: Final[dict[str, Detector]] = {
    "email": _email,
    "phone": _phone,
    "card": _card,
    "iban": _iban,
    "government_id": _government_id,
    "ip": _ip,
    "location": _location,
}
"""The built-in detectors by name."""

NUMBERS: Final = frozenset({"location"})
"""The detectors that may find a value other than a string (the others answer False for
anything else, so callers may skip them there)."""


def detect(key: str, value: Any) -> list[str]:
    """The names of the detectors that find ``value`` (under ``key``) personal.

    >>> detect("contact", "ana@example.com"), detect("where", "48.8566, 2.3522")
    (['email'], ['location'])
    """
    return [name for name, detector in DETECTORS.items() if detector(key, value)]


_KEY_WORDS: Final = frozenset(
    {
        "email",
        "mail",
        "phone",
        "mobile",
        "tel",
        "telephone",
        "fax",
        "ssn",
        "nino",
        "passport",
        "iban",
        "bic",
        "card",
        "cardnumber",
        "cvv",
        "address",
        "street",
        "postcode",
        "zip",
        "zipcode",
        "postalcode",
        "birthday",
        "birthdate",
        "dob",
        "ip",
        "ipaddress",
        "lat",
        "latitude",
        "lng",
        "lon",
        "longitude",
        "location",
        "firstname",
        "lastname",
        "fullname",
        "surname",
        "name",
        "taxid",
        "nationalid",
        "gender",
    }
)
_KEY_TAILS: Final = ("email", "phone", "address", "ssn", "iban", "birthday", "passport")


def personal_key(key: str) -> bool:
    """Does ``key``'s name suggest a personal value (the inbox's key heuristic)?

    >>> personal_key("billing_email"), personal_key("DateOfBirth"), personal_key("plan")
    (True, True, False)
    """
    name = words(key)
    return (
        name in _KEY_WORDS
        or name.endswith(_KEY_TAILS)
        or "birth" in name
        or DEFAULT.personal(key, trait=True)
    )
