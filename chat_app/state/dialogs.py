"""A page opens with no dialog open: the states that hold whether one is open outlive a reload
(the tab keeps its state), and a dialog coming back by itself surprises people."""

import reflex as rx

from chat_app.state.picker import PickerState
from chat_app.state.share import ShareState
from chat_app.state.sidebar import SidebarState
from chat_app.state.summary import SummaryState


class DialogsState(rx.State):
    @rx.event
    async def close_all(self):
        # Each var assigned is sent to the page, changed or not: only an open one is closed.
        share = await self.get_state(ShareState)
        if share.share_open:
            share.share_open = False
        picker = await self.get_state(PickerState)
        if picker.is_open:
            picker.is_open = False
        summary = await self.get_state(SummaryState)
        if summary.summary_open:
            summary.summary_open = False
        sidebar = await self.get_state(SidebarState)
        if sidebar.palette_open:
            sidebar.palette_open = False
        if sidebar.rename_id or sidebar.delete_id:
            sidebar.rename_id = sidebar.delete_id = ""
