def require_file_watch(watching: bool) -> None:
    """Tests of the embedded log's file watch: on Linux (CI) a watch that did not start is a failure,
    never a skip; elsewhere (no inotify) the test does not apply."""
    import sys

    import pytest

    if watching:
        return
    if sys.platform.startswith("linux"):
        pytest.fail("the embedded log's file watch did not start on Linux")
    pytest.skip("no inotify on this platform")
