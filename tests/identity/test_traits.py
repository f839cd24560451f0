"""Last-write-wins traits: per key, by (timestamp, message_id), whatever the arrival order."""

from __future__ import annotations

from datetime import timedelta
from functools import reduce
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from headwater.identity import TraitValue, merge_profiles, merge_traits, plain
from tests.identity.build import T0

_settings = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

Update = tuple[dict[str, Any], int, str]  # traits, minute, message_id


def _apply(traits: dict[str, TraitValue], update: Update) -> dict[str, TraitValue]:
    incoming, minute, message_id = update
    return merge_traits(
        traits, incoming, timestamp=T0 + timedelta(minutes=minute), message_id=message_id
    )


def _fold(updates: list[Update]) -> dict[str, TraitValue]:
    return reduce(_apply, updates, {})


def test_the_newer_value_wins_per_key() -> None:
    traits = _fold([({"plan": "free", "name": "Jane"}, 0, "m1"), ({"plan": "pro"}, 5, "m2")])
    assert plain(traits) == {"plan": "pro", "name": "Jane"}
    assert traits["plan"] == TraitValue("pro", T0 + timedelta(minutes=5), "m2")
    assert traits["name"].message_id == "m1"


def test_a_late_older_event_never_overwrites() -> None:
    traits = _fold([({"plan": "pro"}, 5, "m2"), ({"plan": "free", "city": "Oslo"}, 0, "m1")])
    assert plain(traits) == {"plan": "pro", "city": "Oslo"}


def test_same_timestamp_is_ordered_by_message_id() -> None:
    assert plain(_fold([({"x": 1}, 0, "b"), ({"x": 2}, 0, "a")])) == {"x": 1}
    assert plain(_fold([({"x": 2}, 0, "a"), ({"x": 1}, 0, "b")])) == {"x": 1}


def test_nested_objects_are_replaced_whole_and_none_is_a_value() -> None:
    traits = _fold(
        [
            ({"address": {"city": "Oslo", "zip": "0150"}, "nick": "J"}, 0, "m1"),
            ({"address": {"city": "Bergen"}, "nick": None}, 1, "m2"),
            ({"nick": "old"}, 0, "m0"),
        ]
    )
    assert plain(traits) == {"address": {"city": "Bergen"}, "nick": None}


def test_merge_traits_does_not_change_its_input() -> None:
    current = _fold([({"a": 1}, 0, "m1")])
    before = dict(current)
    _apply(current, ({"a": 2}, 1, "m2"))
    assert current == before


def test_merge_profiles_keeps_the_newer_value_per_key() -> None:
    a = _fold([({"plan": "pro", "name": "Jane"}, 5, "m5")])
    b = _fold([({"plan": "free", "city": "Oslo"}, 1, "m1"), ({"name": "J."}, 9, "m9")])
    assert plain(merge_profiles(a, b)) == {"plan": "pro", "name": "J.", "city": "Oslo"}
    assert merge_profiles(a, b) == merge_profiles(b, a)


_values = st.none() | st.integers(-3, 3) | st.sampled_from(["a", "b"]) | st.lists(st.booleans())
_updates = st.lists(
    st.tuples(
        st.dictionaries(st.sampled_from(["plan", "name", "city", "age"]), _values, max_size=3),
        st.integers(min_value=0, max_value=4),
    ),
    max_size=8,
).map(lambda items: [(traits, minute, f"m{n}") for n, (traits, minute) in enumerate(items)])


@_settings
@given(updates=_updates, data=st.data())
def test_the_result_does_not_depend_on_the_order_of_updates(
    updates: list[Update], data: st.DataObject
) -> None:
    shuffled = data.draw(st.permutations(updates))
    assert _fold(shuffled) == _fold(updates)


@_settings
@given(updates=_updates, data=st.data())
def test_updates_are_idempotent(updates: list[Update], data: st.DataObject) -> None:
    repeated = data.draw(st.lists(st.sampled_from(updates), max_size=5)) if updates else []
    assert _fold([*updates, *repeated]) == _fold(updates)


@_settings
@given(updates=_updates, data=st.data())
def test_merging_profiles_equals_one_profile_of_all_updates(
    updates: list[Update], data: st.DataObject
) -> None:
    split = data.draw(st.lists(st.booleans(), min_size=len(updates), max_size=len(updates)))
    left = _fold([u for u, side in zip(updates, split, strict=True) if side])
    right = _fold([u for u, side in zip(updates, split, strict=True) if not side])
    assert merge_profiles(left, right) == merge_profiles(right, left) == _fold(updates)
    assert merge_profiles(left, left) == left


@_settings
@given(values=st.lists(_values, min_size=2, max_size=4), data=st.data())
def test_one_message_id_with_two_values_still_merges_in_any_order(
    values: list[Any], data: st.DataObject
) -> None:
    updates: list[Update] = [({"x": value}, 0, "same") for value in values]
    assert _fold(data.draw(st.permutations(updates))) == _fold(updates)
