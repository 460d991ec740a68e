from chat_app.models import Message
from chat_app.services import usage
from tests.support.factories import make_chat, make_user


def test_totals_add_up_the_replies_of_the_persons_own_chats(session):
    me, other = make_user(session), make_user(session)
    mine, theirs = make_chat(session, me), make_chat(session, other)
    session.add_all(
        [
            Message(chat_id=mine.id, seq=1, role="user", content="q"),
            Message(
                chat_id=mine.id,
                seq=2,
                role="assistant",
                content="a",
                input_tokens=10,
                output_tokens=5,
                cost=0.5,
            ),
            Message(
                chat_id=mine.id,
                seq=3,
                role="assistant",
                content="b",
                input_tokens=1,
                output_tokens=1,
                cost=0.25,
            ),
            Message(chat_id=theirs.id, seq=1, role="assistant", content="c", input_tokens=99, cost=9.0),
        ]
    )
    session.commit()
    assert usage.totals(me, session=session) == {
        "replies": 2,
        "input_tokens": 11,
        "output_tokens": 6,
        "cost": 0.75,
        "cost_label": "$0.75",
    }
    assert usage.totals(make_user(session), session=session)["cost_label"] == "$0.00"
