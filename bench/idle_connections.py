#!/usr/bin/env python3
"""Hold idle HTTP/1.1 keep-alive connections open to a server (bench/http.sh).

Usage: idle_connections.py HOST PORT COUNT [PATH]

Opens COUNT connections one after another, sends one complete
`GET PATH HTTP/1.1` (default /healthz) with keep-alive on each and reads the
whole response, so that every connection is a real keep-alive connection that
the server has served and now waits on. Then prints `ready N` on stdout and
stays idle until SIGTERM or SIGINT, when it prints `open N of COUNT`: how many
of the connections the server had not closed by then, and exits 0.

Exits 1 with a message on stderr when a connection cannot be opened or its
response is not a 2xx with keep-alive. Needs an open-file limit above COUNT
(it raises its soft limit up to the hard one). Standard library only.
"""
import resource
import signal
import socket
import sys


def raise_fd_limit(need):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < need:
        want = need if hard == resource.RLIM_INFINITY else min(need, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
        if want < need:
            sys.exit(f"idle_connections: open-file limit {hard} is below {need}")


def read_response(sock):
    """Reads one response with a Content-Length body; returns (status, headers)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("closed before the response headers")
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("closed before the end of the response body")
        body += chunk
    return status, headers


def still_open(sock):
    """True while the peer has not closed the connection (nothing to read yet)."""
    sock.setblocking(False)  # no wait (a socket with a timeout polls first)
    try:
        return sock.recv(1, socket.MSG_PEEK) != b""
    except BlockingIOError:
        return True
    except OSError:
        return False


def main():
    if len(sys.argv) not in (4, 5):
        sys.exit(__doc__.split("\n\n")[1])
    host, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    path = sys.argv[4] if len(sys.argv) == 5 else "/healthz"
    raise_fd_limit(count + 64)
    request = (f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
               "Connection: keep-alive\r\n\r\n").encode()

    socks = []
    for i in range(count):
        try:
            s = socket.create_connection((host, port), timeout=10)
            s.sendall(request)
            status, headers = read_response(s)
        except OSError as e:
            sys.exit(f"idle_connections: connection {i + 1} of {count}: {e}")
        if not 200 <= status < 300 or headers.get("connection", "").lower() == "close":
            sys.exit(f"idle_connections: connection {i + 1} of {count}: status {status}, "
                     f"Connection: {headers.get('connection', '-')}")
        socks.append(s)

    # Signals are waited for rather than handled, so nothing runs in between.
    signals = {signal.SIGTERM, signal.SIGINT}
    signal.pthread_sigmask(signal.SIG_BLOCK, signals)
    print(f"ready {len(socks)}", flush=True)
    signal.sigwait(signals)
    print(f"open {sum(still_open(s) for s in socks)} of {count}", flush=True)
    for s in socks:
        s.close()


if __name__ == "__main__":
    main()
