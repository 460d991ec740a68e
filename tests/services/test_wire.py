"""The wire watch sees the finish marker and garbled lines however the bytes are split."""

import httpx
import pytest

from chat_app.services import wire


class _Chunks(httpx.AsyncByteStream):
    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks

    async def __aiter__(self):
        for chunk in self.chunks:
            yield chunk


def _split_everywhere(body: bytes) -> list[list[bytes]]:
    return [[body[:i], body[i:]] for i in range(1, len(body))]


FINISHED = b'data: {"candidates": [{"content": {}}]}\n\ndata: {"candidates": [{"finishReason": "STOP"}]}\n\n'
CUT = b'data: {"candidates": [{"content": {}}]}\n\n'
GARBLED = (
    b'data: {"candidates": []}\n\ndata: {not json\n\ndata: {"candidates": [{"finishReason": "STOP"}]}\n\n'
)


@pytest.mark.parametrize(("body", "complete"), [(FINISHED, True), (CUT, False), (GARBLED, False)])
async def test_the_verdict_does_not_depend_on_where_the_bytes_split(body, complete):
    for chunks in _split_everywhere(body):
        watch = wire.FinishWatch(b'"finishReason"')
        stream = wire._WatchedStream(_Chunks(chunks), watch)
        passed = b"".join([c async for c in stream])
        assert passed == body  # the bytes go through unchanged
        assert watch.complete is complete, chunks
