"""The SMS gateway adapter. Real gateways (a carrier's or a cloud provider's) implement `SmsGateway`;
`FileSmsGateway` is the demo's and the tests' stand-in, appending one JSON line per message."""

import json
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol

from zhili.kit.time import now


@dataclass(frozen=True)
class SmsMessage:
    to: str
    text: str
    # The outbox row's id: a gateway that accepts an idempotency key can drop a resend after a crash
    # between its acceptance and our commit (SMS delivery is at least once).
    key: str


class SmsGateway(Protocol):
    def send(self, message: SmsMessage) -> None:
        """Hand the message over or raise; a raise leaves the outbox row unsent for a later attempt."""


class FileSmsGateway:
    """Writes each message as a JSON line to a file (settings.sms_outbox_file by default)."""

    _lock = threading.Lock()  # one writer at a time, so lines from several sender threads never interleave

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def send(self, message: SmsMessage) -> None:
        line = json.dumps({**asdict(message), "at": now().isoformat()}, ensure_ascii=False)
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as fh:
                fh.write(line + "\n")
                fh.flush()
