"""The HTTP protocol the fake is served with: uvicorn's httptools protocol, answering a client
that half-closes its connection.

uvicorn picks httptools (a C parser) and uvloop when they are installed, as they are with the
fake: about twice the requests a second of its pure-Python h11 on asyncio. One difference shows:
a client that sends pipelined requests and then shuts its side down (`shutdown(SHUT_WR)`) got
only the first answer, as the connection closed at the end of its input. Here it gets every
answer to a request it sent whole, and then the connection closes; a request it left unfinished
is cut short as before (the app sees the disconnect).
"""

from __future__ import annotations

from typing import Any

__all__ = ["http_protocol"]


def http_protocol() -> Any:
    """The protocol class for `uvicorn.Config(http=...)`, or "auto" without httptools."""
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    except ImportError:  # httptools missing: uvicorn's own choice (h11)
        return "auto"

    class HalfCloseProtocol(HttpToolsProtocol):
        _input_done = False

        def eof_received(self) -> bool | None:  # type: ignore[override]
            cycle = self.cycle
            if cycle is None or cycle.more_body or (cycle.response_complete
                                                    and not self.pipeline):
                return None  # nothing left to answer, or a request cut short: close
            self._input_done = True
            return True  # keep writing: the answers still to come

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if self._input_done and not self.pipeline and self.cycle.response_complete:
                self.transport.close()

    return HalfCloseProtocol
