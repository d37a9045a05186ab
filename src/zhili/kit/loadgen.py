"""A lean HTTP/1.1 load generator for benchmarks: keep-alive connections on asyncio streams, requests
pre-encoded, responses parsed just enough (status, headers, Content-Length body).

Benchmarks run the server and the clients on one machine, so every cycle the client burns is taken from
the server it measures; a full-featured client (httpx) costs several times more per request than this.
"""

import asyncio
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    body: bytes = b""
    content_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = ()

    def encode(self, host: str) -> bytes:
        lines = [f"{self.method} {self.path} HTTP/1.1", f"Host: {host}", f"Content-Length: {len(self.body)}"]
        if self.body:
            lines.append(f"Content-Type: {self.content_type}")
        lines += [f"{k}: {v}" for k, v in self.headers]
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + self.body


@dataclass
class Answer:
    index: int
    status: int  # 0: no answer (connection lost)
    seconds: float
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


async def _read_answer(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    status = int(status_line.split(" ", 2)[1])
    headers = {}
    for line in header_lines:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding") == "chunked":
        body = b""
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip(), 16)
            chunk = await reader.readexactly(size + 2)
            if size == 0:
                break
            body += chunk[:-2]
    else:
        body = await reader.readexactly(int(headers.get("content-length", "0")))
    return status, headers, body


async def run(url: str, requests: Sequence[Request] | Iterator[Request], *, connections: int,
              keep: Callable[[Answer], bool] = lambda a: False) -> tuple[list[Answer], float]:
    """Send every request over `connections` keep-alive connections, each taking the next request as
    soon as its previous answer arrived (a closed loop: the offered load is what the server sustains).
    Returns the answers (bodies only where `keep` says so) in completion order, and the wall seconds."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    work = iter(enumerate(requests))
    answers: list[Answer] = []

    async def connection() -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            for index, request in work:
                started = time.perf_counter()
                try:
                    writer.write(request.encode(f"{host}:{port}"))
                    status, headers, body = await _read_answer(reader)
                except (ConnectionError, asyncio.IncompleteReadError):
                    answers.append(Answer(index, 0, time.perf_counter() - started))
                    writer.close()
                    reader, writer = await asyncio.open_connection(host, port)
                    continue
                answer = Answer(index, status, time.perf_counter() - started)
                if keep(answer):
                    answer.body, answer.headers = body, headers
                answers.append(answer)
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(connections)))
    return answers, time.perf_counter() - started


def percentile_ms(seconds: Sequence[float], share: float) -> float:
    ordered = sorted(seconds)
    if not ordered:
        return 0.0
    return round(ordered[min(len(ordered) - 1, int(len(ordered) * share))] * 1000, 2)
