"""The rule engines stay pure Python: importing them loads no Django."""

import subprocess
import sys


def test_engines_import_without_django():
    code = "import sys, monitoring.safety, monitoring.schedule; print('django' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
