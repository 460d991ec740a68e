import threading

import pytest

from chat_app.services import limits
from chat_app.services.errors import TooManyAttempts

THREE_A_MINUTE = limits.Limit("test", count=3, per=60, refusal="Too many tries.")


@pytest.fixture(params=["local", "redis"])
def counters(request, monkeypatch):
    if request.param == "redis":
        url, prefix = request.getfixturevalue("redis_url"), request.getfixturevalue("redis_prefix")
        backend = limits.RedisCounters(url, prefix=prefix)
    else:
        backend = limits.LocalCounters()
    monkeypatch.setattr(limits, "counters", lambda: backend)
    return backend


def test_a_limit_allows_its_count_then_refuses_with_the_wait(counters):
    assert [limits.take(THREE_A_MINUTE, "a@example.com").left for _ in range(3)] == [2, 1, 0]
    with pytest.raises(TooManyAttempts) as refused:
        limits.take(THREE_A_MINUTE, "a@example.com")
    assert 55 <= refused.value.retry_after <= 60
    assert str(refused.value).startswith("Too many tries. Try again in ")
    # Keys are apart, case and spaces aside; a refused attempt is not counted.
    assert limits.take(THREE_A_MINUTE, "b@example.com").left == 2
    assert limits.usage(THREE_A_MINUTE, " A@Example.com ").used == 3


def test_parallel_attempts_never_slip_under_the_limit(counters):
    allowed, lock = [], threading.Lock()

    def attempt():
        try:
            limits.take(THREE_A_MINUTE, "spray")
        except TooManyAttempts:
            return
        with lock:
            allowed.append(1)

    threads = [threading.Thread(target=attempt) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(allowed) == 3


def test_a_window_starts_over(counters):
    quick = limits.Limit("quick", count=1, per=0.3, refusal="Slow down.")
    limits.take(quick, "k")
    with pytest.raises(TooManyAttempts):
        limits.take(quick, "k")
    import time

    time.sleep(0.45)
    assert limits.take(quick, "k").used == 1


def test_counters_hold_no_address_in_the_clear(redis_url, redis_prefix):
    import redis

    backend = limits.RedisCounters(redis_url, prefix=redis_prefix)
    backend.add(limits._key(THREE_A_MINUTE, "someone@example.com"), 60, 1)
    keys = list(redis.Redis.from_url(redis_url, decode_responses=True).scan_iter(f"{redis_prefix}:*"))
    assert keys and not any("someone" in k for k in keys)


# ----- things in progress (slots) -----------------------------------------------------------------


@pytest.fixture(params=["local", "redis"])
def slots(request, monkeypatch):
    if request.param == "redis":
        url, prefix = request.getfixturevalue("redis_url"), request.getfixturevalue("redis_prefix")
        backend = limits.RedisSlots(url, prefix=prefix)
    else:
        backend = limits.LocalSlots()
    monkeypatch.setattr(limits, "_slots", lambda: backend)
    return backend


def test_a_slot_is_held_until_it_is_given_back(slots):
    first = limits.start("streams", "ann", 60)
    second = limits.start("streams", "ann", 60)
    assert limits.in_progress("streams", "ann") == 2
    assert limits.in_progress("streams", "bo") == 0 and limits.in_progress("other", "ann") == 0
    limits.finish("streams", "ann", first)
    limits.finish("streams", "ann", first)  # twice: nothing more is given back
    assert limits.in_progress("streams", "ann") == 1
    limits.finish("streams", "ann", second)
    assert limits.in_progress("streams", "ann") == 0


def test_a_slot_never_given_back_runs_out(slots):
    """A process that died holding a slot frees it anyway, once its time is up."""
    limits.start("streams", "ann", 0.3)
    kept = limits.start("streams", "ann", 60)
    assert limits.in_progress("streams", "ann") == 2
    import time

    time.sleep(0.45)
    assert limits.in_progress("streams", "ann") == 1
    limits.finish("streams", "ann", kept)
    assert limits.in_progress("streams", "ann") == 0
