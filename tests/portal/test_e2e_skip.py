"""`make test` passes on a machine without Chromium: the browser tests skip with a reason instead of erroring."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_browser_tests_skip_with_a_reason_without_chromium():
    env = {k: v for k, v in os.environ.items() if k not in ("E2E_REQUIRED", "CI")}
    env["PATH"] = str(Path(sys.executable).parent)  # no chromium on this PATH
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", "tests/e2e"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert "no Chromium on this machine" in run.stdout
    assert " passed" not in run.stdout
    assert "error" not in run.stdout.lower()
