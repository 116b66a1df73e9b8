"""Compares two runs of CPython's whole test suite, per test case: the patched build's against
the unpatched build's of the same source. Used by ci/regrtest.sh; runs on any Python 3.

    regrtest-compare.py EXPECTED PATCHED.xml PATCHED.log PLAIN.xml PLAIN.log
    regrtest-compare.py EXPECTED PATCHED.xml PATCHED.log --plain-failures LIST
    ... [--rerun RERUN.xml RERUN.log]

The .xml files are regrtest's --junit-xml output, the .log files its stdout (for the test
files that failed without results of their own: a crash, a timeout, an error at import).
EXPECTED lists the patched build's failures by design, one test id per line followed by its
reason. Prints the differences; exits 1 if the patched build fails a test case that the
unpatched build passes and EXPECTED does not list, 2 on unusable input. With PLAIN.xml, writes
the unpatched build's failures to PLAIN-failures.txt; the second form compares with such a
recorded list instead of a run (no check of what ran or was skipped). New failures name their
test files in PATCHED-new-files.txt; --rerun gives the patched build's second run of those
files: a new failure that passed there is reported as flaky, not as a difference.
"""

import re
import sys
import xml.etree.ElementTree as ET


def case_id(name):
    """A subtest's failure is reported as "test.mod.Class.test_x (param=...)": its test."""
    return name.split(" (", 1)[0]


def read_xml(path):
    """{test id: "passed" | "failed" | "skipped"}; a test with any failing subtest failed."""
    results = {}
    root = ET.parse(path).getroot()
    for case in root.iter("testcase"):
        cid = case_id(case.get("name", ""))
        if case.find("failure") is not None or case.find("error") is not None:
            outcome = "failed"
        elif case.find("skipped") is not None:
            outcome = "skipped"
        else:
            outcome = "passed"
        if results.get(cid) != "failed":
            results[cid] = outcome
    return results


MIN_CASES = int(__import__("os").environ.get("REGRTEST_MIN_CASES", "1000"))
SUMMARY = re.compile(r"^(\d+) (?:tests?|test files?) (.*):$")


FAILED_LINE = re.compile(r"^(?:FAIL|ERROR): \S+ \(([^)\s]+)\)")


def read_failed_lines(path):
    """The ids of the "FAIL: test_x (test.mod.Class.test_x)" lines that -W prints for the
    output of failed tests: the junit XML has no id for a test whose subtests failed."""
    with open(path, encoding="utf-8", errors="replace") as f:
        return {m.group(1) for m in map(FAILED_LINE.match, f) if m}


def read_log(path):
    """{summary heading: [test file, ...]} of regrtest's final summary ("2 tests failed:",
    "1 test altered the execution environment ...:", "3 tests skipped:" ...)."""
    blocks = {}
    current = None
    with open(path, encoding="utf-8", errors="replace") as f:
        lines = f.read().splitlines()
    # Only the final summary: the last "== Tests result" line.
    start = max((i for i, line in enumerate(lines) if line.startswith("== Tests result")), default=None)
    if start is None:
        sys.exit("error: %s: no '== Tests result' summary; did the run finish?" % path)
    for line in lines[start:]:
        m = SUMMARY.match(line)
        if m:
            current = blocks.setdefault(m.group(2), [])
        elif line.startswith("    ") and current is not None:
            current.extend(line.split())
        elif not line.strip():
            continue
        else:
            current = None
    return blocks


def failed_files(blocks):
    return sorted({name for heading, names in blocks.items() if heading.startswith("failed") or "crashed" in heading or "timed out" in heading for name in names})


def env_changed(blocks):
    return sorted({name for heading, names in blocks.items() if "altered the execution environment" in heading for name in names})


def failures(results, blocks, log):
    """Failed test ids, plus "FILE (whole file)" for a failed test file with no failed case
    of its own (a crash, a timeout, an import error)."""
    failed = {cid for cid, outcome in results.items() if outcome == "failed"}
    failed |= read_failed_lines(log)
    for name in failed_files(blocks):
        # 3.11 names test files "test_x", 3.13 names a test package's files "test.test_x.test_y".
        prefix = (name if name.startswith("test.") else "test." + name) + "."
        if not any(cid.startswith(prefix) or ("(%s" % prefix[:-1]) in cid for cid in failed):
            failed.add("%s (whole file)" % name)
    return failed


def read_list(path):
    with open(path, encoding="utf-8") as f:
        return {line.strip() for line in f if line.strip() and not line.startswith("#")}


def read_expected(path):
    expected = {}
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            cid, _, reason = line.partition(" ")
            if not reason.strip():
                sys.exit("error: %s:%d: %s has no reason" % (path, number, cid))
            expected[cid] = reason.strip()
    return expected


def test_file(cid):
    """The regrtest name that runs a test id: test_x for test.test_x.Class.test_y (a whole
    test package for test.test_pkg.test_mod...), as given for a whole-file failure."""
    name = cid.split(" (whole file)")[0]
    parts = name.split(".")
    return parts[1] if parts[0] == "test" and len(parts) > 1 else parts[0]


def section(title, items):
    print("\n== %s: %d" % (title, len(items)))
    for item in items:
        print("  " + item)


def main(argv):
    rerun = None
    if len(argv) == 9 and argv[6] == "--rerun":
        rerun = (argv[7], argv[8])
        argv = argv[:6]
    if len(argv) != 6:
        sys.exit(__doc__)
    expected = read_expected(argv[1])
    patched = read_xml(argv[2])
    patched.pop("", None)
    patched_blocks = read_log(argv[3])
    patched_failed = failures(patched, patched_blocks, argv[3])
    if argv[4] == "--plain-failures":
        plain, plain_blocks = {}, {}
        plain_failed = read_list(argv[5])
        print("unpatched build: its failures as recorded in %s" % argv[5])
    else:
        plain = read_xml(argv[4])
        plain.pop("", None)
        plain_blocks = read_log(argv[5])
        plain_failed = failures(plain, plain_blocks, argv[5])
        record = argv[4][: -len(".xml")] + "-failures.txt"
        with open(record, "w", encoding="utf-8") as f:
            f.write("# The unpatched build's failures (ci/regrtest-compare.py, from %s)\n" % argv[4])
            f.writelines(cid + "\n" for cid in sorted(plain_failed))
    if len(patched) < MIN_CASES or (plain and len(plain) < MIN_CASES):
        print("error: too few test cases in the results (%d patched, %d unpatched)" % (len(patched), len(plain)))
        return 2

    new = sorted(f for f in patched_failed - plain_failed if f not in expected)
    by_design = sorted(f for f in patched_failed - plain_failed if f in expected)
    flaky = []
    if rerun is not None:
        again = read_xml(rerun[0])
        again_failed = failures(again, read_log(rerun[1]), rerun[1])
        flaky = [f for f in new if again.get(f) == "passed" and f not in again_failed]
        new = [f for f in new if f not in flaky]
    new_files = sorted({test_file(f) for f in new})
    with open(argv[2][: -len(".xml")] + "-new-files.txt", "w", encoding="utf-8") as f:
        f.writelines(name + "\n" for name in new_files)
    stale = sorted(f for f in expected if f not in patched_failed - plain_failed)
    both = sorted(patched_failed & plain_failed)
    plain_only = sorted(plain_failed - patched_failed)
    skipped_only = sorted(c for c, o in patched.items() if o == "skipped" and plain.get(c) == "passed")
    missing = sorted(c for c, o in plain.items() if c not in patched and c not in plain_failed and c not in patched_failed)

    print("test cases: %d patched (%d failed), %s unpatched (%d failed)" % (len(patched), len(patched_failed), len(plain) or "recorded", len(plain_failed)))
    section("NEW failures: fail patched, pass unpatched, not in %s" % argv[1], new)
    if rerun is not None:
        section("flaky: failed patched, passed when its file ran again", flaky)
    section("by design (listed, fail patched only)", ["%s  -- %s" % (f, expected[f]) for f in by_design])
    section("listed by design but not failing patched-only now (stale entries?)", stale)
    section("environment: fail in both builds", both)
    section("environment: fail unpatched only", plain_only)
    section("env changed (patched)", env_changed(patched_blocks))
    section("env changed (unpatched)", env_changed(plain_blocks))
    section("skipped patched, passed unpatched", skipped_only)
    section("ran unpatched, absent patched", missing)
    if new or missing:
        print("\nFAILED: %d undocumented differences" % (len(new) + len(missing)))
        return 1
    print("\nOK: every difference is documented")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
