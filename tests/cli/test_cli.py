"""The `wesog-mock` command: help, configuration from flags and variables, a real server."""

from __future__ import annotations

import argparse
import dataclasses
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from wesog_mock import create_app
from wesog_mock.cli import build_config, main, parser
from wesog_mock.domain.config import MockConfig, Setting, settings
from wesog_mock.http.listening import listening_socket
from wesog_mock.testing import LiveServer


def test_help_explains_every_option(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["serve", "--help"])
    assert exited.value.code == 0
    text = capsys.readouterr().out
    for flag in ("--port", "--api-key", "--clock", "--queue-delay-ms", "--item-ms", "--jitter-ms",
                 "--seed", "--workers", "--sync-timeout-s", "--max-batch", "--max-body-mb",
                 "--guide-defaults", "--no-admin", "--log-level", "--journal-size",
                 "WESOG_MOCK_"):
        assert flag in text
    assert "SIGTERM" in text  # what a stop does


def test_no_command_prints_help_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    out = " ".join(capsys.readouterr().out.split())
    assert "serve" in out
    assert "pip install 'wesog-mock[contracts]'" in out  # the install shape, where it starts


def test_flags_become_one_frozen_config() -> None:
    args = parser({}).parse_args([
        "serve", "--api-key", "k1", "--api-key", "k2", "--clock", "virtual", "--item-ms", "5",
        "--queue-delay-ms", "7", "--workers", "3", "--max-batch", "20", "--max-body-mb", "0.5",
        "--guide-defaults", "--no-admin", "--seed", "9", "--sync-timeout-s", "2",
        "--journal-size", "50",
    ])
    assert build_config(args) == MockConfig(
        api_keys=("k1", "k2"), clock="virtual", item_ms=5.0, queue_delay_ms=7.0, workers=3,
        max_batch=20, max_body_bytes=512 * 1024, guide_defaults=True, admin=False, seed=9,
        sync_timeout_s=2.0, journal_size=50,
    )


def test_environment_variables_set_defaults_and_flags_win() -> None:
    env = {"WESOG_MOCK_ITEM_MS": "12", "WESOG_MOCK_API_KEYS": "a, b", "WESOG_MOCK_NO_ADMIN": "yes",
           "WESOG_MOCK_CLOCK": "virtual"}
    config = build_config(parser(env).parse_args(["serve", "--item-ms", "3"]))
    assert config.item_ms == 3.0
    assert config.api_keys == ("a", "b")
    assert config.admin is False
    assert config.clock == "virtual"


@pytest.mark.parametrize(
    ("argv", "env", "message"),
    [
        (["serve", "--clock", "fake"], {}, "clock"),
        (["serve", "--workers", "0"], {}, "--workers"),
        (["serve", "--item-ms", "-1"], {}, "--item-ms"),
        (["serve", "--port", "70000"], {}, "--port"),
        (["serve"], {"WESOG_MOCK_ITEM_MS": "abc"}, "WESOG_MOCK_ITEM_MS"),
        (["serve"], {"WESOG_MOCK_NO_ADMIN": "maybe"}, "WESOG_MOCK_NO_ADMIN"),
    ],
)
def test_bad_settings_exit_2_with_one_line(
    argv: list[str],
    env: dict[str, str],
    message: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


@contextmanager
def _serving(*options: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """`wesog-mock serve --port 0 --api-key k` in a subprocess, as a user starts it; its URL."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "wesog_mock.cli", "serve", "--port", "0", "--api-key", "k",
         "--log-level", "warning", *options],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    assert process.stdout is not None
    first = process.stdout.readline()  # blocks until the server has bound its port
    found = re.search(r"http://\S+", first)
    assert found, first
    try:
        yield process, found.group(0)
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=10)  # reaps it and closes the pipes


@pytest.fixture
def served() -> Iterator[tuple[subprocess.Popen[str], str]]:
    with _serving() as server:
        yield server


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_serves_requests_and_stops_cleanly(
    served: tuple[subprocess.Popen[str], str], stop: signal.Signals
) -> None:
    process, url = served
    with httpx.Client(base_url=url, headers={"API-Key": "k"}, timeout=10) as client:
        created = client.post("/imgs?wait=true", json=[{"id": "a", "src": "https://x/a.jpg"}])
        assert created.status_code == 200
        assert created.json()["all_good"] is True
        assert client.get("/imgs/a").json()["src"] == "https://x/a.jpg"
        assert client.get("/ops", headers={"API-Key": "other"}).status_code == 401
        assert client.get("/openapi.yaml").text.startswith("openapi: 3.1")
    process.send_signal(stop)
    out, err = process.communicate(timeout=20)
    assert process.returncode == 0
    assert "Traceback" not in err
    assert "stopped" in out


def _in_background(request: Callable[[], httpx.Response]) -> tuple[threading.Thread, list[Any]]:
    """`request` on a thread of its own; the list gets its response (or its error)."""
    answers: list[Any] = []

    def run() -> None:
        try:
            answers.append(request())
        except httpx.HTTPError as error:
            answers.append(error)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, answers


def _until(condition: Callable[[], bool]) -> None:
    """Poll the server's state until `condition` holds (bounded: the server answers in ms)."""
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, "the server never reached the state"


def _waiting_post(url: str) -> Callable[[], httpx.Response]:
    return lambda: httpx.post(url + "/imgs?wait=true", headers={"API-Key": "k"},
                              json=[{"id": "a", "src": "https://x/a.jpg"}], timeout=30)


def _has_an_operation(url: str) -> bool:
    return bool(httpx.get(url + "/ops", headers={"API-Key": "k"}).json())


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_a_stop_answers_every_waiting_request_at_once_and_exits_0(stop: signal.Signals) -> None:
    # A virtual clock that nobody moves: the operation could only ever finish by a sync timeout.
    with _serving("--clock", "virtual", "--item-ms", "100000") as (process, url):
        thread, answers = _in_background(_waiting_post(url))
        _until(lambda: _has_an_operation(url))  # submitted: the request waits on it
        began = time.monotonic()
        process.send_signal(stop)
        out, err = process.communicate(timeout=20)
        took = time.monotonic() - began
        thread.join(timeout=10)
    assert process.returncode == 0
    assert took < 2.0, f"the stop took {took:.2f} s"
    assert "Traceback" not in err
    assert "stopped" in out
    [answer] = answers
    assert isinstance(answer, httpx.Response), answer
    assert answer.status_code == 202  # the answer of a sync timeout (A5)
    assert answer.json()["is_finished"] is False
    assert answer.json()["op_id"] == 1


def test_a_second_signal_hurries_the_stop_and_prints_no_traceback() -> None:
    """Two signals at once: the waiting request still gets its 202; a request the stop cuts
    short (here, one in a latency fault) gets a 503 instead of uvicorn's 500, and no traceback."""
    with _serving("--clock", "virtual", "--item-ms", "100000") as (process, url):
        fault = {"kind": "latency", "latency_ms": 60_000, "path": "/imgs/slow"}
        assert httpx.post(url + "/_mock/faults", json=fault).status_code == 201
        slow, cut = _in_background(lambda: httpx.get(
            url + "/imgs/slow", headers={"API-Key": "k"}, timeout=30))
        waiting, answers = _in_background(_waiting_post(url))
        _until(lambda: _has_an_operation(url)
               and httpx.get(url + "/_mock/faults").json()[0]["fired"] == 1)
        began = time.monotonic()
        process.send_signal(signal.SIGTERM)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=20)
        took = time.monotonic() - began
        slow.join(timeout=10)
        waiting.join(timeout=10)
    assert process.returncode == 0
    assert took < 2.0, f"the stop took {took:.2f} s"
    assert "Traceback" not in err
    assert "stopped" in out
    [answer] = answers
    assert isinstance(answer, httpx.Response), answer
    assert (answer.status_code, answer.json()["is_finished"]) == (202, False)
    [cut_short] = cut
    assert isinstance(cut_short, httpx.Response), cut_short
    assert cut_short.status_code == 503
    assert cut_short.headers["connection"] == "close"


def test_port_in_use_is_one_line_and_exit_1(served: tuple[subprocess.Popen[str], str]) -> None:
    _, url = served
    port = url.rsplit(":", 1)[1]
    done = subprocess.run(
        [sys.executable, "-m", "wesog_mock.cli", "serve", "--port", port],
        capture_output=True, text=True, timeout=30,
    )
    assert done.returncode == 1
    assert "cannot listen" in done.stderr
    assert "Traceback" not in done.stderr


def _sample(setting: Setting) -> tuple[str, Any]:
    """A text for the setting's flag or variable, and the config value it must give."""
    default = getattr(MockConfig(), setting.name)
    if setting.name == "clock":
        return "virtual", "virtual"
    if setting.name == "max_body_bytes":
        return "2", 2 * 1024 * 1024
    if isinstance(default, tuple):
        return "a,b", ("a", "b")
    if isinstance(default, bool):
        return "1", not default
    if default is None or isinstance(default, int):
        return "7", 7
    return "2.5", 2.5


@pytest.mark.parametrize("setting", settings(), ids=lambda s: s.name)
def test_every_setting_has_a_flag_and_a_variable_that_set_it(setting: Setting) -> None:
    text, expected = _sample(setting)
    from_env = build_config(parser({setting.env: text}).parse_args(["serve"]))
    assert getattr(from_env, setting.name) == expected
    if isinstance(expected, bool):
        argv = ["serve", setting.flag]
    elif isinstance(expected, tuple):
        argv = ["serve", *[part for key in expected for part in (setting.flag, key)]]
    else:
        argv = ["serve", setting.flag, text]
    from_flag = build_config(parser({}).parse_args(argv))
    assert getattr(from_flag, setting.name) == expected
    # ...and nothing else changed: one flag, one field.
    assert dataclasses.replace(from_flag, **{setting.name: getattr(MockConfig(), setting.name)}) \
        == MockConfig()


def test_every_field_of_the_config_is_a_setting_with_help() -> None:
    names = [f.name for f in dataclasses.fields(MockConfig)]
    assert [s.name for s in settings()] == names
    text = parser({}).format_help() + next(
        action for action in parser({})._actions
        if isinstance(action, argparse._SubParsersAction)
    ).choices["serve"].format_help()
    for setting in settings():
        assert setting.flag in text
        assert setting.env in text
        assert setting.help[:30] in " ".join(text.split())


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert re.fullmatch(r"wesog-mock \d+\.\d+\.\d+\S*\n", capsys.readouterr().out)


def _median_request_ms(url: str, count: int = 40) -> float:
    """The median wall time of `count` sequential keep-alive requests to `url`."""
    times = []
    with httpx.Client(base_url=url, headers={"API-Key": "k"}, timeout=10) as client:
        client.get("/ops")  # the connection is open before the first measured request
        for _ in range(count):
            started = time.perf_counter()
            assert client.get("/ops").status_code == 200
            times.append((time.perf_counter() - started) * 1000.0)
    return statistics.median(times)


# Nagle's algorithm meeting the client's delayed ACK costs ~40 ms per request; a request to a
# local fake costs about 1 ms. The bound catches the first, not a busy machine's noise.
KEEP_ALIVE_BOUND_MS = 15.0


def test_keep_alive_requests_to_serve_are_not_held_back(
    served: tuple[subprocess.Popen[str], str],
) -> None:
    _, url = served
    assert _median_request_ms(url) < KEEP_ALIVE_BOUND_MS


def test_keep_alive_requests_to_the_live_server_are_not_held_back() -> None:
    with LiveServer(create_app(MockConfig(api_keys=("k",)))) as server:
        assert _median_request_ms(server.url) < KEEP_ALIVE_BOUND_MS


def test_the_listening_socket_names_tcp_so_asyncio_sets_nodelay() -> None:
    with listening_socket("127.0.0.1", 0) as sock:
        assert sock.proto == socket.IPPROTO_TCP


def test_a_drop_fault_closes_the_connection_of_wesog_mock_serve_without_an_answer(
    served: tuple[subprocess.Popen[str], str],
) -> None:
    # What a user of `serve` sees: the server disconnects; no 500, no traceback in its log.
    process, url = served
    with httpx.Client(base_url=url, headers={"API-Key": "k"}, timeout=10) as client:
        rule = client.post("/_mock/faults", json={"kind": "drop", "path": "/ops", "times": 1})
        assert rule.status_code == 201, rule.text
        with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
            client.get("/ops")
        assert client.get("/ops").status_code == 200  # the rule fired once, then is spent
        journal = client.get("/_mock/requests", params={"path": "/ops"}).json()["entries"]
        assert [(e["status"], e["dropped"]) for e in journal] == [(None, True), (200, False)]
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=20)
    assert process.returncode == 0
    assert "Traceback" not in err
    assert "ConnectionDropped" not in err
