"""A page opens with no dialog open: the states that hold whether one is open outlive a reload
(the tab keeps its state), and a dialog coming back by itself surprises people."""

import reflex as rx

from chat_app.state.picker import PickerState
from chat_app.state.share import ShareState
from chat_app.state.sidebar import SidebarState


class DialogsState(rx.State):
    @rx.event
    async def close_all(self):
        (await self.get_state(ShareState)).share_open = False
        (await self.get_state(PickerState)).is_open = False
        sidebar = await self.get_state(SidebarState)
        sidebar.palette_open = False
        sidebar.rename_id = sidebar.delete_id = ""
