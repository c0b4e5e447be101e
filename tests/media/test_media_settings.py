"""Media settings from the environment, each read in a fresh process."""

import pytest

from tests.test_settings import PRODUCTION, run_settings, settings_of


@pytest.mark.parametrize("value", ["lots", "-5", "0", "1.5"])
def test_a_size_limit_that_is_not_a_positive_whole_number_stops_start_up(value):
    result = run_settings(
        {**PRODUCTION, "ARCHIVE_MEDIA_MAX_BYTES": value}, "ARCHIVE_MEDIA_MAX_BYTES"
    )
    assert result.returncode != 0
    assert "ARCHIVE_MEDIA_MAX_BYTES" in result.stderr


def test_the_size_limit_is_read_from_the_environment():
    found = settings_of(
        {**PRODUCTION, "ARCHIVE_MEDIA_MAX_BYTES": "1048576"}, "ARCHIVE_MEDIA_MAX_BYTES"
    )
    assert found["ARCHIVE_MEDIA_MAX_BYTES"] == 1048576
