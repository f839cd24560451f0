"""Identity graph and profiles: identity rules, profiles, identifiers, profile events, merges,
account links and Profile API access tokens.

Revision ID: 0002
"""

from __future__ import annotations

from headwater.storage.migrations import execute_script

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_UP = """
CREATE TABLE identity_rules (
    workspace_id integer PRIMARY KEY REFERENCES workspaces (id),
    rules jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE profiles (
    id text COLLATE "C" PRIMARY KEY,
    workspace_id integer NOT NULL,
    kind text NOT NULL CHECK (kind IN ('user', 'account')),
    merged_into text COLLATE "C",
    merges integer NOT NULL DEFAULT 0,
    first_ts timestamptz NOT NULL,
    first_message_id text COLLATE "C" NOT NULL,
    first_source_id integer,
    last_ts timestamptz NOT NULL,
    last_message_id text COLLATE "C" NOT NULL,
    last_source_id integer,
    traits jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX profiles_live ON profiles (workspace_id, kind, id) WHERE merged_into IS NULL;
CREATE INDEX profiles_traits ON profiles USING gin (traits jsonb_path_ops);

CREATE TABLE identifiers (
    workspace_id integer NOT NULL,
    kind text NOT NULL,
    type text COLLATE "C" NOT NULL,
    value text COLLATE "C" NOT NULL,
    profile_id text COLLATE "C" NOT NULL,
    added_at timestamptz NOT NULL,
    message_id text COLLATE "C" NOT NULL,
    source_id integer,
    PRIMARY KEY (workspace_id, kind, type, value)
);
CREATE INDEX identifiers_profile ON identifiers (profile_id);

-- The newest event that mentioned each identifier, dropped ones included: an event older
-- than this must be resolved by rebuilding its component in canonical order.
CREATE TABLE identifier_mentions (
    workspace_id integer NOT NULL,
    kind text NOT NULL,
    type text COLLATE "C" NOT NULL,
    value text COLLATE "C" NOT NULL,
    newest_ts timestamptz NOT NULL,
    newest_message_id text COLLATE "C" NOT NULL,
    PRIMARY KEY (workspace_id, kind, type, value)
);

CREATE TABLE profile_events (
    workspace_id integer NOT NULL,
    kind text NOT NULL,
    message_id text COLLATE "C" NOT NULL,
    profile_id text COLLATE "C" NOT NULL,
    seq bigint NOT NULL,
    timestamp timestamptz NOT NULL,
    type text NOT NULL,
    name text,
    mentions jsonb NOT NULL,
    previous_id text,
    PRIMARY KEY (workspace_id, kind, message_id)
);
CREATE INDEX profile_events_profile ON profile_events (profile_id, timestamp, message_id);

CREATE TABLE profile_merges (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id integer NOT NULL,
    kind text NOT NULL,
    survivor_id text COLLATE "C" NOT NULL,
    merged_id text COLLATE "C" NOT NULL,
    message_id text COLLATE "C" NOT NULL,
    merged_at timestamptz NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX profile_merges_survivor ON profile_merges (survivor_id);
CREATE INDEX profile_merges_merged ON profile_merges (merged_id);

CREATE TABLE account_links (
    workspace_id integer NOT NULL,
    user_profile_id text COLLATE "C" NOT NULL,
    account_profile_id text COLLATE "C" NOT NULL,
    message_id text COLLATE "C" NOT NULL,
    linked_at timestamptz NOT NULL,
    PRIMARY KEY (user_profile_id, account_profile_id)
);
CREATE INDEX account_links_account ON account_links (account_profile_id);

CREATE TABLE access_tokens (
    id serial PRIMARY KEY,
    workspace_id integer NOT NULL REFERENCES workspaces (id),
    token_sha256 text NOT NULL UNIQUE,
    name text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
)
"""

_DOWN = """
DROP TABLE access_tokens, account_links, profile_merges, profile_events, identifier_mentions,
    identifiers, profiles, identity_rules
"""


def upgrade() -> None:
    execute_script(_UP)


def downgrade() -> None:
    execute_script(_DOWN)
