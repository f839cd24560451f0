"""The garbage collector's set-up, as ``headwater serve`` and ``headwater worker`` apply it."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from headwater.runtime import GC_THRESHOLDS, Runtime, tune_garbage_collector
from headwater.settings import Settings


@pytest.fixture
def restored_collector() -> Iterator[None]:
    """Put the test process's collector back as it was."""
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


@pytest.mark.usefixtures("restored_collector")
def test_tuning_freezes_what_is_loaded_and_collects_less_often() -> None:
    gc.unfreeze()
    gc.set_threshold(700, 10, 10)  # Python's default: a runtime started earlier tuned this process
    tune_garbage_collector()
    assert gc.get_threshold() == GC_THRESHOLDS
    assert GC_THRESHOLDS[0] > 700
    assert gc.get_freeze_count() > 0


@pytest.mark.usefixtures("restored_collector")
async def test_a_started_runtime_has_tuned_its_process(settings: Settings) -> None:
    gc.unfreeze()
    gc.set_threshold(700, 10, 10)
    quiet = settings.model_copy(update={"run_processor": False, "run_delivery": False})
    runtime = await Runtime.start(quiet)
    try:
        assert gc.get_threshold() == GC_THRESHOLDS
        assert gc.get_freeze_count() > 0
    finally:
        await runtime.stop()
