"""The contract's account of a client under test: on every outcome, grouped, with the fix."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

SECTION = "*- Wesog contract -*"


def _run(pytester: pytest.Pytester, source: str, *args: str) -> pytest.RunResult:
    pytester.makepyfile(test_user=source)
    return pytester.runpytest("-p", "no:cacheprovider", *args)


def test_a_client_that_forgets_the_key_fails_with_its_own_error_and_the_contracts_word(
    pytester: pytest.Pytester,
) -> None:
    result = _run(pytester, '''
        import httpx

        def test_list(wesog_respx):
            with httpx.Client(base_url="https://api.wesog.com") as http:  # no API-Key
                http.get("/ops").raise_for_status()
    ''')
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "E * httpx.HTTPStatusError: Client error '401 Unauthorized'*",
        SECTION,
        "*broke the Wesog contract in 1 request to the fake at https://api.wesog.com:",
        "*1. GET /ops -> 401",
        "*header.API-Key: The API-Key header is required*",
        "FAILED test_user.py::test_list - httpx.HTTPStatusError*",
    ])


# A client that misspells `title` on 50 images; the README's sample account shows it too.
MISSPELLED_TITLE = '''
        def test_upload(wesog_mock):
            images = [{"id": f"i{n}", "src": "https://x/a.jpg", "titel": "dup"}
                      for n in range(50)]
            with wesog_mock.client() as http:
                http.post("/imgs?wait=true", json=images)
                assert http.get("/imgs/i0").json()["title"] == "dup"
    '''


def test_a_misspelled_field_shows_under_the_failed_assertion_grouped(
    pytester: pytest.Pytester,
) -> None:
    result = _run(pytester, MISSPELLED_TITLE)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "E * AssertionError: assert None == 'dup'",
        SECTION,
        "*1. POST /imgs?wait=true -> 200",
        "*body[[]0..49[]].titel (×50) (warning): The contract knows no field 'titel'; the "
        "server ignores it, so its value is lost (sent 'dup'). Did you mean 'title'?",
    ])
    assert result.stdout.str().count("titel (") == 1  # one line, not fifty


def test_a_test_failed_by_the_plugin_carries_the_account_once(
    pytester: pytest.Pytester,
) -> None:
    result = _run(pytester, '''
        def test_upload(wesog_mock):
            wesog_mock.seed([{"id": "a", "src": "https://x/a.jpg"}])
            with wesog_mock.client() as http:
                http.get("/imgs/a?fields=title,src")
    ''')
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    assert "- Wesog contract -" not in out  # the failure is the account: no second copy
    # Once in the failure (the short summary repeats a failure's message in full under CI=true).
    assert out.split("short test summary info")[0].count("(sent 'title,src')") == 1
    result.stdout.fnmatch_lines([
        "*query.fields[[]0[]]: Input should be 'image_id', 'src', * or 'n_faces' "
        "(sent 'title,src'). Repeat the key for each value: fields=title&fields=src.",
    ])


def test_the_account_is_attached_to_a_failed_set_up_and_to_an_allowed_pass(
    pytester: pytest.Pytester,
) -> None:
    result = _run(pytester, '''
        import pytest

        @pytest.fixture
        def uploaded(wesog_mock):  # the user's fixture makes the requests, and fails
            with wesog_mock.client(api_key=None) as http:
                http.post("/imgs", json=[{"id": "a", "src": "s"}]).raise_for_status()

        def test_after_upload(uploaded):
            pass

        @pytest.mark.wesog(allow_violations=True)
        def test_allowed(wesog_mock):
            with wesog_mock.client() as http:
                assert http.get("/ops?wait=please").status_code == 200

        def test_clean_client_failing_for_its_own_reason(wesog_mock):
            with wesog_mock.client() as http:
                assert http.get("/ops").json() == ["something"]
    ''', "-rA")
    result.assert_outcomes(passed=1, failed=1, errors=1)
    result.stdout.fnmatch_lines([
        "*ERROR at setup of test_after_upload*",
        "*HTTPStatusError*",
        SECTION,
        "*1. POST /imgs -> 401",
    ])
    result.stdout.fnmatch_lines([
        "*= PASSES =*",
        "*_ test_allowed _*",
        SECTION,
        "*sent 1 request the Wesog contract does not allow to the fake at http://wesog.test "
        "(this test allows them):",
        "*query.wait (warning): The contract knows no query parameter 'wait'*(sent 'please')",
    ])
    clean = result.stdout.str().split("test_clean_client_failing_for_its_own_reason")[1]
    assert "Wesog contract" not in clean.split("PASSES")[0]


def test_the_account_crosses_xdist_workers(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user='''
        def test_upload(wesog_mock):
            with wesog_mock.client(api_key=None) as http:
                assert http.get("/ops").status_code == 200
    ''')
    result = pytester.runpytest_subprocess("-n", "2", "-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["E * assert 401 == 200*", SECTION, "*header.API-Key*"])


# What the README's sample accounts come from: a test body for each, in the README's order.
README_SCENARIOS = [
    '''
        import httpx

        def test_client(wesog_respx):
            with httpx.Client(base_url="https://api.wesog.com", headers={"API-Key": "k"}) as http:
                http.post("/imgs?wait=please", json={"id": "a", "src": "https://x/a.jpg"})
    ''',
    MISSPELLED_TITLE,
]


def _readme_accounts() -> list[str]:
    text = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    start = text.index("## Testing your client (the pytest plugin)")
    section = text[start:text.index("\n## ", start + 1)]
    blocks = re.findall(r"```(\w*)\n(.*?)```", section, flags=re.DOTALL)
    return [block for lang, block in blocks if not lang and "The client under test" in block]


@pytest.mark.parametrize("number", range(len(README_SCENARIOS)))
def test_the_readmes_sample_accounts_are_what_the_plugin_prints(
    pytester: pytest.Pytester, number: int
) -> None:
    accounts = _readme_accounts()
    assert len(accounts) == len(README_SCENARIOS)
    result = _run(pytester, README_SCENARIOS[number])
    result.assert_outcomes(failed=1)
    # Compared with runs of spaces as one: pytest indents an `E` line as the code it quotes.
    printed = [" ".join(line.split()) for line in result.stdout.lines]
    for line in accounts[number].splitlines():
        if line.startswith("---"):  # the section's rule is as wide as the terminal
            assert any(re.fullmatch(r"-+ Wesog contract -+", p) for p in printed)
        else:
            assert " ".join(line.split()) in printed, line
