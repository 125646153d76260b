"""A scripted OpenAI-compatible chat server on 127.0.0.1 for tests and benchmarks.

``POST /v1/chat/completions`` answers from a script, in order: plain assistant messages,
tool calls and faults (HTTP errors with headers, delays). When the script runs out, an
optional ``responder(request_body) -> Step`` decides. Every request is recorded, so a test can
check what the client sent (for example that a tool's result came back in the next request).
Streaming (``"stream": true``) is answered as server-sent events.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Step:
    """One scripted answer: a message, tool calls, or an HTTP error, after an optional delay."""

    content: str | None = None
    tool_calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    status: int = 200
    error_body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    prompt_tokens: int = 50
    completion_tokens: int = 20


def text(content: str, **kw: Any) -> Step:
    """An assistant message with ``content``."""
    return Step(content=content, **kw)


def answer(obj: Any, **kw: Any) -> Step:
    """An assistant message whose content is ``obj`` as JSON (a structured final answer)."""
    return Step(content=json.dumps(obj), **kw)


def tool_call(name: str, arguments: dict[str, Any] | None = None, **kw: Any) -> Step:
    """An assistant message asking for one tool call."""
    return Step(tool_calls=[(name, arguments or {})], **kw)


def fault(status: int, *, retry_after: float | None = None, delay: float = 0.0) -> Step:
    """An HTTP error (500, 429 with Retry-After...) instead of an answer."""
    headers = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else {}
    body = {"error": {"message": f"scripted {status}", "type": "server_error", "code": status}}
    return Step(status=status, error_body=body, headers=headers, delay=delay)


def stall(seconds: float) -> Step:
    """Wait ``seconds`` before answering, long enough for a client timeout to fire."""
    return Step(content="late", delay=seconds)


Responder = Callable[[dict[str, Any]], Step]


class ScriptedLLMServer:
    """The server; use as a context manager or call ``start()``/``stop()``."""

    def __init__(self, script: list[Step] | None = None, responder: Responder | None = None):
        self.script: deque[Step] = deque(script or [])
        self.responder = responder
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.request_times: list[float] = []
        self._lock = threading.Lock()
        self._counter = 0
        self._httpd: ThreadingHTTPServer | None = None
        self._port: int | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> ScriptedLLMServer:
        handler = _handler_for(self)
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self._port = int(self._httpd.server_address[1])
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> ScriptedLLMServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The port it listens (or, once stopped, listened) on."""
        assert self._port is not None, "server never started"
        return self._port

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def push(self, *steps: Step) -> None:
        with self._lock:
            self.script.extend(steps)

    # ------------------------------------------------------------------ answering
    def _next(self, body: dict[str, Any]) -> Step:
        with self._lock:
            self.requests.append(body)
            self.request_times.append(time.monotonic())
            if self.script:
                return self.script.popleft()
        if self.responder is not None:
            return self.responder(body)
        return Step(status=500, error_body={"error": {"message": "script exhausted"}})

    def _new_id(self, prefix: str) -> str:
        with self._lock:
            self._counter += 1
            return f"{prefix}_{self._counter:04d}"

    def completion(self, body: dict[str, Any], step: Step) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": step.content}
        finish = "stop"
        if step.tool_calls:
            finish = "tool_calls"
            message["tool_calls"] = [
                {
                    "id": self._new_id("call"),
                    "type": "function",
                    "function": {"name": name, "arguments": json.dumps(args)},
                }
                for name, args in step.tool_calls
            ]
        return {
            "id": self._new_id("chatcmpl"),
            "object": "chat.completion",
            "created": 1_700_000_000,
            "model": body.get("model", "scripted"),
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": {
                "prompt_tokens": step.prompt_tokens,
                "completion_tokens": step.completion_tokens,
                "total_tokens": step.prompt_tokens + step.completion_tokens,
            },
        }


def _sse_chunks(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """The completion as streaming chunks: one delta with everything, then usage."""
    choice = payload["choices"][0]
    delta = {k: v for k, v in choice["message"].items() if v is not None}
    if "tool_calls" in delta:
        delta["tool_calls"] = [dict(tc, index=i) for i, tc in enumerate(delta["tool_calls"])]
    base = {k: payload[k] for k in ("id", "created", "model")}
    return [
        {
            **base,
            "object": "chat.completion.chunk",
            "choices": [{"index": 0, "delta": delta, "finish_reason": None}],
        },
        {
            **base,
            "object": "chat.completion.chunk",
            "choices": [{"index": 0, "delta": {}, "finish_reason": choice["finish_reason"]}],
        },
        {**base, "object": "chat.completion.chunk", "choices": [], "usage": payload["usage"]},
    ]


def _handler_for(server: ScriptedLLMServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # As real servers do: headers and body go out in separate writes, and Nagle's
        # algorithm would hold the second back ~40 ms on a kept-alive connection.
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:
            return  # keep test output clean

        def _send(self, status: int, payload: dict[str, Any], headers: dict[str, str]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            if not self.path.rstrip("/").endswith("/chat/completions"):
                self._send(404, {"error": {"message": f"no route {self.path}"}}, {})
                return
            try:
                body = json.loads(raw or b"{}")
            except json.JSONDecodeError:
                self._send(400, {"error": {"message": "invalid JSON"}}, {})
                return
            with server._lock:
                server.headers.append({k.lower(): v for k, v in self.headers.items()})
            step = server._next(body)
            if step.delay:
                time.sleep(step.delay)
            if step.status != 200:
                self._send(step.status, step.error_body or {}, step.headers)
                return
            payload = server.completion(body, step)
            if body.get("stream"):
                self._stream(payload)
            else:
                self._send(200, payload, step.headers)

        def _stream(self, payload: dict[str, Any]) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Connection", "close")
            self.end_headers()
            for chunk in _sse_chunks(payload):
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()
            self.close_connection = True

    return Handler
