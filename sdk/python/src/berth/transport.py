"""HTTP plumbing shared by the sync and async clients.

Every SDK operation is written once, as a generator that yields :class:`Call` objects and
receives :class:`Reply` objects (or has the mapped :class:`~berth.errors.BerthError` thrown
into it). :func:`run_sync` and :func:`run_async` drive such a generator over ``httpx.Client``
or ``httpx.AsyncClient``; request building, error mapping, retries and SSE parsing live here
once for both.
"""
from __future__ import annotations

import asyncio
import email.utils
import inspect
import json as jsonlib
import time
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Dict, Generator, List, Optional, Tuple

import httpx

from .config import ConnectionConfig
from .errors import BerthError, TimeoutError, UnavailableError, error_from_response

RETRY_STATUSES = (429, 503)
MAX_RETRY_DELAY_S = 30.0

EventHandler = Callable[[str, Dict[str, Any]], Optional[Awaitable[None]]]


@dataclass
class Call:
    """One HTTP request. ``on_event`` makes it a server-sent-events stream."""

    method: str
    path: str
    params: Optional[List[Tuple[str, str]]] = None
    json: Any = None
    content: Optional[bytes] = None
    headers: Dict[str, str] = field(default_factory=dict)
    on_event: Optional[EventHandler] = None
    request_timeout: Optional[float] = None


@dataclass
class Reply:
    status: int
    headers: httpx.Headers
    content: bytes

    def json(self) -> Any:
        return jsonlib.loads(self.content) if self.content else None


Op = Generator[Call, Reply, Any]


def _kwargs(config: ConnectionConfig, call: Call) -> Dict[str, Any]:
    headers = {**config.headers(), **call.headers}
    kwargs: Dict[str, Any] = {"headers": headers, "params": call.params}
    if call.json is not None:
        kwargs["json"] = call.json
    if call.content is not None:
        kwargs["content"] = call.content
    t = call.request_timeout if call.request_timeout is not None else config.request_timeout
    # A stream may be quiet for long (the server pings every 15 s): only connecting is bounded.
    kwargs["timeout"] = httpx.Timeout(t, read=None) if call.on_event else httpx.Timeout(t)
    return kwargs


def _url(config: ConnectionConfig, call: Call) -> str:
    return config.api_url + call.path


def _error(status: int, content: bytes) -> BerthError:
    try:
        body: Any = jsonlib.loads(content) if content else None
    except ValueError:
        body = content.decode("utf-8", "replace")
    return error_from_response(status, body)


def retry_delay(attempt: int, status: int, headers: httpx.Headers) -> float:
    """Seconds to wait before retry ``attempt`` (1-based): ``Retry-After`` when given, else backoff."""
    value = headers.get("retry-after")
    if value:
        try:
            return min(MAX_RETRY_DELAY_S, max(0.0, float(value)))
        except ValueError:
            try:
                parsed = email.utils.parsedate_to_datetime(value)
            except (TypeError, ValueError):
                parsed = None
            if parsed is not None:
                return min(MAX_RETRY_DELAY_S, max(0.0, parsed.timestamp() - time.time()))
    return min(MAX_RETRY_DELAY_S, 0.25 * (2 ** (attempt - 1)))


class SseDecoder:
    """Turns ``text/event-stream`` lines into ``(event, data)`` pairs (data parsed as JSON)."""

    def __init__(self) -> None:
        self._event = "message"
        self._data: List[str] = []

    def feed(self, line: str) -> Optional[Tuple[str, Dict[str, Any]]]:
        if line == "":
            if not self._data:
                self._event = "message"
                return None
            raw = "\n".join(self._data)
            event, self._event, self._data = self._event, "message", []
            try:
                data = jsonlib.loads(raw)
            except ValueError:
                data = {"data": raw}
            return event, data if isinstance(data, dict) else {"data": data}
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "event":
            self._event = value
        elif name == "data":
            self._data.append(value)
        return None


def _stream_error(call: Call, exc: Exception) -> BerthError:
    if isinstance(exc, httpx.TimeoutException):
        return TimeoutError(f"{call.method} {call.path} timed out; raise request_timeout or retry")
    return UnavailableError(f"{call.method} {call.path} failed: {exc}; check BERTH_API_URL and that berth is running", code="connection_error")


def _advance(op: Op, reply: Optional[Reply], error: Optional[BerthError]) -> Tuple[bool, Any]:
    """Steps the op: (False, next call) or (True, its result)."""
    try:
        if error is not None:
            return False, op.throw(error)
        return False, op.send(reply)  # type: ignore[arg-type]
    except StopIteration as stop:
        return True, stop.value


def run_sync(client: httpx.Client, config: ConnectionConfig, op: Op) -> Any:
    done, value = _advance(op, None, None)
    while not done:
        try:
            reply, error = _send_sync(client, config, value), None
        except BerthError as exc:
            reply, error = None, exc
        done, value = _advance(op, reply, error)
    return value


async def run_async(client: httpx.AsyncClient, config: ConnectionConfig, op: Op) -> Any:
    done, value = _advance(op, None, None)
    while not done:
        try:
            reply, error = await _send_async(client, config, value), None
        except BerthError as exc:
            reply, error = None, exc
        done, value = _advance(op, reply, error)
    return value


def _send_sync(client: httpx.Client, config: ConnectionConfig, call: Call) -> Reply:
    attempt = 0
    while True:
        attempt += 1
        try:
            with client.stream(call.method, _url(config, call), **_kwargs(config, call)) as resp:
                if resp.status_code in RETRY_STATUSES and attempt <= config.max_retries:
                    resp.read()
                    time.sleep(retry_delay(attempt, resp.status_code, resp.headers))
                    continue
                if resp.status_code >= 400:
                    raise _error(resp.status_code, resp.read())
                if call.on_event is None:
                    return Reply(resp.status_code, resp.headers, resp.read())
                decoder = SseDecoder()
                for line in resp.iter_lines():
                    event = decoder.feed(line)
                    if event is not None:
                        call.on_event(*event)
                return Reply(resp.status_code, resp.headers, b"")
        except httpx.HTTPError as exc:
            raise _stream_error(call, exc) from exc


async def _send_async(client: httpx.AsyncClient, config: ConnectionConfig, call: Call) -> Reply:
    attempt = 0
    while True:
        attempt += 1
        try:
            async with client.stream(call.method, _url(config, call), **_kwargs(config, call)) as resp:
                if resp.status_code in RETRY_STATUSES and attempt <= config.max_retries:
                    await resp.aread()
                    await asyncio.sleep(retry_delay(attempt, resp.status_code, resp.headers))
                    continue
                if resp.status_code >= 400:
                    raise _error(resp.status_code, await resp.aread())
                if call.on_event is None:
                    return Reply(resp.status_code, resp.headers, await resp.aread())
                decoder = SseDecoder()
                async for line in resp.aiter_lines():
                    event = decoder.feed(line)
                    if event is not None:
                        result = call.on_event(*event)
                        if inspect.isawaitable(result):
                            await result
                return Reply(resp.status_code, resp.headers, b"")
        except httpx.HTTPError as exc:
            raise _stream_error(call, exc) from exc


def new_sync_client() -> httpx.Client:
    return httpx.Client()


def new_async_client() -> httpx.AsyncClient:
    return httpx.AsyncClient()


def maybe_call(callback: Optional[Callable[[str], Any]], text: str) -> Any:
    """Calls a user callback; returns its awaitable (async callbacks) for the async driver."""
    if callback is None or not text:
        return None
    return callback(text)


__all__ = ["Call", "Reply", "Op", "run_sync", "run_async", "SseDecoder", "retry_delay", "maybe_call"]
