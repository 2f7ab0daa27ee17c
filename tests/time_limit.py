"""Run a snippet of Python in a fresh interpreter with a time limit, to catch a hang (not
to time anything): a CPU-bound loop in C holds the GIL, so only another process can stop it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run_within(seconds: float, code: str) -> str:
    """The snippet's standard output; fails the test if it does not finish in `seconds`."""
    try:
        done = subprocess.run([sys.executable, "-c", code], check=False, cwd=ROOT, capture_output=True, text=True, timeout=seconds)
    except subprocess.TimeoutExpired:
        pytest.fail(f"did not finish within {seconds} s (it hangs):\n{code}")
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()
