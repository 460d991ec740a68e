"""SQLite's writers queue in the process instead of polling the file's lock."""

import threading
import time

import sqlalchemy as sa

from chat_app import db

NOTES = sa.Table("notes", sa.MetaData(), sa.Column("text", sa.Text))


def _held_elsewhere(lock) -> bool:
    """Whether another thread holds the writer queue (asked from a thread of its own)."""
    answer: list[bool] = []

    def ask() -> None:
        free = lock.acquire(blocking=False)
        if free:
            lock.release()
        answer.append(not free)

    asker = threading.Thread(target=ask)
    asker.start()
    asker.join()
    return answer[0]


def test_a_write_transaction_holds_the_queue_until_it_ends_and_the_next_writer_goes_at_once(tmp_path):
    url = f"sqlite:///{tmp_path / 'queue.db'}"
    engine = db.make_engine(url)
    NOTES.metadata.create_all(engine)
    lock = db._writer_locks[url]
    first = engine.connect()
    first.begin()
    first.execute(NOTES.insert().values(text="first"))
    assert _held_elsewhere(lock), "an open write transaction holds the queue"
    done: list[float] = []

    def second_writer() -> None:
        with engine.begin() as second:
            second.execute(NOTES.insert().values(text="second"))
        done.append(time.monotonic())

    waiting = threading.Thread(target=second_writer)
    waiting.start()
    time.sleep(0.4)  # SQLite's own lock polling would have backed off to 50-100 ms sleeps by now
    assert not done, "the second writer waits for the first"
    committed = time.monotonic()
    first.commit()
    waiting.join(timeout=10)
    assert done and done[0] - committed < 0.08, "it goes the moment the first one ends"
    assert not _held_elsewhere(lock)
    first.rollback()  # a transaction that wrote nothing leaves the queue alone
    assert not _held_elsewhere(lock)
    first.close()
    with engine.connect() as check:
        assert [r.text for r in check.execute(NOTES.select())] == ["first", "second"]
    engine.dispose()


def test_a_failed_write_transaction_gives_the_queue_back(tmp_path):
    url = f"sqlite:///{tmp_path / 'failed.db'}"
    engine = db.make_engine(url)
    NOTES.metadata.create_all(engine)
    try:
        with engine.begin() as conn:
            conn.execute(NOTES.insert().values(text="lost"))
            raise RuntimeError("the work failed")
    except RuntimeError:
        pass
    assert not _held_elsewhere(db._writer_locks[url])
    engine.dispose()
