"""Own API keys: encrypted at rest, summarized without the key, used for the person's replies only."""

import pytest
from sqlmodel import Session, select

from chat_app.models import UserApiKey
from chat_app.services import catalog, chats, keys, replies
from chat_app.services.errors import Invalid, NotFound
from tests.support.factories import make_chat, make_user
from tests.support.statements import Statement, statements_run

KEY = "sk-own-deepseek-key-1234"


def test_keys_are_encrypted_at_rest_and_only_summarized(session):
    user = make_user(session)
    summary = keys.set_key(user, "deepseek", f"  {KEY} ", session=session)
    assert summary == {"provider": "deepseek", "label": "DeepSeek", "is_set": True, "last4": "1234"}
    stored = session.exec(select(UserApiKey)).one()
    assert KEY not in stored.ciphertext and "own-deepseek" not in stored.ciphertext
    chat = make_chat(session, user)
    assert keys.paying_key(user.id, chat.id, "deepseek", session=session) == KEY
    assert keys.paying_key(user.id, chat.id, "openai", session=session) is None
    assert KEY not in repr(keys.summaries(user, session=session))
    other = make_user(session)
    theirs = make_chat(session, other)
    assert keys.paying_key(other.id, theirs.id, "deepseek", session=session) is None
    assert keys.paying_providers(other.id, theirs.id, session=session) == frozenset()


def test_in_a_shared_chat_the_authors_key_pays_else_the_owners(session):
    owner, editor = make_user(session), make_user(session)
    chat = make_chat(session, owner)
    keys.set_key(owner, "deepseek", "sk-owners-deepseek-key", session=session)
    assert keys.paying_key(editor.id, chat.id, "deepseek", session=session) == "sk-owners-deepseek-key"
    assert keys.paying_providers(editor.id, chat.id, session=session) == {"deepseek"}
    keys.set_key(editor, "deepseek", "sk-editors-deepseek-key", session=session)
    keys.set_key(editor, "gemini", "editors-gemini-key", session=session)
    assert keys.paying_key(editor.id, chat.id, "deepseek", session=session) == "sk-editors-deepseek-key"
    assert keys.paying_providers(editor.id, chat.id, session=session) == {"deepseek", "gemini"}
    mine = make_chat(session, editor)
    assert keys.paying_key(owner.id, mine.id, "gemini", session=session) == "editors-gemini-key"


def test_a_changed_server_secret_makes_old_keys_unreadable_not_wrong(session, monkeypatch):
    user = make_user(session)
    keys.set_key(user, "openai", KEY, session=session)
    chat = make_chat(session, user)
    monkeypatch.setattr(keys, "_fernet", lambda secret=None: keys.Fernet(keys.Fernet.generate_key()))
    assert keys.paying_key(user.id, chat.id, "openai", session=session) is None


@pytest.mark.parametrize(
    ("provider", "raw"),
    [("ollama", KEY), ("nobody", KEY), ("openai", "short"), ("openai", "has space inside key")],
)
def test_bad_keys_are_refused(session, provider, raw):
    user = make_user(session)
    with pytest.raises(Invalid):
        keys.set_key(user, provider, raw, session=session)
    assert session.exec(select(UserApiKey)).all() == []


def test_delete(session):
    user = make_user(session)
    keys.set_key(user, "gemini", KEY, session=session)
    keys.delete_key(user, "gemini", session=session)
    assert not any(s["is_set"] for s in keys.summaries(user, session=session))
    with pytest.raises(NotFound):
        keys.delete_key(user, "gemini", session=session)


def test_an_own_key_makes_an_unconfigured_provider_usable_for_that_person_only(session, monkeypatch):
    monkeypatch.delenv("DEEPSEEK_API_KEY", raising=False)
    owner, stranger = make_user(session), make_user(session)
    keys.set_key(owner, "deepseek", KEY, session=session)
    model = catalog.resolve_model("deepseek/deepseek-chat", session=session)
    assert catalog.unavailable_reason(model, session=session, own_keys=frozenset({"deepseek"})) == ""
    chat = make_chat(session, owner, model_id="deepseek/deepseek-chat")
    _, reply = chats.post_message(owner, chat.id, "hi", session=session)
    assert reply.author_id == owner.id
    theirs = make_chat(session, stranger, model_id="deepseek/deepseek-chat")
    with pytest.raises(Invalid, match="DEEPSEEK_API_KEY"):
        chats.post_message(stranger, theirs.id, "hi", session=session)


def _key_reads(run: list[Statement]) -> list[Statement]:
    return [s for s in run if "FROM user_api_keys" in s.text]


def test_a_send_reads_the_keys_that_may_pay_once(engine, monkeypatch):
    """Which models are usable, whether the asker's own key pays, and which key the reply uses are
    three questions of one send: its transaction reads the payers' keys once, and the next one
    reads them again."""
    monkeypatch.delenv("DEEPSEEK_API_KEY", raising=False)
    with Session(engine, expire_on_commit=False) as session:
        user = make_user(session)
        chat = make_chat(session, user, model_id="deepseek/deepseek-chat")
        keys.set_key(user, "deepseek", "sk-first-deepseek-key", session=session)
        session.commit()
        with statements_run(engine) as run:
            _, reply = chats.post_message(user, chat.id, "hi", session=session)
            assert reply.paid_with_own_key
            assert replies.plan_for(reply, session=session).own_key == "sk-first-deepseek-key"
        assert len(_key_reads(run)) == 1
        session.commit()
        keys.set_key(user, "deepseek", "sk-second-deepseek-key", session=session)
        assert keys.paying_key(user.id, chat.id, "deepseek", session=session) == "sk-second-deepseek-key"
        session.commit()
        with statements_run(engine) as run:
            assert keys.paying_key(user.id, chat.id, "deepseek", session=session) == "sk-second-deepseek-key"
        assert len(_key_reads(run)) == 1
