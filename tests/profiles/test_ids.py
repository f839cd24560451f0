"""Profile ids are stored elsewhere: the way they are derived must never change."""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st

from headwater.profiles.stage import profile_id

_NAMESPACE = uuid.UUID("5d1c0f0e-7a43-4c8e-9a52-1f3b6c2d9e47")


@given(
    workspace_id=st.integers(1, 2**31 - 1),
    kind=st.sampled_from(("user", "account")),
    message_id=st.text(st.characters(exclude_categories=("Cs",))),
)
def test_profile_id_is_the_uuid5_of_workspace_kind_and_message(
    workspace_id: int, kind: str, message_id: str
) -> None:
    expected = uuid.uuid5(_NAMESPACE, f"{workspace_id}:{kind}:{message_id}").hex[:24]
    assert profile_id(workspace_id, kind, message_id) == "prf_" + expected
