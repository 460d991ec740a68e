"""Sharing a chat: its public flag, its link, invitations by email, and opening a link.

Who may do what is decided by `access` alone; this module changes the sharing settings
(owner only, through `access.authorize`) and tells a visitor of a link where to go.
"""

from __future__ import annotations

import enum
import re
import secrets
import uuid
from dataclasses import dataclass
from typing import TypedDict

from sqlmodel import Session, col, select

from chat_app.models import Chat, MediaFile, Message, MessageStatus, SharedAccess, User, utcnow
from chat_app.services import access, branches, limits, mailer, media
from chat_app.services.accounts import normalize_email
from chat_app.services.chats import IN_FLIGHT, branch_of, new_share_token
from chat_app.services.errors import Invalid, NotFound, TooManyAttempts
from chat_app.services.storage import files_deleted_on_error, get_storage
from chat_app.settings import get_settings

MAX_EMAILS_PER_REQUEST = 50
MAX_INVITES_PER_CHAT = 200
# Share and invitation tokens are secrets.token_urlsafe(24): 32 characters of the URL-safe alphabet.
TOKEN_FORMAT = re.compile(r"[A-Za-z0-9_-]{32}")
_NO_LINK = "This link does not work. It may have been changed by the chat's owner."


def share_link(chat: Chat) -> str:
    return f"{get_settings().public_url}/share/{chat.share_token}"


def invite_link(invite: SharedAccess) -> str:
    return f"{get_settings().public_url}/invite/{invite.invite_token}"


# ----- what the owner sees and changes -------------------------------------------------


class InviteView(TypedDict):
    email: str
    can_edit: bool
    joined: bool  # the invited person opened their link (the invitation is bound to their account)
    invite_link: str


class ShareView(TypedDict):
    chat_id: str
    is_public: bool
    link: str
    email_enabled: bool
    invites: list[InviteView]


def share_view(actor: User, chat_id: uuid.UUID | str, *, session: Session) -> ShareView:
    """The sharing settings of a chat, as the owner sees them."""
    chat, _ = access.authorize(actor, chat_id, "share", session=session)
    invites = session.exec(
        select(SharedAccess).where(SharedAccess.chat_id == chat.id).order_by(col(SharedAccess.created_at))
    ).all()
    return ShareView(
        chat_id=str(chat.id),
        is_public=chat.is_public,
        link=share_link(chat),
        email_enabled=mailer.enabled(),
        invites=[
            InviteView(
                email=i.email, can_edit=i.can_edit, joined=i.user_id is not None, invite_link=invite_link(i)
            )
            for i in invites
        ],
    )


def set_public(actor: User, chat_id: uuid.UUID | str, is_public: bool, *, session: Session) -> Chat:
    chat, _ = access.authorize(actor, chat_id, "share", session=session)
    chat.is_public = bool(is_public)
    session.add(chat)
    return chat


def rotate_link(actor: User, chat_id: uuid.UUID | str, *, session: Session) -> str:
    """A new link; the old one stops working at once."""
    chat, _ = access.authorize(actor, chat_id, "rotate", session=session)
    chat.share_token = new_share_token()
    session.add(chat)
    return share_link(chat)


def parse_emails(raw) -> list[str]:
    """Emails from a list or a comma/space/semicolon separated string: validated, lower-cased, merged."""
    if isinstance(raw, str):
        items = [p for p in re.split(r"[\s,;]+", raw) if p]
    elif isinstance(raw, list) and all(isinstance(p, str) for p in raw):
        items = [p.strip() for p in raw if p.strip()]
    else:
        raise Invalid("Give the email addresses as a list of strings.")
    if not items:
        raise Invalid("Enter at least one email address.")
    if len(items) > MAX_EMAILS_PER_REQUEST:
        raise Invalid(f"Invite at most {MAX_EMAILS_PER_REQUEST} people at once.")
    good, bad = [], []
    for item in items:
        try:
            good.append(normalize_email(item))
        except Invalid:
            bad.append(item[:80])
    if bad:
        raise Invalid(f"These email addresses are not valid: {', '.join(bad)}.")
    return list(dict.fromkeys(good))


@dataclass(frozen=True)
class Invitation:
    """A new invitation to announce by email (after the transaction commits)."""

    email: str
    link: str
    chat_title: str
    inviter: str
    can_edit: bool


def invite(
    actor: User, chat_id: uuid.UUID | str, emails, can_edit: bool, *, session: Session
) -> list[Invitation]:
    """Invite people (or change the edit right of those already invited). Returns the new ones."""
    chat, _ = access.authorize(actor, chat_id, "share", session=session)
    wanted = parse_emails(emails)
    if actor.email in wanted:
        raise Invalid("You own this chat already; invite other people.")
    existing = {
        i.email: i for i in session.exec(select(SharedAccess).where(SharedAccess.chat_id == chat.id)).all()
    }
    if len(existing) + len([e for e in wanted if e not in existing]) > MAX_INVITES_PER_CHAT:
        raise Invalid(f"A chat can be shared with at most {MAX_INVITES_PER_CHAT} people.")
    fresh: list[Invitation] = []
    for email in wanted:
        row = existing.get(email)
        if row is None:
            row = SharedAccess(
                chat_id=chat.id,
                email=email,
                can_edit=bool(can_edit),
                invite_token=secrets.token_urlsafe(24),
            )
            fresh.append(Invitation(email, invite_link(row), chat.title, actor.email, bool(can_edit)))
        row.can_edit = bool(can_edit)
        session.add(row)
    session.flush()
    return fresh


# The operator's mail server speaks for whoever invites: only a confirmed address sends, and
# within a daily count per person and per recipient, so nobody turns it into a spam relay.
DAY = 24 * 3600
CONFIRM_FIRST = (
    "No email was sent: only confirmed addresses send invitations. Confirm yours in Settings, "
    "or copy their invitation link below and send it to them yourself."
)


def _emails_per_person() -> limits.Limit:
    return limits.Limit(
        "invite_emails",
        get_settings().invite_emails_per_day,
        DAY,
        "You have sent many invitation emails today.",
    )


def _emails_per_recipient() -> limits.Limit:
    return limits.Limit(
        "invite_emails_to", get_settings().invite_emails_per_recipient_per_day, DAY, "Too many invitations."
    )


@dataclass(frozen=True)
class Mailing:
    """The new invitations to email, and the sentence saying why others are not ("" when none)."""

    invitations: list[Invitation]
    withheld: str = ""


def mailing(actor: User, fresh: list[Invitation]) -> Mailing:
    """Which new invitations go out by email (counted here, in the request that makes them).

    Raises TooManyAttempts when the person has sent their day's invitation emails: nothing is made.
    An address that got its day's invitations already is not emailed; its link is there to copy.
    """
    if not fresh or not mailer.enabled():
        return Mailing([])
    if not actor.email_verified:
        return Mailing([], CONFIRM_FIRST)
    limits.take(_emails_per_person(), str(actor.id), amount=len(fresh))
    sending, crowded = [], []
    for invitation in fresh:
        try:
            limits.take(_emails_per_recipient(), invitation.email)
        except TooManyAttempts:
            crowded.append(invitation.email)
        else:
            sending.append(invitation)
    if not crowded:
        return Mailing(sending)
    return Mailing(
        sending,
        f"No email went to {', '.join(crowded)}: they received several invitations today already. "
        "Copy their invitation link below and send it to them yourself.",
    )


def notify(invitations: list[Invitation]) -> list[str]:
    """Email each new invitation; returns the addresses reached. Blocking: run off the event loop."""
    sent = []
    for i in invitations:
        right = "read and write in" if i.can_edit else "read"
        text = (
            f"{i.inviter} invited you to {right} the chat \u201c{i.chat_title}\u201d.\n\n"
            f"Open it here (sign in or create an account with this email address):\n{i.link}\n\n"
            "If you did not expect this, ignore this message."
        )
        if mailer.send(i.email, f"{i.inviter} shared a chat with you", text, link=i.link):
            sent.append(i.email)
    return sent


def _invite_row(chat: Chat, email: str, *, session: Session) -> SharedAccess:
    try:
        email = normalize_email(email)
    except Invalid:
        raise NotFound("That person has no access to this chat.") from None
    row = session.exec(
        select(SharedAccess).where(SharedAccess.chat_id == chat.id, SharedAccess.email == email)
    ).first()
    if row is None:
        raise NotFound("That person has no access to this chat.")
    return row


def set_can_edit(actor: User, chat_id, email: str, can_edit: bool, *, session: Session) -> None:
    chat, _ = access.authorize(actor, chat_id, "share", session=session)
    row = _invite_row(chat, email, session=session)
    row.can_edit = bool(can_edit)
    session.add(row)


def remove_invite(actor: User, chat_id, email: str, *, session: Session) -> None:
    chat, _ = access.authorize(actor, chat_id, "share", session=session)
    session.delete(_invite_row(chat, email, session=session))


# ----- what a visitor of a link gets ---------------------------------------------------


class Outcome(enum.StrEnum):
    open = "open"  # the visitor's role lets them in: go to the chat
    public = "public"  # a public chat, read-only, for anyone (signed in or not)
    sign_in = "sign_in"  # signed out, and the chat is not public: sign in, then come back
    no_access = "no_access"  # signed in without access: say so, reveal nothing


@dataclass(frozen=True)
class Visit:
    outcome: Outcome
    chat_id: str = ""
    role: str = ""


def _well_formed(token: object) -> bool:
    """Checked before any query: a malformed token is not worth a database read."""
    return isinstance(token, str) and TOKEN_FORMAT.fullmatch(token) is not None


def chat_for_token(token: str, *, session: Session) -> Chat:
    if not _well_formed(token):
        raise NotFound(_NO_LINK)
    chat = session.exec(select(Chat).where(Chat.share_token == token)).first()
    if chat is None:
        raise NotFound(_NO_LINK)
    return chat


def open_link(actor: User | None, token: str, *, session: Session) -> Visit:
    """Where a share link takes this visitor, in the order the design gives."""
    try:
        chat = chat_for_token(token, session=session)
    except NotFound:
        return Visit(Outcome.sign_in if actor is None else Outcome.no_access)
    role = access.member_role(actor, chat, session=session)
    if role is not access.Role.none:
        return Visit(Outcome.open, str(chat.id), role.value)
    if chat.is_public:
        return Visit(Outcome.public, str(chat.id), access.Role.viewer.value)
    return Visit(Outcome.sign_in if actor is None else Outcome.no_access)


def claim_invite(actor: User, invite_token: str, *, session: Session) -> str:
    """Bind an invitation to the signed-in account opening its own link; returns the chat id.

    The account's email must be the invited one: the link proves the mailbox, the email
    match proves it is this account's mailbox.
    """
    wrong = NotFound("This invitation does not work. Ask the chat's owner to invite you again.")
    if not _well_formed(invite_token):
        raise wrong
    row = session.exec(select(SharedAccess).where(SharedAccess.invite_token == invite_token)).first()
    if row is None:
        raise wrong
    if row.email != actor.email:
        raise NotFound(
            "This invitation was sent to another email address. Sign in with that address to open it."
        )
    if row.user_id not in (None, actor.id):
        raise wrong
    row.user_id = actor.id
    session.add(row)
    return str(row.chat_id)


def shared_with(actor: User, *, session: Session, limit: int = 200) -> list[Chat]:
    """Chats others shared with this person, most recently active first."""
    return list(
        session.exec(
            select(Chat)
            .join(SharedAccess, col(SharedAccess.chat_id) == Chat.id)
            .where(access.counts_for(actor), Chat.user_id != actor.id)
            .order_by(col(Chat.updated_at).desc())
            .limit(limit)
        )
    )


# ----- continue in my account ----------------------------------------------------------


def continue_in_my_account(
    actor: User, chat_id: uuid.UUID | str, *, session: Session, link_token: str | None = None
) -> Chat:
    """Copy a chat the actor can read (its finished messages and their files) into their own chats.

    `link_token`: the link a non-member reads a public chat through."""
    source, _ = access.authorize(actor, chat_id, "read", session=session, link_token=link_token)
    now = utcnow()
    copy = Chat(
        user_id=actor.id,
        title=source.title,  # within the column: every title is checked where it is set
        model_id=source.model_id,
        share_token=new_share_token(),
        created_at=now,
        updated_at=now,
    )
    session.add(copy)
    session.flush()
    # What the reader sees: the branch left selected, without a reply still being written.
    rows = [m for m in branch_of(source, session=session) if m.status not in IN_FLIGHT]
    files = media.media_of([m.id for m in rows], session=session)
    storage, copied_keys = get_storage(), []
    with files_deleted_on_error(copied_keys, storage=storage, on=BaseException):
        twins = [
            Message(
                chat_id=copy.id,
                seq=0,  # numbered by branches.chain
                role=message.role,
                content=message.content,
                status=message.status
                if message.status != MessageStatus.stopped.value
                else MessageStatus.complete.value,
                model_id=message.model_id,
                error=message.error,
                author_id=actor.id,
                created_at=message.created_at,
                updated_at=now,
            )
            for message in rows
        ]
        branches.chain(copy, twins)
        session.add_all([copy, *twins])
        session.flush()
        for message, twin in zip(rows, twins, strict=True):
            for original in files.get(message.id, []):
                session.add(_copy_file(original, copy.id, twin.id, actor.id, storage, copied_keys))
        session.flush()
    return copy


def _copy_file(
    original: MediaFile, chat_id, message_id, owner_id, storage, copied_keys: list[str]
) -> MediaFile:
    """The copy gets its own files, so either chat can be deleted without touching the other."""
    keys = {}
    for field in ("storage_key", "thumb_key"):
        key = getattr(original, field)
        keys[field] = storage.copy(key) if key else None
        if keys[field]:
            copied_keys.append(keys[field])
    return MediaFile(
        chat_id=chat_id,
        message_id=message_id,
        owner_id=owner_id,
        kind=original.kind,
        mime_type=original.mime_type,
        byte_size=original.byte_size,
        width=original.width,
        height=original.height,
        duration=original.duration,
        sha256=original.sha256,
        storage_key=keys["storage_key"],
        thumb_key=keys["thumb_key"],
        original_name=original.original_name,
    )
