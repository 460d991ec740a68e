"""What of a conversation fits in the model's context window, decided before each call.

The input budget is the model's window less the reply's allowance and a margin: the window is
counted by the provider's tokenizer, ours by LiteLLM's counter for the model, and the two may
differ by a few percent. The asking message is sent whole or not at all. Before it, the newest
turns are kept whole while their text fits; then the attachments of the turns kept come back,
newest first, in the room left. So older attachments go before older text, and a conversation
is never cut in the middle of a turn.

Turns arrive newest first and are read no further than the budget reaches: a chat of thousands of
long messages costs what its last window costs. Text is first measured by an upper bound (its
UTF-8 bytes: no tokenizer LiteLLM uses makes a token of less than a byte), which needs no
tokenizer at all while everything fits; only a chat past that bound is counted token by token.
"""

from __future__ import annotations

import math
import threading
import uuid
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field

from chat_app.catalog import CatalogModel
from chat_app.models import MediaFile
from chat_app.services.errors import Invalid
from chat_app.services.litellm_loader import load_litellm
from chat_app.services.media.prompt_parts import VISION_MAX_SIDE

DEFAULT_WINDOW = 8_192  # a model whose window nobody states (Ollama's own default is smaller)
DEFAULT_REPLY_ALLOWANCE = 4_096  # a model whose longest reply nobody states
MESSAGE_OVERHEAD = 4  # tokens each message costs beyond its text: its role and separators
VIDEO_TOKENS_PER_SECOND = 300  # Gemini's rate for a video's frames and sound (258 + 32), rounded up
UNKNOWN_VIDEO_SECONDS = 60
TOO_LONG = "too_long"


@dataclass(frozen=True)
class Budget:
    window: int
    reply_allowance: int
    margin: int

    @property
    def for_input(self) -> int:
        return self.window - self.reply_allowance - self.margin


def budget_for(model: CatalogModel, longest_reply: int | None) -> Budget:
    """The model's window, less its longest reply (at most a quarter of the window, so a model
    whose replies may fill its window still hears the conversation) and a 2 % margin."""
    window = model.context_window or DEFAULT_WINDOW
    allowance = min(longest_reply or DEFAULT_REPLY_ALLOWANCE, window // 4)
    return Budget(window, allowance, margin=max(64, window // 50))


@dataclass
class Turn:
    """One earlier message as it would be sent: its text and attached files."""

    id: uuid.UUID
    role: str
    text: str
    files: list[MediaFile] = field(default_factory=list)
    depth: int = 0  # its place on its branch


@dataclass(frozen=True)
class Fitted:
    turns: list[Turn]  # oldest first; each turn's files cut to those that fit
    left_out_messages: int  # earlier messages not sent
    left_out_files: int  # files of sent messages not sent
    tokens: int  # what was counted for the turns sent (bytes where the bound sufficed)
    files_tokens: int = 0  # what the files sent cost
    first_left_out: Turn | None = None  # the newest earlier message not sent
    # Sent before the turns, in place of earlier messages (services/summaries.py), standing for
    # `summarized` of those left out.
    summary: Turn | None = None
    summarized: int = 0

    def exact_tokens(self, litellm_model: str) -> int:
        """The prompt sent, counted token by token (each text once per process): what a reply
        the provider never reported usage for is charged, when it was stopped or failed midway."""
        sent = [self.summary, *self.turns] if self.summary is not None else self.turns
        return self.files_tokens + sum(_counted(litellm_model, t) + MESSAGE_OVERHEAD for t in sent)


def fit(
    turns_newest_first: Iterable[Turn],
    model: CatalogModel,
    budget: int,
    *,
    count: int,
    summary: Turn | None = None,
    summarized: int = 0,
) -> Fitted:
    """The newest turns that fit in `budget` tokens, the asking message (the first given) always
    among them, or Invalid when it alone does not fit. `count` is how many turns there are: the
    ones past the budget are never read. A `summary` (of earlier messages than any that fit) goes
    first, in room it takes from them; it is left out when the asking message leaves none."""
    costs = _TextCosts(model.litellm_model or model.id)
    turns = iter(turns_newest_first)
    asking = next(turns, None)
    if asking is None:
        return Fitted([], 0, 0, 0)
    asking_files = sum(file_tokens(f) for f in asking.files)
    kept, text_costs = [asking], [costs.of(asking)]
    summary_cost = 0

    def room() -> int:
        return budget - asking_files - summary_cost - sum(text_costs)

    if room() < 0 and not costs.exact:
        text_costs = costs.counted_exactly(kept)
    if room() < 0:
        raise _too_long(model, asking_files + text_costs[0], budget)
    if summary is not None:
        summary_cost = _counted(costs.model, summary) + MESSAGE_OVERHEAD
        if room() < 0:
            summary, summary_cost, summarized = None, 0, 0
    first_left_out = None
    for turn in turns:
        cost = costs.of(turn)
        if cost > room() and not costs.exact:
            text_costs = costs.counted_exactly(kept)
            cost = costs.of(turn)
        if cost > room():
            first_left_out = turn
            break
        kept.append(turn)
        text_costs.append(cost)
    if len(kept) > 1 and kept[-1].role != "user":  # providers want a conversation to open with its person
        first_left_out = kept.pop()
        text_costs.pop()
    left_out_files = _files_that_fit(kept[1:], room())
    files = sum(file_tokens(f) for turn in kept for f in turn.files)
    return Fitted(
        list(reversed(kept)),
        max(count - len(kept), 0),
        left_out_files,
        budget - room(),
        files,
        first_left_out,
        summary,
        summarized,
    )


def _files_that_fit(earlier_newest_first: list[Turn], room: int) -> int:
    """Keep the files of the newest turns while they fit, drop the rest; how many were dropped."""
    dropped = 0
    for turn in earlier_newest_first:
        cost = sum(file_tokens(f) for f in turn.files)
        if dropped or cost > room:
            dropped += len(turn.files)
            turn.files = []
        else:
            room -= cost
    return dropped


def _too_long(model: CatalogModel, tokens: int, budget: int) -> Invalid:
    return Invalid(
        f"This message is too long for {model.name}: it is about {tokens:,} tokens, and the model "
        f"takes {max(budget, 0):,} with its reply. Shorten it, split it, or choose a model with a "
        "larger context window.",
        code=TOO_LONG,
    )


def file_tokens(media: MediaFile) -> int:
    """What an attachment costs in the prompt: an image by OpenAI's tiling of the size we send
    (LiteLLM's own functions), a video by its length."""
    if media.kind == "video":
        return math.ceil(media.duration or UNKNOWN_VIDEO_SECONDS) * VIDEO_TOKENS_PER_SECOND
    load_litellm()
    from litellm.litellm_core_utils.token_counter import calculate_tiles_needed, resize_image_high_res

    width, height = media.width or VISION_MAX_SIDE, media.height or VISION_MAX_SIDE
    scale = min(1.0, VISION_MAX_SIDE / max(width, height))
    sent = resize_image_high_res(max(1, int(width * scale)), max(1, int(height * scale)))
    return 85 + 170 * calculate_tiles_needed(*sent)


class _TextCosts:
    """A turn's text in tokens: its byte length while that bound fits, LiteLLM's count once not."""

    def __init__(self, litellm_model: str) -> None:
        self.model = litellm_model
        self.exact = False

    def of(self, turn: Turn) -> int:
        if not self.exact:
            return len(turn.text.encode()) + MESSAGE_OVERHEAD
        return _counted(self.model, turn) + MESSAGE_OVERHEAD

    def counted_exactly(self, turns: list[Turn]) -> list[int]:
        self.exact = True
        return [self.of(t) for t in turns]


_COUNTED_KEPT = 50_000
_counts: OrderedDict[tuple[str, uuid.UUID], int] = OrderedDict()  # a sent message's text never changes
_counts_lock = threading.Lock()  # plans are made in worker threads


def _counted(model: str, turn: Turn) -> int:
    key = (model, turn.id)
    with _counts_lock:
        if key in _counts:
            _counts.move_to_end(key)
            return _counts[key]
    count = load_litellm().token_counter(model=model, text=turn.text) if turn.text else 0
    with _counts_lock:
        _counts[key] = count
        if len(_counts) > _COUNTED_KEPT:
            _counts.popitem(last=False)
    return count
