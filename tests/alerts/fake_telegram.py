"""A local stand-in for the Telegram Bot API (sendMessage, getUpdates, answerCallbackQuery)
and for a webhook receiver, on 127.0.0.1: records what it was sent, serves queued updates."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

#: Canary secrets: they must never appear in any log, message, output or file but the
#: requests that need them.
TOKEN = "123456:CANARY-bot-token-7f3e9a"
HOOK_SECRET = "CANARY-hook-token-c41d"
ALERT_CHAT = "5551234"


@dataclass
class FakeTelegram:
    token: str
    webhook_path: str = "/hook/secret"
    messages: list[dict[str, Any]] = field(default_factory=list)
    answers: list[dict[str, Any]] = field(default_factory=list)
    webhook: list[dict[str, Any]] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    fail_with: int | None = None  # answer every request with this status
    lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None
    _next_update: int = 100

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def webhook_url(self) -> str:
        return self.url + self.webhook_path

    def start(self) -> FakeTelegram:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: object) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                with fake.lock:
                    fake.requests.append(self.path)
                if fake.fail_with is not None:
                    return self._reply(fake.fail_with, {"ok": False})
                if self.path == fake.webhook_path:
                    with fake.lock:
                        fake.webhook.append(body)
                    return self._reply(200, {"ok": True})
                prefix = f"/bot{fake.token}/"
                if not self.path.startswith(prefix):
                    return self._reply(401, {"ok": False, "description": "Unauthorized"})
                method = self.path[len(prefix) :]
                with fake.lock:
                    if method == "sendMessage":
                        fake.messages.append(body)
                        return self._reply(200, {"ok": True, "result": {"message_id": 1}})
                    if method == "answerCallbackQuery":
                        fake.answers.append(body)
                        return self._reply(200, {"ok": True, "result": True})
                    if method == "getUpdates":
                        offset = int(body.get("offset") or 0)
                        due = [u for u in fake.updates if u["update_id"] >= offset]
                        return self._reply(200, {"ok": True, "result": due})
                return self._reply(404, {"ok": False})

            def _reply(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def press(self, chat_id: int | str, data: str, user_id: int | None = None) -> int:
        """Queue a button press in ``chat_id`` with ``data``; returns its update id."""
        with self.lock:
            self._next_update += 1
            update_id = self._next_update
            self.updates.append(
                {
                    "update_id": update_id,
                    "callback_query": {
                        "id": f"cq{update_id}",
                        "from": {"id": int(user_id if user_id is not None else chat_id)},
                        "message": {"message_id": 1, "chat": {"id": int(chat_id)}},
                        "data": data,
                    },
                }
            )
        return update_id

    def buttons(self, index: int = -1) -> dict[str, str]:
        """The callback data of the approve and reject buttons of a sent message."""
        markup = self.messages[index]["reply_markup"]["inline_keyboard"][0]
        return {b["text"].lower(): b["callback_data"] for b in markup}
