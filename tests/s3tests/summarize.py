"""Compare one s3-tests run with the committed expectations.

Usage: summarize.py [--partial] OUTCOMES EXPECTED_FAILURES RESULTS

OUTCOMES is the file written by coffer_s3tests_plugin (``<outcome> <test id>`` lines).
EXPECTED_FAILURES lists the tests that are allowed to fail, one test id per line, with a
short reason after ``#``; blank lines and lines starting with ``#`` are ignored. A reason
that starts with ``[may pass]`` marks a test that is allowed either outcome (it passes only
because the server ignores a feature it should refuse), so its passing is not reported.
RESULTS is rewritten with the per-test outcomes of this run, sorted by test id.

Exit status: 0 when every failing test is an expected failure; 1 when some test failed
that is not listed (a regression); 2 when the run itself is unusable (no outcomes).
Tests that pass although they are listed are printed, without failing the run, so that
the list can be trimmed. With --partial (a run narrowed by -k and the like) listed tests
that did not run are not reported.
"""

import sys


def read_outcomes(path):
    outcomes = {}
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            line = line.strip()
            if not line:
                continue
            outcome, test_id = line.split(" ", 1)
            outcomes[test_id] = outcome
    return outcomes


def read_expected(path):
    expected = {}
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            stripped = line.strip()
            if not stripped or stripped.startswith("#"):
                continue
            test_id, _, reason = stripped.partition("#")
            expected[test_id.strip()] = reason.strip()
    return expected


def main(argv):
    args = argv[1:]
    partial = "--partial" in args
    args = [a for a in args if a != "--partial"]
    outcomes_path, expected_path, results_path = args
    outcomes = read_outcomes(outcomes_path)
    expected = read_expected(expected_path)
    if not outcomes:
        print("s3-tests: harness error: no test outcomes were recorded", file=sys.stderr)
        return 2

    with open(results_path, "w", encoding="utf-8") as handle:
        handle.write("# s3-tests outcomes of the last run of tests/s3tests/run.sh "
                     "(outcome, test id), sorted by test id.\n")
        for test_id in sorted(outcomes):
            handle.write("%-7s %s\n" % (outcomes[test_id], test_id))

    failing = sorted(t for t, o in outcomes.items() if o in ("failed", "error"))
    passed = sorted(t for t, o in outcomes.items() if o == "passed")
    skipped = sorted(t for t, o in outcomes.items() if o == "skipped")

    regressions = [t for t in failing if t not in expected]
    fixed = [t for t in passed if t in expected
             and not expected[t].startswith("[may pass]")]
    stale = [] if partial else sorted(t for t in expected if t not in outcomes)
    expected_failing = [t for t in failing if t in expected]
    may_pass = [t for t in passed if t in expected and expected[t].startswith("[may pass]")]

    if fixed:
        print("\ns3-tests: %d test(s) listed in expected-failures.txt now pass "
              "(remove them from the list):" % len(fixed))
        for test_id in fixed:
            print("  PASS   %s    # was: %s" % (test_id, expected[test_id]))
    if stale:
        print("\ns3-tests: %d test(s) listed in expected-failures.txt did not run "
              "(renamed, deselected or skipped?):" % len(stale))
        for test_id in stale:
            print("  ABSENT %s" % test_id)
    if regressions:
        print("\ns3-tests: %d UNEXPECTED failure(s) (not in expected-failures.txt):"
              % len(regressions))
        for test_id in regressions:
            print("  %-6s %s" % (outcomes[test_id].upper(), test_id))

    print("\ns3-tests: %d expected failure(s), %d unexpected, %d newly passing, "
          "%d passing but marked [may pass]"
          % (len(expected_failing), len(regressions), len(fixed), len(may_pass)))
    # Worded so that it is not mistaken for a test runner's pass/fail closing line: the
    # failures here are known gaps, listed with reasons in expected-failures.txt.
    print("s3-tests conformance: %d pass, %d known gaps, %d skipped, %d regressions"
          % (len(passed), len(failing), len(skipped), len(regressions)))
    return 1 if regressions else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
