"""A load client for the live service: many threads, one keep-alive connection each.

Every answer is kept: a 201's consent id, site, chain position and hash go into the list of
acknowledged records, which the tests then look for in the database. A connection that breaks
(the server was killed) ends that client; the record it was sending was never acknowledged.
"""

from __future__ import annotations

import base64
import http.client
import itertools
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import orjson

SITES = ("mixvoip.com", "mixvoip.org", "voxbi.team", "voxbi.com")
ACTIONS = (
    ("refuse_all", {"technical": True, "advertising": False}),
    ("accept_all", {"technical": True, "advertising": True}),
)


@dataclass(frozen=True)
class Acknowledged:
    consent_id: str
    site: str
    seq: int
    hash: str


@dataclass
class LoadResult:
    acknowledged: list[Acknowledged] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    broken_connections: int = 0
    seconds: float = 0.0

    @property
    def sent(self) -> int:
        return sum(self.statuses.values()) + self.broken_connections

    @property
    def server_errors(self) -> int:
        return sum(count for status, count in self.statuses.items() if status >= 500)

    @property
    def throughput(self) -> float:
        return len(self.acknowledged) / self.seconds if self.seconds else 0.0


def receipt_position(receipt: str) -> tuple[int, str]:
    """The chain position and hash that a receipt's (unsigned, readable) payload states."""
    body = receipt.split(".", 1)[0]
    payload = orjson.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    return payload["seq"], payload["h"]


class LoadClient:
    """POST ``total`` consents to ``port`` from ``concurrency`` threads."""

    def __init__(self, port: int, total: int, concurrency: int = 64, timeout: float = 30) -> None:
        self.port, self.total, self.concurrency, self.timeout = port, total, concurrency, timeout
        self.result = LoadResult()
        self._numbers = itertools.count()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._started = 0.0
        self.stop = threading.Event()
        self._milestone: tuple[int, threading.Event] | None = None

    def when_acknowledged(self, count: int) -> threading.Event:
        """An event set once ``count`` records have been acknowledged (call before ``start``)."""
        self._milestone = (count, threading.Event())
        return self._milestone[1]

    def start(self) -> LoadClient:
        self._started = time.monotonic()
        self._threads = [
            threading.Thread(target=self._client, daemon=True) for _ in range(self.concurrency)
        ]
        for thread in self._threads:
            thread.start()
        return self

    def join(self) -> LoadResult:
        for thread in self._threads:
            thread.join()
        self.result.seconds = time.monotonic() - self._started
        return self.result

    def run(self) -> LoadResult:
        return self.start().join()

    def acknowledged_count(self) -> int:
        with self._lock:
            return len(self.result.acknowledged)

    def _client(self) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        headers = {"Content-Type": "application/json", "User-Agent": "reliability-load/1.0"}
        try:
            while not self.stop.is_set():
                number = next(self._numbers)
                if number >= self.total:
                    return
                action, categories = ACTIONS[number % 2]
                body = orjson.dumps(
                    {
                        "site": SITES[number % len(SITES)],
                        "action": action,
                        "categories": categories,
                        "page_url": f"https://www.example.test/page/{number}",
                    }
                )
                try:
                    connection.request("POST", "/v1/consents", body, headers)
                    response = connection.getresponse()
                    payload = response.read()
                except (OSError, http.client.HTTPException):
                    with self._lock:
                        self.result.broken_connections += 1
                    return
                self._keep(response.status, payload)
        finally:
            connection.close()

    def _keep(self, status: int, payload: bytes) -> None:
        acknowledged = None
        if status == 201:
            body = orjson.loads(payload)
            seq, digest = receipt_position(body["receipt"])
            acknowledged = Acknowledged(body["consent_id"], body["site"], seq, digest)
        with self._lock:
            self.result.statuses[status] += 1
            if acknowledged:
                self.result.acknowledged.append(acknowledged)
                if self._milestone and len(self.result.acknowledged) >= self._milestone[0]:
                    self._milestone[1].set()


def loopback_port(first: int = 5500, last: int = 5599) -> int:
    """A free loopback port in the range kept for these tests (another free one if all taken)."""
    import socket

    for port in range(first, last + 1):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
