"""The built-in detectors: true positives, and the look-alikes they must not take."""

from __future__ import annotations

import pytest

from headwater.pii import DETECTORS, detect, personal_key
from headwater.pii.detectors import iban_valid, luhn


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("email", "ana.silva+news@example.co.uk"),
        ("email", "write to ana@example.com today"),
        ("phone", "+14155550123"),
        ("phone", "+44 20 7946 0958"),
        ("phone", "(415) 555-0123"),
        ("phone", "415-555-0123"),
        ("phone", "020 7946 0958"),
        ("phone", "0612345678"),
        ("card", "4111111111111111"),
        ("card", "4111 1111 1111 1111"),
        ("card", "5500-0000-0000-0004"),
        ("card", "378282246310005"),
        ("iban", "GB82 WEST 1234 5698 7654 32"),
        ("iban", "DE89370400440532013000"),
        ("iban", "fr1420041010050500013m02606"),
        ("government_id", "123-45-6789"),
        ("government_id", "AB 12 34 56 C"),
        ("government_id", "12345678Z"),
        ("government_id", "X1234567L"),
        ("government_id", "130-692-544"),
        ("ip", "192.168.0.1"),
        ("ip", "2001:db8::1"),
        ("location", "48.8566, 2.3522"),
    ],
)
def test_finds(name: str, value: str) -> None:
    assert DETECTORS[name]("field", value)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("email", "not an address"),
        ("email", "@handle"),
        ("phone", "1234567890"),  # a bare number: an id, not a phone
        ("phone", "192.168.100.200"),
        ("phone", "12345.678901"),
        ("phone", "2024-01-15"),
        ("phone", "+0123456789"),
        ("card", "4111 1111 1111 1112"),  # fails Luhn
        ("card", "0000 0000 0000 0000"),
        ("card", "411111111111"),  # 12 digits
        ("iban", "GB82 WEST 1234 5698 7654 33"),  # fails mod 97
        ("iban", "GB82 WEST 1234 5698 7654"),  # too short for GB
        ("iban", "XX82WEST12345698765432"),  # no such country
        ("government_id", "000-12-3456"),
        ("government_id", "666-12-3456"),
        ("government_id", "912-12-3456"),
        ("government_id", "123-00-4567"),
        ("government_id", "123-45-0000"),
        ("government_id", "123456789"),  # no separators: too generic
        ("government_id", "QQ 12 34 56 C"),  # a prefix never issued
        ("government_id", "GB 12 34 56 C"),
        ("government_id", "12345678A"),  # wrong check letter
        ("government_id", "130-692-545"),  # fails Luhn
        ("government_id", "046-454-286"),  # Luhn, but no SIN starts with 0
        ("ip", "1.2.3"),
        ("ip", "300.1.1.1"),
        ("ip", "version 1.2.3.4"),
        ("location", "48.85, 2.35"),  # too coarse
        ("location", "95.12345, 2.35222"),  # out of range
    ],
)
def test_refuses(name: str, value: str) -> None:
    assert not DETECTORS[name]("field", value)


def test_numbers_are_only_coordinates() -> None:
    assert DETECTORS["location"]("latitude", 48.8566)
    assert DETECTORS["location"]("lng", "2.3522")
    assert not DETECTORS["location"]("latitude", 48.8)
    assert not DETECTORS["location"]("latitude", 120.1234)
    assert not DETECTORS["location"]("total", 48.8566)
    assert not DETECTORS["card"]("n", 4111111111111111)
    assert not DETECTORS["location"]("lat", True)


def test_detect_names_every_kind_found() -> None:
    assert detect("contact", "ana@example.com") == ["email"]
    assert detect("plan", "pro") == []


def test_checks() -> None:
    assert luhn("79927398713")
    assert not luhn("79927398710")
    assert iban_valid("NL91 ABNA 0417 1643 00")
    assert not iban_valid("NL91 ABNA 0417 1643 01")


@pytest.mark.parametrize(
    ("key", "personal"),
    [
        ("email", True),
        ("billingEmail", True),
        ("phone_number", True),
        ("ssn", True),
        ("home_address", True),
        ("date_of_birth", True),
        ("ip", True),
        ("latitude", True),
        ("plan", False),
        ("total", False),
        ("sku", False),
    ],
)
def test_key_heuristic(key: str, personal: bool) -> None:
    assert personal_key(key) is personal
