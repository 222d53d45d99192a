"""Fault injection for the robustness tests (tests/robustness/test_faults.py)."""

import os
import signal


def fault_point(name: str) -> None:
    """SIGKILL this process at the point ``name`` when ``$OBSERVATORY_FAULT`` names it;
    otherwise nothing."""
    if os.environ.get("OBSERVATORY_FAULT") == name:
        os.kill(os.getpid(), signal.SIGKILL)
