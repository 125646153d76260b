"""SIGTERM in the middle of a step: the daemon exits 0 within 10 s, and the step it had to
abandon leaves nothing half-written (its ledger transaction rolls back whole)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from tests.serve.helpers import ROOT

CHILD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    import structlog
    from tradecrew.config import Settings
    from tradecrew.desk import Desk
    from tradecrew.ledger import _governance
    from tradecrew.models import TradingState
    from tradecrew.serve.daemon import Daemon, Options
    from tradecrew.serve.jobs import Jobs
    from tradecrew.serve.lock import HomeLock
    from tradecrew.serve.logs import configure

    home = Path(sys.argv[1])
    settings = Settings(
        home=home,
        serve={"crew": {}, "watch_seconds": 0.2, "shutdown_seconds": 1.0},
    )

    class StuckWatch(Jobs):
        def watch(self):
            # A step caught mid-write: a halt written but not committed, then a hang.
            with self.desk.ledger._tx(durable=True) as tx:
                _governance.set_trading_state(tx, TradingState.HALTED, "half", "test", None)
                print("in step", flush=True)
                time.sleep(60)

    configure(settings, json_logs=True)
    desk = Desk.from_settings(settings)
    lock = HomeLock(home).acquire()
    daemon = Daemon(desk, lock, Options(["XAUUSD"]), structlog.get_logger())
    daemon.jobs = StuckWatch(desk, daemon.metrics, daemon.log, ["XAUUSD"])
    sys.exit(daemon.run())
    """
)


def test_sigterm_mid_step_exits_0_quickly_and_rolls_the_step_back(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    env = {"TRADECREW_HOME": str(home), "PATH": "/usr/bin:/bin", "PYTHONUNBUFFERED": "1"}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(home)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "in step", (
            child.stderr.read()[-2000:] if child.stderr else ""
        )
        started = time.monotonic()
        child.send_signal(signal.SIGTERM)
        _, err = child.communicate(timeout=10)
        took = time.monotonic() - started
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()
    assert child.returncode == 0, err[-2000:]
    assert took < 10
    stopped = [json.loads(line) for line in err.splitlines() if '"serve_stopped"' in line]
    assert stopped and stopped[-1]["abandoned"] == ["watch"]

    from tradecrew.ledger import Ledger
    from tradecrew.models import TradingState

    with Ledger(f"sqlite:///{home / 'tradecrew.db'}", home=home) as ledger:
        assert ledger.get_trading_state().state is TradingState.ACTIVE
        assert ledger.verify_audit_chain().ok
