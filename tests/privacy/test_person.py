"""A regulation's subject is the whole person: the live profile its identifier resolves to,
every profile merged into it (through others too) and every identifier they hold."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from headwater.privacy import person_of
from headwater.storage import Transaction

# prf_c was merged into prf_b, prf_b into prf_a; prf_z is someone else; workspace 2 has
# its own user u-1.
_FILL = """
INSERT INTO workspaces (id, slug, name) VALUES (2, 'other', 'Other') ON CONFLICT DO NOTHING;
INSERT INTO profiles (id, workspace_id, kind, merged_into, first_ts, first_message_id, last_ts,
    last_message_id)
VALUES ('prf_a', 1, 'user', NULL, now(), 'm', now(), 'm'),
       ('prf_b', 1, 'user', 'prf_a', now(), 'm', now(), 'm'),
       ('prf_c', 1, 'user', 'prf_b', now(), 'm', now(), 'm'),
       ('prf_z', 1, 'user', NULL, now(), 'm', now(), 'm'),
       ('prf_o', 2, 'user', NULL, now(), 'm', now(), 'm');
INSERT INTO identifiers (workspace_id, kind, type, value, profile_id, added_at, message_id)
VALUES (1, 'user', 'user_id', 'u-1', 'prf_a', now(), 'm'),
       (1, 'user', 'anonymous_id', 'a-1', 'prf_b', now(), 'm'),
       (1, 'user', 'email', 'ann@example.com', 'prf_c', now(), 'm'),
       (1, 'user', 'anonymous_id', 'a-2', 'prf_c', now(), 'm'),
       (1, 'user', 'user_id', 'u-9', 'prf_z', now(), 'm'),
       (2, 'user', 'user_id', 'u-1', 'prf_o', now(), 'm')
"""


async def test_the_person_is_every_merged_profile_and_all_their_identifiers(
    engine: AsyncEngine,
) -> None:
    async with engine.begin() as connection:
        tx = await Transaction.of(connection)
        await tx.driver.execute(_FILL)
        by_user = await person_of(tx, workspace_id=1, subject_type="USER_ID", subject_id="u-1")
        by_merged_anonymous = await person_of(
            tx, workspace_id=1, subject_type="ANONYMOUS_ID", subject_id="a-2"
        )
    assert by_user.profile_ids == ("prf_a", "prf_b", "prf_c")
    assert by_user.identifiers == (
        ("anonymous_id", "a-1"),
        ("anonymous_id", "a-2"),
        ("email", "ann@example.com"),
        ("user_id", "u-1"),
    )
    assert by_merged_anonymous == by_user
    assert by_user.values("anonymous_id") == ("a-1", "a-2")


async def test_an_identifier_the_graph_does_not_know_is_a_person_without_profiles(
    engine: AsyncEngine,
) -> None:
    async with engine.begin() as connection:
        tx = await Transaction.of(connection)
        await tx.driver.execute(_FILL)
        unknown = await person_of(
            tx, workspace_id=1, subject_type="ANONYMOUS_ID", subject_id="never-seen"
        )
        other = await person_of(tx, workspace_id=2, subject_type="USER_ID", subject_id="u-1")
    assert unknown.profile_ids == ()
    assert unknown.identifiers == (("anonymous_id", "never-seen"),)
    assert other.profile_ids == ("prf_o",)
    assert other.identifiers == (("user_id", "u-1"),)
