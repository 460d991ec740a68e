"""Values the browser keeps for the page (Reflex client states), read where an expression runs."""

from __future__ import annotations

import reflex as rx
from reflex.experimental.client_state import ClientStateVar, _client_state_ref


def held_now(state: ClientStateVar) -> rx.Var:
    """What the browser holds in `state` when the expression runs (an event's argument, a script),
    without making the component that names it follow the state. Reflex's own accessor, so its
    naming of the slot has one home."""
    return _client_state_ref(state._getter_name)
