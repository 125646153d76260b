"""A stand-in Hugging Face Hub on 127.0.0.1 serving one model repository from a folder.

It answers the calls ``huggingface_hub.snapshot_download`` and ``HfApi.list_repo_files`` make,
in the shapes the library checks:

- ``GET /api/models/{repo}/revision/{rev}``: the repo's info, whose ``sha`` is the commit;
- ``GET /api/models/{repo}/tree/{rev}``: the file listing (type, path, size, oid), one page;
- ``HEAD``/``GET /{repo}/resolve/{rev}/{file}``: the file, with ``X-Repo-Commit``, ``ETag``
  and ``Content-Length`` (the library refuses a file without the first two);
- errors carry ``X-Error-Code`` (RepoNotFound, RevisionNotFound, EntryNotFound) as the Hub's do.

The revision may be the branch ``main`` or the commit. Every request is recorded.
"""

from __future__ import annotations

import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit


class StandInHub:
    """Serves ``folder`` as repository ``repo_id`` at commit ``commit`` (branch ``main``)."""

    def __init__(self, repo_id: str, folder: Path, commit: str | None = None) -> None:
        self.repo_id = repo_id
        self.files = {
            p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*"))
            if p.is_file()
        }
        digest = hashlib.sha1(b"".join(self.files.values())).hexdigest()
        self.commit = commit or digest
        self.requests: list[tuple[str, str]] = []
        self._httpd: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._httpd is not None, "hub not started"
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def __enter__(self) -> StandInHub:
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()

    def downloads(self) -> list[str]:
        """Files fetched with GET, in order."""
        marker = f"/{self.repo_id}/resolve/"
        return [p.split(marker, 1)[1].split("/", 1)[1] for m, p in self.requests
                if m == "GET" and marker in p]  # fmt: skip

    # ------------------------------------------------------------------ answers
    def answer(self, method: str, raw_path: str) -> tuple[int, dict[str, str], bytes]:
        path = unquote(urlsplit(raw_path).path)
        api = f"/api/models/{self.repo_id}/"
        resolve = f"/{self.repo_id}/resolve/"
        if path.startswith(api):
            kind, _, rev = path[len(api) :].partition("/")
            rev = rev.split("/", 1)[0]
            if kind not in ("revision", "tree"):
                return _error(404, "EntryNotFound")
            if rev not in ("main", self.commit):
                return _error(404, "RevisionNotFound")
            return 200, {"Content-Type": "application/json"}, self._json(kind)
        if path.startswith(resolve):
            rev, _, name = path[len(resolve) :].partition("/")
            if rev not in ("main", self.commit):
                return _error(404, "RevisionNotFound")
            if name not in self.files:
                return _error(404, "EntryNotFound", {"X-Repo-Commit": self.commit})
            data = self.files[name]
            headers = {
                "X-Repo-Commit": self.commit,
                "ETag": f'"{hashlib.sha256(data).hexdigest()}"',
                "Content-Length": str(len(data)),
                "Content-Type": "application/octet-stream",
            }
            return 200, headers, data
        return _error(404, "RepoNotFound")

    def _json(self, kind: str) -> bytes:
        if kind == "revision":
            body: Any = {
                "id": self.repo_id,
                "modelId": self.repo_id,
                "sha": self.commit,
                "private": False,
                "siblings": [{"rfilename": name} for name in self.files],
            }
        else:
            body = [
                {
                    "type": "file",
                    "path": name,
                    "size": len(data),
                    "oid": hashlib.sha1(data).hexdigest(),
                }
                for name, data in self.files.items()
            ]
        return json.dumps(body).encode()


def _error(status: int, code: str, extra: dict[str, str] | None = None) -> tuple[int, dict, bytes]:
    body = json.dumps({"error": code}).encode()
    return status, {"X-Error-Code": code, "Content-Type": "application/json", **(extra or {})}, body


def _handler(hub: StandInHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self, with_body: bool) -> None:
            hub.requests.append((self.command, self.path))
            status, headers, body = hub.answer(self.command, self.path)
            self.send_response(status)
            headers.setdefault("Content-Length", str(len(body)))
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            if with_body:
                self.wfile.write(body)

        def do_GET(self) -> None:
            self._serve(with_body=True)

        def do_HEAD(self) -> None:
            self._serve(with_body=False)

        def log_message(self, *args: Any) -> None:
            pass

    return Handler
