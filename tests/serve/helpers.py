"""A real ``tradecrew serve`` process on a temporary home, and how to read it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment of a serve process: this one's without any TRADECREW_ setting, a
    short watch interval, no crew cycles, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADECREW_")}
    env.update(
        TRADECREW_HOME=str(home),
        TRADECREW_SERVE__WATCH_SECONDS="0.5",
        TRADECREW_SERVE__REFRESH_SECONDS="0.5",
        TRADECREW_SERVE__RECONCILE_SECONDS="5",
        TRADECREW_SERVE__CREW="{}",
        TRADECREW_CREW_FILE=str(ROOT / "crew.yaml"),
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def tradecrew(
    env: dict[str, str], *args: str, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tradecrew", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def launch(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    """``tradecrew args`` started, not waited for."""
    return subprocess.Popen(
        [sys.executable, "-m", "tradecrew", *args],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def get(url: str, host: str | None = None, timeout: float = 5) -> tuple[int, str]:
    request = urllib.request.Request(url)
    if host is not None:
        request.add_header("Host", host)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as reply:
            return reply.status, reply.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def metric(text: str, name: str, labels: str = "") -> float | None:
    """The value of ``name{labels}`` in a /metrics page."""
    key = f"{name}{{{labels}}}" if labels else name
    for line in text.splitlines():
        if line.startswith(key + " "):
            return float(line.split()[-1])
    return None


class Served:
    def __init__(self, proc: subprocess.Popen[str], port: int, env: dict[str, str]) -> None:
        self.proc = proc
        self.port = port
        self.env = env

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def metrics(self) -> str:
        return get(self.base + "/metrics")[1]

    def wait_for(self, name: str, value: float, timeout: float, labels: str = "") -> float:
        """Seconds until ``name`` showed ``value``; fails after ``timeout``."""
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            if metric(self.metrics(), name, labels) == value:
                return time.monotonic() - start
            time.sleep(0.05)
        raise AssertionError(f"{name} never became {value}: {self.metrics()[-2000:]}")

    def stop(self, timeout: float = 10) -> tuple[int, float, str]:
        """SIGTERM; exit code, seconds it took, stderr."""
        start = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            _, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
            raise AssertionError(f"serve did not stop within {timeout} s: {err[-2000:]}") from None
        return self.proc.returncode, time.monotonic() - start, err


@contextmanager
def serving(env: dict[str, str], *args: str, ready_timeout: float = 30) -> Iterator[Served]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tradecrew", "serve", "--http", f"127.0.0.1:{port}", *args],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    served = Served(proc, port, env)
    try:
        deadline = time.monotonic() + ready_timeout
        while True:
            if proc.poll() is not None:
                raise AssertionError(
                    f"serve exited {proc.returncode}: {proc.stderr.read()[-3000:]}"
                )
            try:
                if get(served.base + "/healthz", timeout=1)[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("serve did not answer /healthz")
            time.sleep(0.1)
        yield served
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
