"""One daemon per home: the OS lock refuses a second one and dies with its holder."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tradecrew.serve.lock import AlreadyRunning, HomeLock


def test_a_second_holder_is_refused_with_the_first_ones_pid_until_it_releases(
    tmp_path: Path,
) -> None:
    first = HomeLock(tmp_path).acquire()
    with pytest.raises(AlreadyRunning, match=rf"already running .*pid {os.getpid()}"):
        HomeLock(tmp_path).acquire()
    first.release()
    HomeLock(tmp_path).acquire().release()
    assert (tmp_path / "serve.lock").stat().st_mode & 0o077 == 0


def test_a_killed_holder_leaves_no_stale_lock(tmp_path: Path) -> None:
    code = textwrap.dedent(
        f"""
        import sys, time
        from pathlib import Path
        from tradecrew.serve.lock import HomeLock
        HomeLock(Path({str(tmp_path)!r})).acquire()
        print("held", flush=True)
        time.sleep(60)
        """
    )
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(AlreadyRunning):
            HomeLock(tmp_path).acquire()
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=10)
        HomeLock(tmp_path).acquire().release()
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()


def test_a_link_planted_as_the_lock_is_refused_and_its_target_untouched(tmp_path: Path) -> None:
    from tradecrew.serve.lock import LockUnusable

    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    (home / "serve.lock").symlink_to(victim)
    with pytest.raises(LockUnusable, match="link"):
        HomeLock(home).acquire()
    assert victim.read_text() == "precious\n"


def test_a_lock_file_left_open_to_others_is_made_private(tmp_path: Path) -> None:
    (tmp_path / "serve.lock").write_text("12345\n")
    (tmp_path / "serve.lock").chmod(0o666)
    HomeLock(tmp_path).acquire().release()
    assert (tmp_path / "serve.lock").stat().st_mode & 0o777 == 0o600
