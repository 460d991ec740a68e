"""One search over the chats a person reads as a member (their own and those shared with them):
chat titles and message text, each word matched as the start of a word, all words required.

Message text goes through the full-text index (chat_app/search_index.py): PostgreSQL's GIN index
over `to_tsvector('simple', content)`, SQLite's FTS5 table. Both use no language's stemming, so
every language is matched alike. Results come newest first, each with a snippet whose matches are
marked as parts, never as markup: the page shows them without reading HTML.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TypedDict

import sqlalchemy as sa
from sqlmodel import Session, col, select

from chat_app import search_index
from chat_app.models import Chat, Message, User
from chat_app.services import access
from chat_app.services.errors import Invalid

MOST_WORDS = 8
MOST_RESULTS = 50
LONGEST_QUERY = 200
SNIPPET_WORDS = 16
# Marks around a match in a snippet, from Unicode's private use area: no message holds them.
HIT_START, HIT_END = "\ue000", "\ue001"
_WORD = re.compile(r"\w+")


class SnippetPart(TypedDict):
    text: str
    hit: bool


class SearchResult(TypedDict):
    chat_id: str
    chat_title: str
    message_id: str | None  # None: the chat's title matched
    seq: int | None
    role: str | None
    snippet: list[SnippetPart]
    at: str  # when the message was written (or the chat last changed)


@dataclass(frozen=True)
class _Row:
    chat_id: uuid.UUID
    chat_title: str
    message_id: uuid.UUID | None
    seq: int | None
    role: str | None
    marked: str
    at: datetime


def words_of(query: str) -> list[str]:
    """The words searched for; Invalid when there are none, or the query is too long."""
    if not isinstance(query, str) or len(query) > LONGEST_QUERY:
        raise Invalid(f"Search for at most {LONGEST_QUERY} characters.")
    words = _WORD.findall(query.lower())[:MOST_WORDS]
    if not words:
        raise Invalid("Type a word to search for.")
    return words


def search(actor: User, query: str, *, session: Session, limit: int = 20) -> list[SearchResult]:
    """Chats whose title has every word, then messages that do, newest first, at most `limit`."""
    if not 1 <= limit <= MOST_RESULTS:
        raise Invalid(f"Ask for 1 to {MOST_RESULTS} results.")
    words = words_of(query)
    titles = _titles(actor, words, session=session, limit=limit)
    messages = _messages(actor, words, session=session, limit=limit - len(titles))
    return [_result(row) for row in titles + messages]


def _titles(actor: User, words: list[str], *, session: Session, limit: int) -> list[_Row]:
    """Few chats per person: a plain scan of their titles, each word a prefix of a title's word."""
    title = sa.func.lower(col(Chat.title))
    matches = [
        sa.or_(title.like(f"{w}%", escape="\\"), title.like(f"% {w}%", escape="\\"))
        for w in map(_literal, words)
    ]
    chats = session.exec(
        select(Chat)
        .where(access.readable_chats(actor), *matches)
        .order_by(col(Chat.updated_at).desc())
        .limit(limit)
    ).all()
    return [_Row(c.id, c.title, None, None, None, _mark_title(c.title, words), c.updated_at) for c in chats]


def _literal(word: str) -> str:
    """A word as LIKE reads it literally: `_` is a letter of a word, and LIKE's wildcard (a word
    holds no backslash or `%`)."""
    return word.replace("_", "\\_")


def _mark_title(title: str, words: list[str]) -> str:
    pattern = re.compile(r"\b(" + "|".join(re.escape(w) for w in words) + r")", re.IGNORECASE)
    return pattern.sub(lambda m: f"{HIT_START}{m.group(0)}{HIT_END}", title)


def _messages(actor: User, words: list[str], *, session: Session, limit: int) -> list[_Row]:
    """Messages of the actor's chats with every word, through the dialect's full-text index."""
    if limit <= 0:
        return []
    postgres = session.get_bind().dialect.name == "postgresql"
    matched, marked = _postgres_match(words) if postgres else _sqlite_match(words)
    statement = (
        sa.select(
            col(Message.chat_id),
            col(Chat.title),
            col(Message.id),
            col(Message.seq),
            col(Message.role),
            marked.label("marked"),
            col(Message.created_at),
        )
        .join(Chat, col(Chat.id) == col(Message.chat_id))
        .where(matched, access.readable_chats(actor))
        .order_by(col(Message.created_at).desc(), col(Message.seq).desc())  # a question and its reply
        .limit(limit)
    )
    if not postgres:
        statement = statement.join(_FTS, sa.literal_column("messages.rowid") == _FTS.c.rowid)
    return [_Row(*row) for row in session.execute(statement).all()]


_FTS = sa.table(search_index.SQLITE_TABLE, sa.column("rowid"))


def _sqlite_match(words: list[str]):
    """FTS5: each word a quoted prefix (words are letters and digits only, so nothing else in the
    query language can slip in); the snippet by FTS5 itself."""
    match = " ".join(f'"{w}"*' for w in words)
    matched = sa.text(f"{search_index.SQLITE_TABLE} MATCH :match").bindparams(match=match)
    marked = sa.func.snippet(
        sa.literal_column(search_index.SQLITE_TABLE), 0, HIT_START, HIT_END, "…", SNIPPET_WORDS
    )
    return matched, marked


def _postgres_match(words: list[str]):
    """The index's own expression and predicate, word for word, so the planner uses it; the
    snippet by ts_headline, computed for the rows returned only."""
    query = " & ".join(f"{w}:*" for w in words)
    document = search_index.POSTGRES_DOCUMENT.replace("content", "messages.content")
    matched = sa.text(
        f"{document} @@ to_tsquery('simple', :query) AND messages.{search_index.FINISHED_SQL}"
    ).bindparams(query=query)
    simple = sa.literal_column("'simple'")
    headline = (
        f"StartSel={HIT_START}, StopSel={HIT_END}, MaxWords={SNIPPET_WORDS}, MinWords=6, ShortWord=0, "
        'MaxFragments=1, FragmentDelimiter=" … "'
    )
    marked = sa.func.ts_headline(
        simple,
        col(Message.content),
        sa.func.to_tsquery(simple, sa.bindparam("headline_query", query)),
        sa.bindparam("headline_options", headline),
    )
    return matched, marked


def _result(row: _Row) -> SearchResult:
    return SearchResult(
        chat_id=str(row.chat_id),
        chat_title=row.chat_title,
        message_id=str(row.message_id) if row.message_id else None,
        seq=row.seq,
        role=row.role,
        snippet=parts(row.marked),
        at=row.at.isoformat(),
    )


def parts(marked: str) -> list[SnippetPart]:
    """A snippet with its marks, as plain text parts that are or are not a match."""
    result: list[SnippetPart] = []
    for i, piece in enumerate(re.split(f"[{HIT_START}{HIT_END}]", marked)):
        if piece:
            result.append(SnippetPart(text=piece, hit=i % 2 == 1))
    return result
