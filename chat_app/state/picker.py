"""The model picker: type tabs, search, sort, models grouped by provider; picking sets the chat's model."""

from __future__ import annotations

from typing import TypedDict

import reflex as rx

from chat_app.services import catalog
from chat_app.services.errors import DomainError
from chat_app.state.auth import AuthState
from chat_app.state.chat import ChatState


class PickerModel(TypedDict):
    id: str
    name: str
    type: str
    badges: list[str]
    price: str
    context: str
    available: bool
    reason: str


class ModelGroup(TypedDict):
    provider: str
    models: list[PickerModel]


_BADGES = {
    "vision": "Vision",
    "image_output": "Image",
    "video_output": "Video",
    "tools": "Tools",
    "reasoning": "Reasoning",
    "streaming": "Streaming",
}


def _price(pricing: dict) -> str:
    if pricing["input_per_mtok"] is not None:
        return f"${pricing['input_per_mtok']:g} / ${pricing['output_per_mtok'] or 0:g} per 1M tokens"
    if pricing["per_image"] is not None:
        return f"${pricing['per_image']:g} per image"
    if pricing["per_second"] is not None:
        return f"${pricing['per_second']:g} per second of video"
    return "price unknown"


def _context(window: int | None) -> str:
    if not window:
        return ""
    return f"{window // 1000:,}K context" if window < 1_000_000 else f"{window / 1_000_000:g}M context"


def _groups(infos: list[dict]) -> list[ModelGroup]:
    groups: dict[str, list[PickerModel]] = {}
    for m in infos:
        groups.setdefault(m["provider"]["name"], []).append(
            PickerModel(
                id=m["id"],
                name=m["name"],
                type=m["type"],
                badges=[_BADGES[c] for c in m["capabilities"] if c in _BADGES],
                price=_price(m["pricing"]),
                context=_context(m["context_window"]),
                available=m["available"],
                reason=m["unavailable_reason"],
            )
        )
    return [ModelGroup(provider=name, models=models) for name, models in groups.items()]


class PickerState(AuthState):
    is_open: rx.Field[bool] = rx.field(False)
    model_type: rx.Field[str] = rx.field("all")
    query: rx.Field[str] = rx.field("")
    sort: rx.Field[str] = rx.field("provider")
    groups: rx.Field[list[ModelGroup]] = rx.field(default_factory=list)
    error: rx.Field[str] = rx.field("")

    async def _reload(self):
        kind, query, sort = self.model_type, self.query, self.sort

        def work(user, session):
            return catalog.list_models(
                session=session,
                reader=user,
                type=None if kind == "all" else kind,
                q=query or None,
                sort=sort,
                order="desc" if sort == "context" else "asc",  # the largest context first
            )

        try:
            infos = await self._as_user(work)
        except DomainError as exc:
            self.error = str(exc)
            return
        self.error = ""
        self.groups = _groups(infos)

    @rx.event
    async def set_open(self, is_open: bool):
        self.is_open = is_open
        if is_open:
            await self._reload()

    @rx.event
    async def set_type(self, kind: str):
        self.model_type = kind
        await self._reload()

    @rx.event
    async def set_query(self, query: str):
        self.query = query[:200]
        await self._reload()

    @rx.event
    async def set_sort(self, sort: str):
        self.sort = sort if sort in catalog.SORTS else "provider"
        await self._reload()

    @rx.event
    async def choose(self, model_id: str):
        chosen = next((m for g in self.groups for m in g["models"] if m["id"] == model_id), None)
        if chosen is None or not chosen["available"]:
            return rx.toast.error(chosen["reason"] if chosen else "That model is not in the catalog.")
        self.is_open = False
        return ChatState.set_model(model_id)
