"""`make test` fails a run in which a test skips unless tests/conftest.py lists it with its reason."""

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]
CONFTEST = Path(__file__).with_name("conftest.py")
SKIPPING = "import pytest\n\n\ndef test_skips():\n    pytest.skip('no PostgreSQL')\n"
UNLISTED = "skipped, and not in LISTED_SKIPS of tests/conftest.py: the run fails"


@pytest.mark.parametrize(("listed", "code"), [(False, pytest.ExitCode.TESTS_FAILED), (True, pytest.ExitCode.OK)])
def test_an_unlisted_skip_fails_the_run(pytester, listed, code):
    conftest = CONFTEST.read_text()
    if listed:
        listing = "LISTED_SKIPS = {'test_it.py::test_skips': ''}"
        conftest = conftest.replace("LISTED_SKIPS: dict[str, str] = {}", listing)
    pytester.makeconftest(conftest)
    pytester.makepyfile(test_it=SKIPPING)
    result = pytester.runpytest_subprocess("--fail-on-skip", "-p", "no:cacheprovider")
    assert result.ret == code and (UNLISTED in result.stdout.str()) != listed
    assert ("test_it.py::test_skips" in result.stdout.lines) != listed  # named alone on its line
