"""A broker outage must not flood the log: repeated messages are held back and counted."""

from __future__ import annotations

import logging

from normreg_common.service_main import RepeatFilter


def record(msg: str, created: float, name: str = "aiokafka") -> logging.LogRecord:
    r = logging.LogRecord(name, logging.ERROR, __file__, 1, msg, None, None)
    r.created = created
    return r


def test_the_same_message_passes_once_per_window_and_then_says_how_many_were_held() -> None:
    f = RepeatFilter(window_s=10)
    passed = [f.filter(record("Unable connect to node %s", t)) for t in (0.0, 0.1, 0.2, 5.0)]
    assert passed == [True, False, False, False]
    later = record("Unable connect to node %s", 10.5)
    assert f.filter(later)
    assert str(later.msg).endswith("(and 3 more like it in the last 10s)")


def test_different_messages_are_not_held_back() -> None:
    f = RepeatFilter(window_s=10)
    assert f.filter(record("a", 0.0))
    assert f.filter(record("b", 0.1))
    assert f.filter(record("a", 0.2, name="other"))


def test_errors_about_different_methods_are_never_held_back_under_one_template() -> None:
    f = RepeatFilter(window_s=10)
    methods = [f"/normreg.v1.RegistryService/M{i}" for i in range(19)]
    passed = []
    for i, method in enumerate(methods):
        r = logging.LogRecord("normreg", logging.ERROR, __file__, 1, "unexpected error in %s", (method,), None)
        r.created = 0.01 * i
        passed.append(f.filter(r))
    assert all(passed)


def test_the_same_error_with_a_different_exception_is_another_message() -> None:
    f = RepeatFilter(window_s=10)

    def failed(exc: Exception, created: float) -> logging.LogRecord:
        r = logging.LogRecord("normreg", logging.ERROR, __file__, 1, "batch failed", None, (type(exc), exc, None))
        r.created = created
        return r

    assert f.filter(failed(ValueError("a"), 0.0))
    assert f.filter(failed(OverflowError("date value out of range"), 0.1))
    assert not f.filter(failed(ValueError("a"), 0.2))
