"""The SaaS connectors as the registry and the UI see them: names, forms, secrets, limits."""

from __future__ import annotations

import pytest

from headwater.connectors import lookup

SAAS = {
    "slack": ("webhook_url",),
    "mixpanel": ("project_token", "service_account_secret"),
    "amplitude": ("api_key", "secret_key"),
    "google_analytics_4": ("api_secret",),
    "braze": ("api_key",),
    "customerio": ("api_key",),
    "hubspot": ("access_token",),
    "intercom": ("access_token",),
    "mailchimp": ("api_key",),
}


@pytest.mark.parametrize(("kind", "secrets"), sorted(SAAS.items()))
def test_registered_with_a_form_whose_credentials_are_secret(
    kind: str, secrets: tuple[str, ...]
) -> None:
    connector = lookup(kind)
    assert connector is not None
    assert connector.kind == kind
    assert connector.categories
    schema = connector.config_type.model_json_schema()
    passwords = {
        name
        for name, field in schema["properties"].items()
        if field.get("format") == "password"
        or any(option.get("format") == "password" for option in field.get("anyOf", []))
    }
    assert passwords == set(secrets)
