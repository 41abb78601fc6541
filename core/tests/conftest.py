"""Test configuration for core's tests."""


def pytest_configure(config):
    # Until pytest.ini declares it (the lead owns that file), register the marker
    # here so --strict-markers accepts it.
    config.addinivalue_line(
        "markers",
        "browser: drives Debian's Chromium through Playwright against live_server "
        "(needs scripts/ensure_chromium.sh)",
    )
