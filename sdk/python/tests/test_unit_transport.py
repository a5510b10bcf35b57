"""Pure logic with httpx's MockTransport: error table, retries with Retry-After, SSE parsing, body shapes."""
from __future__ import annotations

import httpx
import pytest

import berth
from berth import errors, lifecycle, transport
from berth.config import ConnectionConfig


def cfg(retries: int = 3) -> ConnectionConfig:
    return ConnectionConfig(api_url="http://berth.test", api_key="k", request_timeout=5, max_retries=retries)


def client(handler) -> httpx.Client:
    return httpx.Client(transport=httpx.MockTransport(handler))


@pytest.mark.parametrize(
    "status,code,cls",
    [
        (400, "invalid_argument", berth.InvalidArgumentError),
        (400, "invalid_json", berth.InvalidArgumentError),
        (401, "unauthorized", berth.UnauthorizedError),
        (404, "not_found", berth.NotFoundError),
        (409, "conflict", berth.ConflictError),
        (413, "payload_too_large", berth.PayloadTooLargeError),
        (429, "quota_exceeded", berth.RateLimitedError),
        (502, "provision_failed", berth.ProvisionFailedError),
        (502, "upstream_unavailable", berth.UpstreamUnavailableError),
        (503, "unavailable", berth.UnavailableError),
        (418, "teapot", berth.BerthError),
        (404, "", berth.NotFoundError),
    ],
)
def test_error_table(status, code, cls):
    err = errors.error_from_response(status, {"code": code, "message": "do this"} if code else "plain text")
    assert type(err) is cls
    assert isinstance(err, berth.SandboxException)
    assert err.status == status


def test_retries_503_then_succeeds_honouring_retry_after(monkeypatch):
    slept = []
    monkeypatch.setattr(transport.time, "sleep", slept.append)
    answers = [
        httpx.Response(503, headers={"retry-after": "1.5"}, json={"code": "unavailable", "message": "retry"}),
        httpx.Response(429, json={"code": "quota_exceeded", "message": "later"}),
        httpx.Response(200, json={"sandboxes": [], "nextToken": None}),
    ]
    seen = []

    def handler(request):
        seen.append(request)
        return answers.pop(0)

    with client(handler) as c:
        out = transport.run_sync(c, cfg(), lifecycle.list_sandboxes({"metadata": {"job": "x"}}, 5))
    assert out == {"sandboxes": [], "next_token": None}
    assert len(seen) == 3
    assert slept[0] == 1.5  # Retry-After honoured
    assert slept[1] > 0  # backoff without Retry-After
    assert seen[0].headers["authorization"] == "Bearer k"
    assert seen[0].url.params.get_list("metadata") == ["job=x"]
    assert seen[0].url.params["limit"] == "5"


def test_gives_up_after_max_retries(monkeypatch):
    monkeypatch.setattr(transport.time, "sleep", lambda s: None)
    calls = []

    def handler(request):
        calls.append(1)
        return httpx.Response(503, json={"code": "unavailable", "message": "Temporal unreachable; retry"})

    with client(handler) as c, pytest.raises(berth.UnavailableError, match="Temporal unreachable"):
        transport.run_sync(c, cfg(retries=2), lifecycle.get_info("abc"))
    assert len(calls) == 3


def test_404_is_not_retried_and_kill_maps_it_to_false():
    calls = []

    def handler(request):
        calls.append(request.method)
        return httpx.Response(404, json={"code": "not_found", "message": "sandbox abc not found"})

    with client(handler) as c:
        assert transport.run_sync(c, cfg(), lifecycle.kill("abc")) is False
    assert calls == ["DELETE"]


def test_connection_error_is_a_berth_error():
    def handler(request):
        raise httpx.ConnectError("refused")

    with client(handler) as c, pytest.raises(berth.BerthError):
        transport.run_sync(c, cfg(), lifecycle.get_info("abc"))


def test_sse_decoder():
    d = transport.SseDecoder()
    lines = [": ping", "event: stdout", 'data: {"data":"hi\\n"}', "", "event: end", 'data: {"exitCode":0}', ""]
    events = [e for e in map(d.feed, lines) if e]
    assert events == [("stdout", {"data": "hi\n"}), ("end", {"exitCode": 0})]


def test_create_body_maps_snake_case():
    body = lifecycle.create_body("tiny", 60, {"a": "b"}, {"X": "1"}, {"cpu": 1, "memory_mb": 256}, {"on_timeout": "pause", "auto_resume": True})
    assert body == {
        "templateID": "tiny",
        "timeout": 60,
        "metadata": {"a": "b"},
        "envs": {"X": "1"},
        "resources": {"cpu": 1, "memoryMB": 256},
        "lifecycle": {"onTimeout": "pause", "autoResume": True},
    }
    absolute = lifecycle.create_body("tiny", 60, None, None, None, {"timeout_mode": "absolute"})
    assert absolute["lifecycle"] == {"timeoutMode": "absolute"}


def test_config_from_env_and_domain(monkeypatch):
    monkeypatch.setenv("BERTH_API_URL", "http://10.9.9.9:1234/")
    monkeypatch.setenv("BERTH_API_KEY", "envkey")
    c = ConnectionConfig.resolve()
    assert (c.api_url, c.api_key) == ("http://10.9.9.9:1234", "envkey")
    c = ConnectionConfig.resolve(api_key="explicit", domain="localhost:9", request_timeout=3)
    assert (c.api_url, c.api_key, c.request_timeout) == ("http://localhost:9", "explicit", 3.0)


def test_retry_delay_forms():
    h = httpx.Headers
    assert transport.retry_delay(1, 503, h({"retry-after": "2"})) == 2
    assert transport.retry_delay(1, 503, h({"retry-after": "9999"})) == transport.MAX_RETRY_DELAY_S
    assert transport.retry_delay(1, 503, h({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"})) == 0  # in the past
    assert transport.retry_delay(2, 503, h({"retry-after": "soon"})) == 0.5  # unparseable: backoff
    assert transport.retry_delay(3, 429, h()) == 1.0


async def test_async_driver_shares_retries_and_error_mapping(monkeypatch):
    slept = []

    async def fake_sleep(s):
        slept.append(s)

    monkeypatch.setattr(transport.asyncio, "sleep", fake_sleep)
    answers = [
        httpx.Response(503, headers={"retry-after": "0.5"}, json={"code": "unavailable", "message": "retry"}),
        httpx.Response(409, json={"code": "conflict", "message": "sandbox is paused; resume it"}),
    ]
    async with httpx.AsyncClient(transport=httpx.MockTransport(lambda r: answers.pop(0))) as c:
        with pytest.raises(berth.ConflictError, match="resume it"):
            await transport.run_async(c, cfg(), lifecycle.pause("abc"))
    assert slept == [0.5]
