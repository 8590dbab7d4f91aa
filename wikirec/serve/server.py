"""Running the app with uvicorn: on a socket bound here, in the foreground or a thread.

The socket is bound before uvicorn starts so that a port in use is one line from
``wikirec serve`` (uvicorn would log and exit), and so that port 0 (any free port)
gives an address to print. :class:`BackgroundServer` runs the same server in a thread,
for the tests, the benchmark and a notebook.
"""

from __future__ import annotations

import ipaddress
import json
import socket
import threading
import time

import h11
import uvicorn
from starlette.types import ASGIApp
from uvicorn.protocols.http.h11_impl import H11Protocol

from wikirec.serve.app import LOOPBACK_NAMES

BACKLOG = 2048  # uvicorn's default
START_TIMEOUT = 30.0  # seconds for a server in a thread to start listening
HEAD_TIMEOUT = 10.0  # seconds for a request line and headers to arrive, whole
# After refusing a head over h11's size bound (16 KB), the rest of what the client sends
# is read and dropped for this long, at most, so that it reads the answer: closing with
# unread bytes would reset the connection and lose the answer.
DRAIN_TIMEOUT = 2.0


def is_loopback(host: str) -> bool:
    """Is ``host`` reachable from this machine only (127.0.0.0/8, ::1, localhost)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def host_warning(host: str) -> str | None:
    """The one-line warning for a server reachable from other machines, or None."""
    if is_loopback(host):
        return None
    return (
        f"wikirec serve: warning: listening on {host}, not only on this machine: anyone "
        "who can reach it can query the model (read-only, no authentication)"
    )


def allowed_hosts(host: str) -> list[str] | None:
    """The ``Host`` header names a server bound to ``host`` accepts: the loopback
    names for a loopback server, any (None) for one bound elsewhere."""
    return [*LOOPBACK_NAMES, host] if is_loopback(host) else None


def bind(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host``:``port`` (0: a free port) and listening; raises
    OSError."""
    family, kind, proto, _, address = socket.getaddrinfo(
        host.strip("[]"), port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind, proto)
    try:
        # A server restarted at once finds its port in TIME_WAIT: reuse it, as uvicorn does.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        # Listening now lets a client connect as soon as the address is printed; the
        # connection waits in the backlog until uvicorn accepts it.
        sock.listen(BACKLOG)
    except OSError:
        sock.close()
        raise
    return sock


def url_of(sock: socket.socket) -> str:
    """The address to open for a server on ``sock`` (a wildcard bind: this machine's
    loopback)."""
    host, port = sock.getsockname()[:2]
    if host in ("0.0.0.0", ""):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}/"


class BoundedH11(H11Protocol):
    """uvicorn's HTTP/1.1 protocol with a deadline for each request's head and JSON for
    the requests it refuses itself.

    uvicorn closes a connection idle between requests after ``timeout_keep_alive``, but
    waits for ever on a request line and headers sent a byte at a time (800 such
    connections were held open by the hostile-input probe): a head not whole within
    ``head_timeout`` seconds of the connection or of the previous response closes the
    connection. What h11 cannot parse (no Host on HTTP/1.1, two Host headers, a TLS
    handshake, HTTP/0.9) gets a JSON 400, as the app's own errors are, not uvicorn's
    plain text; a head over h11's size bound a JSON 414 (its request line) or 431 (its
    headers), after which the rest of the request is read and dropped for up to
    ``DRAIN_TIMEOUT`` seconds so that the client gets the answer, not a reset."""

    head_timeout = HEAD_TIMEOUT
    draining = False

    def data_received(self, data: bytes) -> None:
        if not self.draining:  # once a head is refused, what follows is dropped unread
            super().data_received(data)

    def eof_received(self) -> bool | None:
        if self.draining:
            self.transport.close()
            return None
        return super().eof_received()

    def connection_made(self, transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_head_deadline()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm_head_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        self._head_deadline.cancel()
        super().connection_lost(exc)

    def _arm_head_deadline(self) -> None:
        previous = getattr(self, "_head_deadline", None)
        if previous is not None:
            previous.cancel()
        self._head_deadline = self.loop.call_later(self.head_timeout, self._head_too_slow)

    def _head_too_slow(self) -> None:
        # IDLE: the request's head is not whole yet (once it is, the app has the request)
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.transport.close()

    def send_400_response(self, msg: str) -> None:
        status, reason, msg = self._refusal(msg)
        body = json.dumps({"error": f"{reason.decode().lower()}: {msg}"}).encode()
        headers = [(b"content-type", b"application/json"), (b"connection", b"close")]
        try:
            for event in (h11.Response(status_code=status, headers=headers, reason=reason),
                          h11.Data(data=body), h11.EndOfMessage()):  # fmt: skip
                self.transport.write(self.conn.send(event))
        except h11.LocalProtocolError:  # h11 cannot answer in this state: close only
            pass
        if status == 400:
            self.transport.close()
            return
        self.draining = True
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.loop.call_later(DRAIN_TIMEOUT, self.transport.close)

    def _refusal(self, msg: str) -> tuple[int, bytes, str]:
        """The status, reason and message of a refused head: 414 or 431 when it is over
        h11's size bound (its request line alone, or its headers), else 400."""
        received, _ = self.conn.trailing_data
        if len(received) <= self.conn._max_incomplete_event_size:
            return 400, b"Bad Request", msg
        bound = f"{self.conn._max_incomplete_event_size:,} bytes"
        if b"\n" not in received:
            return 414, b"URI Too Long", f"the request line is longer than {bound}"
        return 431, b"Request Header Fields Too Large", f"the headers are longer than {bound}"


def make_server(
    app: ASGIApp, access_log: bool = False, head_timeout: float = HEAD_TIMEOUT
) -> uvicorn.Server:
    """A uvicorn server for ``app``: warnings and errors only, unless ``access_log``;
    a request's head must arrive within ``head_timeout`` seconds (:class:`BoundedH11`)."""
    protocol = type("BoundedH11", (BoundedH11,), {"head_timeout": head_timeout})
    config = uvicorn.Config(
        app, log_level="info" if access_log else "warning", access_log=access_log,
        lifespan="off", server_header=False, http=protocol,
    )  # fmt: skip
    return uvicorn.Server(config)


def serve(app: ASGIApp, sock: socket.socket, access_log: bool = False) -> None:
    """Serve ``app`` on ``sock`` until interrupted (Ctrl+C, SIGTERM).

    BLAS runs on one thread meanwhile (the whole process): requests are answered in
    parallel threads, each one small matrix-vector product, and several BLAS thread
    pools at once on a few cores spin against each other (benchmarks/README.md,
    "Serving", measures both).
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        make_server(app, access_log).run(sockets=[sock])


class BackgroundServer:
    """``app`` served in a thread on ``host``, a free port by default; a context manager.

    ``url`` is the server's address; leaving the ``with`` block stops it.
    """

    def __init__(
        self, app: ASGIApp, host: str = "127.0.0.1", port: int = 0,
        head_timeout: float = HEAD_TIMEOUT,
    ) -> None:  # fmt: skip
        self.sock = bind(host, port)
        self.url = url_of(self.sock)
        self.server = make_server(app, head_timeout=head_timeout)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )

    def start(self) -> BackgroundServer:
        self.thread.start()
        deadline = time.monotonic() + START_TIMEOUT
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the server at {self.url} did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        if self.thread.is_alive():
            self.thread.join(START_TIMEOUT)
        self.sock.close()

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
