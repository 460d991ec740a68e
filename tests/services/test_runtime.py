"""What each worker runs beside its requests: here, the timer that sweeps uploads never sent."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from chat_app.models import MediaFile, utcnow
from chat_app.services import media, runtime
from tests.fakes import media_samples as samples
from tests.support.factories import make_user


def _upload(owner, session, *, days_old: float) -> MediaFile:
    intake = media.Intake("left.png", "image/png")
    intake.write(samples.png())
    row = media.record(intake.finish(), owner_id=owner.id, session=session)
    row.created_at = utcnow() - timedelta(days=days_old)
    session.commit()
    return row


async def test_each_worker_sweeps_everyones_unsent_uploads_on_a_timer(session, engine, app_settings):
    here = runtime.current()
    assert "unsent-sweeper" in {task.get_name() for task in here._tasks}  # started with the runtime
    owner, other = make_user(session), make_user(session)
    stale, fresh = _upload(owner, session, days_old=2).id, _upload(other, session, days_old=0).id
    here.engines.add(engine)
    sweeper = asyncio.create_task(runtime.sweep_forever(0.01))
    try:
        for _ in range(500):
            await asyncio.sleep(0.01)
            session.expire_all()
            if session.get(MediaFile, stale) is None:
                break
        assert session.get(MediaFile, stale) is None
        assert session.get(MediaFile, fresh) is not None
    finally:
        sweeper.cancel()
        here.engines.discard(engine)
