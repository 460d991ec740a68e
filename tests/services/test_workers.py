"""Which workers are alive: a heartbeat in Redis, renewed by a thread; one process without Redis."""

import time

import redis

from chat_app.services import workers


def test_without_redis_only_this_process_is_alive():
    me = workers.worker_id()
    assert workers.LocalLiveness().alive({me, "elsewhere:1:abc"}) == {me}


def test_a_worker_is_alive_while_it_beats_and_gone_when_it_stops(redis_url, redis_prefix):
    liveness = workers.RedisLiveness(redis_url, prefix=redis_prefix)
    other = workers.RedisLiveness(redis_url, prefix=redis_prefix)
    me = workers.worker_id()
    liveness.start()
    try:
        for _ in range(40):  # the first beat comes from the heartbeat thread
            if other.alive({me}):
                break
            time.sleep(0.05)
        assert other.alive({me, "never-started:1:abc"}) == {me}
        time.sleep(workers.BEAT_TTL + 0.5)  # the thread renews the beat before it lapses
        assert other.alive({me}) == {me}
    finally:
        liveness.stop()
    assert other.alive({me}) == set(), "a worker that stops says so at once"
    other.stop()


def test_a_worker_that_stops_beating_is_gone_within_the_ttl(redis_url, redis_prefix):
    client = redis.Redis.from_url(redis_url)
    client.set(f"{redis_prefix}:worker:killed:9:abc", "1", ex=workers.BEAT_TTL)  # its last beat
    liveness = workers.RedisLiveness(redis_url, prefix=redis_prefix)
    assert liveness.alive({"killed:9:abc"}) == {"killed:9:abc"}
    time.sleep(workers.BEAT_TTL + 0.2)
    assert liveness.alive({"killed:9:abc"}) == set()
    client.close()


def test_a_run_names_its_worker():
    run = workers.new_run()
    assert workers.worker_of(run) == workers.worker_id() and run != workers.new_run()
