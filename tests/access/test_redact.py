"""Secrets out of the audit trail: redaction by field name and by Headwater's secret forms."""

from __future__ import annotations

import pytest

from headwater.access import REDACTED, redact
from headwater.access.redact import secret_name


@pytest.mark.parametrize(
    "name",
    [
        "password",
        "Password",
        "new_password",
        "token",
        "access_token",
        "accessToken",
        "refresh-token",
        "secret",
        "client_secret",
        "clientSecret",
        "api_key",
        "apiKey",
        "API-Key",
        "X-Api-Key",
        "write_key",
        "writeKey",
        "private_key",
        "authorization",
        "Authorization",
        "credentials",
        "token_sha256",
        "Cookie",
    ],
)
def test_secret_names(name: str) -> None:
    assert secret_name(name)


@pytest.mark.parametrize(
    "name", ["name", "key", "token_id", "tokens_count", "secret_fields", "kind", "keys", "id"]
)
def test_other_names(name: str) -> None:
    assert not secret_name(name)


def test_nested_values_are_redacted_and_the_input_is_left_alone() -> None:
    value = {
        "name": "hook",
        "config": {
            "url": "https://example.com",
            "secret": {"set": True},
            "headers": {"Authorization": "Bearer abc", "X-Trace": "1"},
            "items": [{"api_key": "k1"}, {"label": "plain"}],
        },
        "secret_fields": ["secret", "headers"],
        "token_id": 4,
        "unset_password": None,
    }
    assert redact(value) == {
        "name": "hook",
        "config": {
            "url": "https://example.com",
            "secret": REDACTED,
            "headers": {"Authorization": REDACTED, "X-Trace": "1"},
            "items": [{"api_key": REDACTED}, {"label": "plain"}],
        },
        "secret_fields": ["secret", "headers"],
        "token_id": 4,
        "unset_password": None,
    }
    assert value["config"]["headers"]["Authorization"] == "Bearer abc"  # type: ignore[index]


def test_headwater_secrets_are_redacted_wherever_they_are() -> None:
    token = "hw_" + "A" * 43
    assert redact({"note": token, "list": ["hws_" + "b" * 43, "hwl_" + "c" * 43]}) == {
        "note": REDACTED,
        "list": [REDACTED, REDACTED],
    }
    assert redact({"note": "hw_short"}) == {"note": "hw_short"}


@pytest.mark.parametrize("value", [None, 3, 2.5, True, "text", [], {}])
def test_plain_values_pass(value: object) -> None:
    assert redact(value) == value
