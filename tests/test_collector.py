"""A serving process sets the garbage collector for many streams at once; its thresholds come
from PYTHON_GC_THRESHOLD."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from chat_app import collector
from chat_app.settings import SettingsError, get_settings


@pytest.fixture
def python_defaults() -> Iterator[None]:
    """The test process's collector as it was, afterwards."""
    before = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*before)


async def test_a_serving_process_freezes_what_it_loaded_and_collects_young_objects_less_often(
    python_defaults,
):
    assert get_settings().gc_threshold == (50_000, 20, 10)
    await collector.settle_for_serving()
    assert gc.get_threshold() == (50_000, 20, 10)
    import litellm  # loaded before the freeze: its modules and price map are never walked again

    assert gc.get_freeze_count() > 0
    assert not any(o is litellm.model_cost for o in gc.get_objects())


async def test_an_operator_sets_other_thresholds(python_defaults, configure):
    configure(PYTHON_GC_THRESHOLD="20000, 10, 10")
    await collector.settle_for_serving()
    assert gc.get_threshold() == (20_000, 10, 10)


@pytest.mark.parametrize("value", ["50000,20", "a,b,c", "-1,10,10", "1,2,3,4"])
def test_thresholds_that_are_not_three_whole_numbers_are_refused(configure, value):
    configure(PYTHON_GC_THRESHOLD=value)
    with pytest.raises(SettingsError, match="PYTHON_GC_THRESHOLD must be three whole numbers"):
        get_settings()
