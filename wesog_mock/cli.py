"""`wesog-mock serve`: the fake on a port, configured by flags or WESOG_MOCK_* variables.

The environment is read here, once, and nowhere else: the flags and variables become one
frozen MockConfig handed to create_app().
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import sys
from collections.abc import Callable, Mapping, Sequence
from importlib import metadata
from types import FrameType
from typing import TYPE_CHECKING, Any

from wesog_mock.domain.config import ENV_PREFIX, ConfigError, MockConfig, settings

if TYPE_CHECKING:  # imported when serving only: `--help` stays fast
    import uvicorn
    from starlette.types import ASGIApp, Receive, Scope, Send

    from wesog_mock.controls.controller import Controller

__all__ = ["build_config", "main", "parser"]

_DESCRIPTION = """\
Serve a fake Wesog Search image API from memory: every endpoint of the contract
(openapi.yaml, also served at /openapi.yaml), operations through a queue, strict mode,
all-or-nothing batches, sync and async calls, and an admin API under /_mock/ to reset,
seed, inspect, move the virtual clock and inject faults.

Every option can also be set by an environment variable, named after it in its help:
--item-ms is WESOG_MOCK_ITEM_MS, --api-key is WESOG_MOCK_API_KEYS (comma-separated), a
switch such as --no-admin is WESOG_MOCK_NO_ADMIN=1. A flag wins over its variable.

A stop (SIGTERM, or Ctrl-C) is prompt and clean: the fake stops accepting connections,
answers every waiting wait=true request at once with the 202 form of a sync timeout (the
operation as it stands: poll it no more, the fake is gone), lets other running requests
finish for up to a second, and exits 0. A second signal stops it without that second. The
state is in memory only: it goes with the process.
"""

_EPILOG = """\
examples:
  wesog-mock serve                                  any non-empty API-Key is a tenant
  wesog-mock serve --port 0                         a free port (the URL is printed)
  wesog-mock serve --api-key k1 --api-key k2        only these keys
  wesog-mock serve --clock virtual --item-ms 100    time moves via POST /_mock/clock/advance
  curl -H 'API-Key: k' -X POST 'http://127.0.0.1:8080/imgs?wait=true' \\
       -H 'Content-Type: application/json' -d '[{"id": "a", "src": "https://x/a.jpg"}]'
"""


def _port(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 65535:
        raise ValueError(f"must be a port from 0 to 65535, not {text!r}")
    return value


def _log_level(text: str) -> str:
    if text not in _LOG_LEVELS:
        raise ValueError(f"must be one of {', '.join(_LOG_LEVELS)}, not {text!r}")
    return text


_LOG_LEVELS = ("critical", "error", "warning", "info", "debug")

# The server's own options, which are not settings of the fake (MockConfig's are generated).
_SERVER_OPTIONS: list[tuple[str, Callable[[str], Any], Any, str, str]] = [
    ("host", str, "127.0.0.1", "HOST", "interface to listen on"),
    ("port", _port, 8080, "PORT", "port to listen on; 0 picks a free one"),
    ("log_level", _log_level, "info", "LEVEL",
     "critical, error, warning, info or debug; info logs each request"),
]


def _argument_type(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    """`parse` for argparse: its ValueError becomes argparse's one-line error."""
    def read(text: str) -> Any:
        try:
            return parse(text)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None
    read.__name__ = getattr(parse, "__name__", "value").lstrip("_")
    return read


def _from_env(root: argparse.ArgumentParser, env: Mapping[str, str], name: str,
              parse: Callable[[str], Any], default: Any) -> Any:
    raw = env.get(name)
    if raw is None:
        return default
    try:
        return parse(raw)
    except ValueError as error:
        root.error(f"{name}={raw!r}: {error}")


def _shown(value: Any) -> str:
    if isinstance(value, tuple):
        return ", ".join(value) or "none"
    return "random" if value is None else str(value)


def parser(environ: Mapping[str, str] | None = None) -> argparse.ArgumentParser:
    """The CLI's parser, with defaults taken from `environ` (WESOG_MOCK_* variables).

    One option per MockConfig field, generated from the field's declaration, plus the
    server's own (host, port, log level)."""
    env = os.environ if environ is None else environ
    root = argparse.ArgumentParser(
        prog="wesog-mock", description="A local fake of the Wesog Search image API.",
        epilog="This command and the pytest plugin come with the base install "
        "(pip install wesog-mock). The conformance suite, wesog-contracts, needs the "
        "contracts extra: pip install 'wesog-mock[contracts]'.",
    )
    root.add_argument("--version", action="version", version=f"wesog-mock {_version()}")
    commands = root.add_subparsers(dest="command", metavar="COMMAND")
    serve = commands.add_parser(
        "serve", help="serve the fake API", description=_DESCRIPTION, epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    server = serve.add_argument_group("the server")
    for dest, parse, default, metavar, text in _SERVER_OPTIONS:
        name = ENV_PREFIX + dest.upper()
        server.add_argument(
            "--" + dest.replace("_", "-"), dest=dest, type=_argument_type(parse),
            default=_from_env(root, env, name, parse, default), metavar=metavar,
            help=f"{text} (default: {default}; {name})",
        )
    fake = serve.add_argument_group("the fake (each also PATCH /_mock/config, but clock and admin)")
    defaults = MockConfig()
    for setting in settings():
        default = getattr(defaults, setting.name)
        shown = setting.default_text or _shown(default)
        if setting.negated or isinstance(default, bool):
            shown = "off"
        help_text = f"{setting.help} (default: {shown}; {setting.env})"
        if setting.negated or isinstance(default, bool):
            value = _from_env(root, env, setting.env, setting.parse, False)
            fake.add_argument(setting.flag, dest=setting.name, action="store_true",
                              default=value, help=help_text)
        elif setting.repeatable:
            value = _from_env(root, env, setting.env, setting.parse, ())
            fake.add_argument(setting.flag, dest=setting.name, action="append",
                              metavar=setting.metavar, help=help_text)
            serve.set_defaults(**{"env_" + setting.name: value})
        else:
            value = _from_env(root, env, setting.env, setting.parse, default)
            fake.add_argument(setting.flag, dest=setting.name, type=_argument_type(setting.parse),
                              default=value, metavar=setting.metavar, help=help_text)
    return root


def build_config(args: argparse.Namespace) -> MockConfig:
    """The MockConfig that the parsed flags describe (raises ConfigError on a bad value)."""
    values: dict[str, Any] = {}
    for setting in settings():
        value = getattr(args, setting.name)
        if setting.repeatable:
            value = tuple(value) if value else getattr(args, "env_" + setting.name)
        elif setting.negated:
            value = not value
        values[setting.name] = value
    return MockConfig(**values)


def _version() -> str:
    try:
        return metadata.version("wesog-mock")
    except metadata.PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown (not installed)"


def _serve(args: argparse.Namespace, config: MockConfig) -> int:
    import uvicorn  # only when serving: `--help` stays fast

    from wesog_mock.http.app import create_app
    from wesog_mock.http.listening import listening_socket
    from wesog_mock.http.protocol import http_protocol

    try:
        sock = listening_socket(args.host, args.port)
    except OSError as error:
        print(f"wesog-mock: cannot listen on {args.host}:{args.port}: {error.strerror}",
              file=sys.stderr)
        return 1
    app = create_app(config)
    controller = app.state.controller
    _tune_collector()
    served = _answer_cut_requests(app, controller)
    # No proxy headers: nothing sits in front of a local fake, and reading them costs time.
    server = _stopping_server(uvicorn.Config(served, log_level=args.log_level, lifespan="off",
                                             proxy_headers=False, http=http_protocol(),
                                             access_log=args.log_level in ("info", "debug"),
                                             timeout_graceful_shutdown=_GRACE_S), controller)
    # Until uvicorn takes the signals over (and after it gives them back), a signal is a stop
    # request too, so none is lost in the instants around startup.
    for stop in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop, server.handle_exit)
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    print(f"wesog-mock: serving the Wesog API at http://{shown}:{port}", flush=True)
    print(f"  contract: http://{shown}:{port}/openapi.yaml", flush=True)
    if config.admin:
        print(f"  admin:    http://{shown}:{port}/_mock/", flush=True)
    for name, value in config.as_dict().items():
        print(f"  {name} = {value!r}", flush=True)
    server.run(sockets=[sock])
    print("wesog-mock: stopped", flush=True)
    return 0


def _tune_collector() -> None:
    """The process is the fake's alone: collect cycles less often, and never walk what startup
    made (the compiled contract, the app), which lives as long as the process.

    The fake keeps what each request made for thousands of requests more (finished operations,
    the journal), so the collector's default (a collection every 700 new objects) walked the
    same live objects over and over: a quarter of a batch request's time. Its answers make
    no reference cycles to speak of, so collecting them less often costs no memory."""
    import gc

    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)


_GRACE_S = 1  # how long a stop waits for requests still running once the waits are answered


def _stopping_server(config: uvicorn.Config, controller: Controller) -> uvicorn.Server:
    """A uvicorn.Server whose stop answers every `wait=true` request at once (202, as on a
    sync timeout) and exits 0: a second signal hurries it, and never makes a traceback."""
    import uvicorn

    class StoppingServer(uvicorn.Server):
        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            # Not uvicorn's: it re-raises the signals it caught once it has stopped (exit by
            # signal, a KeyboardInterrupt traceback), and only a second SIGINT hurries it.
            if self.should_exit:
                self.force_exit = True
            self.should_exit = True

        async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
            for listening in self.servers:  # stop accepting first: no new request may wait
                listening.close()
            controller.stop_waiting()
            # Closes idle connections, lets each running request finish (the waits just
            # answered), and waits for that up to the grace, or not at all when hurried.
            await super().shutdown(sockets)

    return StoppingServer(config)


_CUT = [(b"content-type", b"text/plain; charset=utf-8"), (b"connection", b"close")]


def _answer_cut_requests(app: ASGIApp, controller: Controller) -> ASGIApp:
    """`app`, but a request that a stop cuts short (one still in a latency fault when the
    grace ends) is answered 503 without a traceback, not uvicorn's 500 with one."""
    import asyncio

    async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await app(scope, receive, send)
        except asyncio.CancelledError:
            if not controller.stopping or scope["type"] != "http":
                raise
            # The stop cancelled it: it ends here, quietly; the task is done either way. Whether
            # it has begun its answer is uvicorn's to know: its `send` is a bound method of the
            # request cycle, which says so (as `middleware._drop` reaches the transport). Read
            # there, not by wrapping `send`: a wrapper per request cost every request.
            cycle = getattr(send, "__self__", None)
            if getattr(cycle, "response_started", True) is False:
                await send({"type": "http.response.start", "status": 503, "headers": _CUT})
                await send({"type": "http.response.body", "body": b"wesog-mock is stopping"})

    return guarded


def main(argv: Sequence[str] | None = None) -> int:
    cli = parser()
    args = cli.parse_args(argv)
    if args.command != "serve":
        cli.print_help()
        return 2
    try:
        config = build_config(args)
    except ConfigError as error:
        cli.error(str(error))
    return _serve(args, config)


if __name__ == "__main__":
    sys.exit(main())
