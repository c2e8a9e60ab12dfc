"""The listening socket the fake serves on, made so that every answer leaves at once.

`socket.create_server()` makes a socket of protocol 0, and so are the sockets it accepts.
asyncio's event loop sets `TCP_NODELAY` on an accepted socket only when its protocol is
`IPPROTO_TCP` (uvloop sets it always), so on the plain asyncio loop Nagle's algorithm held each
small response back until the client's delayed ACK: about 40 ms per keep-alive request.
Naming the protocol here is the whole fix; `TCP_NODELAY` on the listening socket too, for
servers that copy its options to the accepted ones.
"""

from __future__ import annotations

import socket

__all__ = ["listening_socket"]


def listening_socket(host: str, port: int) -> socket.socket:
    """A bound, listening TCP socket on `host:port` (0 picks a free port); OSError if not."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP,
                               flags=socket.AI_PASSIVE)
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto or socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind(address)
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    return sock
