"""How a handler's answer becomes a response, and where: JSON answers (`JSONResponse`), answers
whose work finishes on another thread (`Later`), and the handlers' thread pool (`in_thread`).
`api.routing` runs handlers through these.

Answers are rendered where their handler ran, a heavy page on the event loop too: the encoder
(orjson) holds the GIL for the whole of a call, so rendering on a worker thread would keep the
loop waiting just as long (measured: a 20 ms encode on a thread froze another thread for 32 ms),
and deciding which answers are heavy by walking them cost more than encoding them (8-16 us
against 0.3-1.3 us for one entry). `max_response_bytes` bounds the time an encode can take.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextvars import copy_context
from typing import Any

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from stackyard.api.json_out import dumps
from stackyard.api.request import Req
from stackyard.errors import APIError

Handler = Callable[[Req], Any]


class JSONResponse(Response):
    """A JSON answer (`json_out.dumps`), built and sent with less work than Starlette's own: the
    raw headers are made once, in one pass, and the two messages are sent as they are."""

    media_type = "application/json"

    def __init__(
        self,
        content: Any,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: Any = None,
    ) -> None:
        self.status_code = status_code
        self.background = background
        body = self.body = self.render(content)
        raw = [(b"content-length", str(len(body)).encode()), (b"content-type", _JSON_TYPE)]
        if headers:
            raw += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
        self.raw_headers = raw

    def render(self, content: Any) -> bytes:
        return dumps(content)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        await send({"type": "http.response.body", "body": self.body})
        if self.background is not None:
            await self.background()


_JSON_TYPE = b"application/json"


class Later:
    """A handler's answer whose work finishes on another thread: once `future` (a
    concurrent.futures.Future, or an asyncio future of the loop that answers, which that thread
    settles on it) is done, the answer is `then(its result)`."""

    __slots__ = ("future", "then")

    def __init__(self, future: Future[Any] | asyncio.Future[Any], then: Callable[[Any], Any]) -> None:
        self.future = future
        self.then = then

    async def answer(self) -> Any:
        """Wait for the future on the event loop; as with `in_thread`, a cancelled request still
        waits for it (a write handed over is never abandoned half-way)."""
        future = self.future
        waiting = future if isinstance(future, asyncio.Future) else asyncio.wrap_future(future)
        try:
            result = await asyncio.shield(waiting)
        except asyncio.CancelledError:
            await asyncio.wait([waiting])
            raise
        return self.then(result)


def rendered(result: Any, req: Req) -> Any:
    """`render`, except that a `Later` is left for the event loop to wait for."""
    return result if isinstance(result, Later) else render(result, req)


def render(result: Any, req: Req) -> Response:
    """The handler's answer as a response; JSON larger than `max_response_bytes` is a 413 (error_code
    413) telling the client to ask for a lower limit (Contentstack clients page with skip/limit, so
    a silently shorter page would make them skip items)."""
    if isinstance(result, Response):
        for k, v in req.response_headers.items():
            result.headers[k] = v
        return result
    status = 200
    if isinstance(result, tuple):
        status, result = result
    response = JSONResponse(result, status_code=status, headers=req.response_headers)
    limit = req.settings.max_response_bytes
    if limit and len(response.body) > limit:
        raise APIError(
            f"The answer would be {len(response.body)} bytes, more than the {limit} this server sends at "
            "once (max_response_bytes): ask for fewer items with a lower 'limit'.",
            error_code=413,
            errors={"limit": ["is too high for the size of these items."]},
        )
    return response


# An `inline=True` route's body up to this size is parsed on the event loop; a larger one on a thread.
INLINE_BODY_BYTES = 64 * 1024

_EXECUTOR: ThreadPoolExecutor | None = None
_EXECUTOR_LOCK = threading.Lock()
HANDLER_THREADS = 40  # as many as Starlette's own thread pool (anyio's default limiter)


async def in_thread(handler: Handler, req: Req) -> Any:
    """`handler(req)` on a worker thread, with the caller's context variables.

    What `starlette.concurrency.run_in_threadpool` does, on a plain thread pool, which costs about
    half as much CPU per call. As there, a cancelled request still waits for its handler to finish
    (a write transaction is never abandoned half-way).
    """
    global _EXECUTOR
    if _EXECUTOR is None:
        with _EXECUTOR_LOCK:
            if _EXECUTOR is None:
                _EXECUTOR = ThreadPoolExecutor(HANDLER_THREADS, thread_name_prefix="stackyard-handler")
    future = asyncio.get_running_loop().run_in_executor(_EXECUTOR, copy_context().run, handler, req)
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        await asyncio.wait([future])
        raise
