"""JUnit XML renderer: one test case per item and rule, for CI dashboards."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from ..model import Report
from .document import display_path, errors_line, unread

_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _clean(text: str) -> str:
    return _INVALID_XML.sub("\ufffd", text)


def render(report: Report) -> str:
    suites = ET.Element("testsuites", name="labelcheck")
    by_policy: dict[str, ET.Element] = {}
    counts: dict[str, dict[str, int]] = {}
    for r in report.results:
        target = _clean(display_path(r.evidence.target))
        cases = [
            (
                f.policy,
                f.rule,
                f.status.value,
                f.level,
                f"{f.waiver.text}. {f.message}" if f.waiver else f.message,
                f.remediation,
            )
            for f in r.findings
        ]
        if unread(r):  # a case of its own, in error
            cases.append(("labelcheck", "read", "error", "error", errors_line(r.evidence), ""))
        for policy, rule, status, level, message, remediation in cases:
            suite = by_policy.get(policy)
            if suite is None:
                suite = by_policy[policy] = ET.SubElement(suites, "testsuite", name=policy)
                counts[policy] = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
            n = counts[policy]
            n["tests"] += 1
            case = ET.SubElement(suite, "testcase", classname=target, name=rule)
            text = _clean(message + (f"\nfix: {remediation}" if remediation else ""))
            if status == "fail" and level != "info":
                n["failures"] += 1
                ET.SubElement(case, "failure", message=_clean(message), type=level).text = text
            elif status == "error":
                n["errors"] += 1
                ET.SubElement(case, "error", message=_clean(message)).text = text
            elif status in ("not_applicable", "manual_review", "waived") or (status == "fail" and level == "info"):
                n["skipped"] += 1
                said = message if status == "waived" else f"{status}: {message}"  # a waiver's text says "waived"
                ET.SubElement(case, "skipped", message=_clean(said))
    if report.streams:
        streams_suite = ET.SubElement(suites, "testsuite", name="streams")
        tally = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        for st in report.streams:
            per_rendition = [(rend.name, list(rend.findings)) for rend in st.renditions]
            for rname, problems in per_rendition or [("playlist", list(st.errors))]:
                tally["tests"] += 1
                tc = ET.SubElement(streams_suite, "testcase", classname=_clean(display_path(st.target)), name=rname)
                if st.status.value == "error" and not st.renditions:
                    tally["errors"] += 1
                    ET.SubElement(tc, "error", message=_clean("; ".join(problems)))
                elif problems:
                    tally["failures"] += 1
                    ET.SubElement(tc, "failure", message=_clean(problems[0])).text = _clean("\n".join(problems))
        for key, value in tally.items():
            streams_suite.set(key, str(value))
    for policy, suite in by_policy.items():
        for key, value in counts[policy].items():
            suite.set(key, str(value))
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"
