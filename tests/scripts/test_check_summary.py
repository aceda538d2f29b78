"""make test's summary names every failed test with the first line of its message."""

from __future__ import annotations

from scripts.check import failed_tests

REPORT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" errors="1" failures="1" tests="3">
<testcase classname="tests.unit.test_a" name="test_ok" time="0.1"/>
<testcase classname="tests.unit.test_a" name="test_bad[sqlite]" time="0.1">
<failure message="AssertionError: assert 'protocolo' in 'Desculpe'&#10;second line">trace</failure></testcase>
<testcase classname="tests.backend.test_b" name="test_setup" time="0.1"><error message="">trace</error></testcase>
</testsuite></testsuites>"""


def test_failed_and_errored_tests_are_listed_by_name(tmp_path):
    report = tmp_path / "unit.xml"
    report.write_text(REPORT)
    assert failed_tests(report) == [
        "tests.unit.test_a::test_bad[sqlite] — AssertionError: assert 'protocolo' in 'Desculpe'",
        "tests.backend.test_b::test_setup — error",
    ]
