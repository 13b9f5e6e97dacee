"""An email backend for tests whose SMTP server is down for chosen subjects (settings.EMAIL_BACKEND points here)."""

from __future__ import annotations

import threading
from typing import ClassVar

from django.core.mail.backends.locmem import EmailBackend as LocmemBackend


class FlakyBackend(LocmemBackend):
    """The test (locmem) backend, except that a message whose subject contains a key of ``failures`` raises
    ConnectionRefusedError that many more times (-1: always). Reset ``failures`` in each test."""

    failures: ClassVar[dict[str, int]] = {}
    _lock = threading.Lock()

    def send_messages(self, messages):
        with self._lock:
            for message in messages:
                for part, left in self.failures.items():
                    if part in message.subject and left != 0:
                        self.failures[part] = left - 1
                        raise ConnectionRefusedError("SMTP server down (test)")
        return super().send_messages(messages)


class SpoolBackend(LocmemBackend):
    """For worker subprocesses in tests: each message sent is written as one JSON file (subject, recipients) into
    the directory named by JAK_TEST_MAIL_SPOOL, so the test process can count what every process sent."""

    def send_messages(self, messages):
        import json
        import os
        import uuid
        from pathlib import Path

        spool = Path(os.environ["JAK_TEST_MAIL_SPOOL"])
        for message in messages:
            (spool / f"{uuid.uuid4().hex}.json").write_text(json.dumps({"subject": message.subject, "to": message.to}))
        return super().send_messages(messages)
