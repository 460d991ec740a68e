"""Plain dictionaries of chats and messages, shared by the API and the Reflex states."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypedDict
from urllib.parse import quote

from chat_app.models import MAX_TITLE_LENGTH as MAX_TITLE_LENGTH  # the page's rename field
from chat_app.models import Chat, ConversationSummary, MediaFile, Message
from chat_app.services.media.accepted import ACCEPTED

# What the file picker offers (mime type -> file name extensions), from the table the server judges
# uploads by, so the picker never offers a file the server refuses nor hides one it takes.
FILE_PICKER_ACCEPT: dict[str, Sequence[str]] = {
    mime: list(accepted.file_extensions) for mime, accepted in ACCEPTED.items()
}


class ChatView(TypedDict):
    id: str
    title: str
    model_id: str
    updated_at: str
    pinned: bool


class MediaView(TypedDict):
    id: str
    kind: str  # image | video
    mime_type: str
    byte_size: int
    width: int
    height: int
    duration: float
    name: str  # the uploader's file name: a label only, shown as text
    url: str  # on the access-checked file route
    thumb_url: str  # thumbnail (image) or poster (video); "" when there is none


class MessageView(TypedDict):
    id: str
    seq: int
    parent_id: str  # the message this one follows ("" for a first message)
    branch: int  # its place among its versions (edits, regenerated replies), 1-based
    branches: int  # how many versions there are
    role: str
    content: str
    status: str
    model_id: str
    model_name: str  # the catalog's name of the model that wrote it ("" for a person's message)
    created_at: str  # ISO 8601, UTC
    error: str
    input_tokens: int
    output_tokens: int
    cost: float
    cost_label: str
    context_note: str  # a reply's prompt that left earlier messages or files out says so
    summary_id: str  # the summary of earlier messages its prompt was sent with ("" for none)
    media: list[MediaView]


class SummaryView(TypedDict):
    covered: int  # the earliest messages of the branch it stands for
    content: str
    model_id: str  # the model that wrote it
    model_name: str
    created_at: str  # ISO 8601, UTC


def summary_view(summary: ConversationSummary, model_name: str) -> SummaryView:
    return SummaryView(
        covered=summary.covered,
        content=summary.content,
        model_id=summary.model_id,
        model_name=model_name,
        created_at=summary.created_at.isoformat(),
    )


def money(amount: float | None) -> str:
    """A cost people can read: "$0.0042", "$1.25"; empty when unknown or zero."""
    if not amount:
        return ""
    if amount >= 0.01:
        return f"${amount:,.2f}"
    text = f"{amount:.6f}".rstrip("0").rstrip(".")
    return f"${text}" if text != "0" else "<$0.000001"


def chat_view(chat: Chat) -> ChatView:
    return ChatView(
        id=str(chat.id),
        title=chat.title,
        model_id=chat.model_id or "",
        updated_at=chat.updated_at.isoformat(),
        pinned=chat.pinned_at is not None,
    )


def media_url(media_id: str, thumb: bool = False, link_token: str = "") -> str:
    """The file's address; a reader who came by a public chat's link presents it there too."""
    url = f"/api/media/{media_id}/thumb" if thumb else f"/api/media/{media_id}"
    return f"{url}?link={quote(link_token, safe='')}" if link_token else url


def media_view(media: MediaFile, link_token: str = "") -> MediaView:
    media_id = str(media.id)
    return MediaView(
        id=media_id,
        kind=media.kind,
        mime_type=media.mime_type,
        byte_size=media.byte_size,
        width=media.width or 0,
        height=media.height or 0,
        duration=media.duration or 0.0,
        name=media.original_name or "",
        url=media_url(media_id, link_token=link_token),
        thumb_url=media_url(media_id, thumb=True, link_token=link_token) if media.thumb_key else "",
    )


def message_view(
    message: Message,
    media: list[MediaFile] | None = None,
    link_token: str = "",
    place: tuple[int, int] = (1, 1),
    model_name: str = "",
) -> MessageView:
    """`place`: the message's place among its versions, and their number (branches.places)."""
    return MessageView(
        id=str(message.id),
        seq=message.seq,
        parent_id=str(message.parent_id or ""),
        branch=place[0],
        branches=place[1],
        role=message.role,
        content=message.content,
        status=message.status,
        model_id=message.model_id or "",
        model_name=model_name,
        created_at=message.created_at.isoformat(),
        error=message.error or "",
        input_tokens=message.input_tokens or 0,
        output_tokens=message.output_tokens or 0,
        cost=message.cost or 0.0,
        cost_label=money(message.cost),
        context_note=context_note(message),
        summary_id=str(message.summary_id or ""),
        media=[media_view(m, link_token) for m in media or []],
    )


def with_counts(
    view: MessageView, input_tokens: int | None, output_tokens: int | None, cost: float | None
) -> MessageView:
    """A shown message with its tokens and cost, counted after it was shown."""
    counted = view.copy()
    counted["input_tokens"], counted["output_tokens"] = input_tokens or 0, output_tokens or 0
    counted["cost"], counted["cost_label"] = cost or 0.0, money(cost)
    return counted


def context_note(reply: Message) -> str:
    """ "Used the last 12 messages; 30 earlier messages did not fit the model's context window and
    were not sent." With a summary sent in their place: "Used the last 12 messages, and a summary
    of the 30 earlier messages: those did not fit the model's context window." Empty when the
    whole conversation went."""
    summarized = min(reply.summarized_messages, reply.left_out_messages)
    unsent = reply.left_out_messages - summarized
    earlier = "other earlier message" if summarized else "earlier message"
    left_out = [_count(n, thing) for n, thing in ((unsent, earlier), (reply.left_out_files, "file")) if n]
    if not left_out and not summarized:
        return ""
    used = f"Used the last {_count(reply.prompt_messages or 0, 'message')}"
    if summarized:
        the = "the " if not unsent else ""
        used += f", and a summary of {the}{_count(summarized, 'earlier message')}"
    if not left_out:
        return f"{used}: those did not fit the model's context window."
    one = len(left_out) == 1 and (unsent or reply.left_out_files) == 1
    return (
        f"{used}; {' and '.join(left_out)} did not fit the model's context window and "
        f"{'was' if one else 'were'} not sent."
    )


def _count(n: int, thing: str) -> str:
    return f"{n:,} {thing}" if n == 1 else f"{n:,} {thing}s"
