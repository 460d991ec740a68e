"""The record of the followers running in this worker, which a Send asks before starting another."""

from chat_app.state import followers


def test_a_running_follower_of_the_same_generation_is_kept_and_stays_on():
    with followers.running("tab-1", generation=3, now=10.0) as me:
        assert followers.keep("tab-1", 3, now=99.0)
        assert me.heard == 99.0  # told a reply is coming: it cannot end idle before it starts


def test_no_follower_an_older_one_or_another_tabs_is_not_kept():
    assert not followers.keep("tab-1", 1, now=1.0)
    with followers.running("tab-1", generation=2, now=1.0) as me:
        assert not followers.keep("tab-1", 3, now=5.0)  # the view has moved on (another chat)
        assert not followers.keep("tab-2", 2, now=5.0)
        assert me.heard == 1.0


def test_a_follower_that_ended_is_forgotten_however_it_ended():
    with followers.running("tab-1", generation=1, now=0.0):
        pass
    assert not followers.keep("tab-1", 1, now=1.0)
    try:
        with followers.running("tab-1", generation=2, now=0.0):
            raise RuntimeError("the tab closed")
    except RuntimeError:
        pass
    assert not followers.keep("tab-1", 2, now=1.0)


def test_a_newer_follower_is_not_forgotten_when_the_one_it_replaced_ends():
    older = followers.running("tab-1", generation=1, now=0.0)
    newer = followers.running("tab-1", generation=2, now=0.0)
    older.__enter__()
    newer.__enter__()
    older.__exit__(None, None, None)  # the replaced one notices only now, and ends
    assert followers.keep("tab-1", 2, now=1.0)
    newer.__exit__(None, None, None)
    assert not followers.keep("tab-1", 2, now=1.0)
