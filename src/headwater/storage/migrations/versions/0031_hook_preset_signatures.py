"""Webhook sources made from the HubSpot and Twilio presets before their signature checks were
corrected get the corrected checks, as a source made from the preset now has them: HubSpot v3
signs the URI with its escapes decoded (``{url_decoded}``), and Twilio's JSON bodies are
checked against the ``bodySHA256`` parameter of the signed URL (``body_hash_param``). A source
whose signature settings were changed by hand is left as it is.

Revision ID: 0031
"""

from __future__ import annotations

from headwater.storage.migrations import execute_script

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None

_UP = """
UPDATE hook_sources
SET config = jsonb_set(config, '{auth,signed}', '"{method}{url_decoded}{body}{timestamp}"'),
    updated_at = now()
WHERE preset = 'hubspot' AND config #>> '{auth,signed}' = '{method}{url}{body}{timestamp}';

UPDATE hook_sources
SET config = jsonb_set(config, '{auth,body_hash_param}', '"bodySHA256"'), updated_at = now()
WHERE preset = 'twilio' AND config #>> '{auth,signed}' = '{url}{form_sorted}'
  AND config #> '{auth,body_hash_param}' IS NULL;
"""

_DOWN = """
UPDATE hook_sources
SET config = jsonb_set(config, '{auth,signed}', '"{method}{url}{body}{timestamp}"')
WHERE preset = 'hubspot' AND config #>> '{auth,signed}' = '{method}{url_decoded}{body}{timestamp}';

UPDATE hook_sources SET config = config #- '{auth,body_hash_param}'
WHERE preset = 'twilio' AND config #>> '{auth,body_hash_param}' = 'bodySHA256';
"""


def upgrade() -> None:
    execute_script(_UP)


def downgrade() -> None:
    execute_script(_DOWN)
