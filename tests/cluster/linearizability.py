"""Per-key linearizability of an object-store history (Porcupine's algorithm, in Python).

A history is a list of `Operation`s recorded by concurrent clients: what each asked (get, put,
delete, conditional put), what it was answered, and when it was invoked and completed on one
monotonic clock. An operation whose outcome the client cannot know (connection reset, timeout
after the request was sent) is *indeterminate*: its output is `UNKNOWN` and its completion time
`INFINITY`, so it may take effect at any moment after its invocation, or never.

Each key is an independent register (P-compositionality: a history is linearizable iff its
restriction to every key is), so keys are checked one by one. For a key, the check is Wing and
Gong's search in the form Lowe made "just in time" and Porcupine implements:

* the calls and returns are sorted by time into a doubly-linked list (a call before a return at
  the same instant, so ties count as concurrent and never create a false anomaly);
* walking the list, a call may be *linearized* (taken out of the list, with its return) when the
  model accepts its output in the current state; reaching a return whose call is still in the
  list means that operation had to take effect before it returned but no order managed it, so
  the search backtracks to the most recent linearization and tries the next call;
* every (set of linearized operations, state) pair is visited at most once (memoisation), which
  bounds the search by the concurrency of the history rather than its length.

The register is modelled non-deterministically as a *set* of possible values (an indeterminate
conditional put may have succeeded or failed), determinised as Porcupine does, so a state in the
memo is a frozenset. Values are whatever the client wrote, compared by equality; `ABSENT` is "no
such key". An ETag names the value it is the MD5 of, so `If-Match: <etag of v>` is recorded with
`expected=v`.

Model (Amazon S3's, which Coffer follows; docs/compatibility.md "Conditional writes"):

* get -> the value read, or ABSENT: legal iff it is the state; the state stays.
* put -> OK: always legal; the state becomes the value.
* delete -> OK: always legal; the state becomes ABSENT.
* put-if-none-match (`If-None-Match: *`) -> OK iff the state is ABSENT (it becomes the
  value), PRECONDITION_FAILED iff not (the state stays).
* put-if-match (`If-Match: <etag of expected>`) -> OK iff the state is `expected` (it becomes
  the value), PRECONDITION_FAILED iff it is another value, NO_SUCH_KEY iff it is ABSENT (the
  state stays for both).
* An indeterminate put, delete or conditional put may have any of its outcomes.

Cost (measured on a 2-core machine, CPython 3, tests/cluster/test_linearizability.py): a
linearizable history of 3000 operations on one key from 8 clients checks in about 0.2-0.5 s,
also with 180 indeterminate operations in it; from 16 clients, 1.4-3.4 s. Refuting a
non-linearizable one must exhaust the search up to the anomaly: 1 s for 3000 operations from 8
clients, 25-45 s from 16 (the machine's other load varies). Indeterminate writes that never
took effect stay open to the end, so refuting a history that has many of them can outgrow any
budget: `check(..., budget=s)` then reports the key as undecided, which the cluster tests count
as a failure.

`check(history)` returns a `CheckResult`; `CheckResult.explain()` names, for every key that is
not linearizable, the operation that could not be ordered and the operations concurrent with it.
"""

import time
from collections import defaultdict
from dataclasses import dataclass, field

INFINITY = float("inf")

ABSENT = None
"""The register's value when the key does not exist (a GET answered 404 NoSuchKey)."""

GET = "get"
PUT = "put"
DELETE = "delete"
PUT_IF_NONE_MATCH = "put-if-none-match"
PUT_IF_MATCH = "put-if-match"
KINDS = (GET, PUT, DELETE, PUT_IF_NONE_MATCH, PUT_IF_MATCH)

OK = "ok"
PRECONDITION_FAILED = "412 PreconditionFailed"
NO_SUCH_KEY = "404 NoSuchKey"
UNKNOWN = "unknown"
"""The output of an indeterminate operation (it may or may not have taken effect)."""


@dataclass(frozen=True)
class Operation:
    """One client operation on one key.

    `value` is what a put writes, or what a get read (`ABSENT` for 404); `expected` is the
    value whose ETag a put-if-match sent; `output` is OK, PRECONDITION_FAILED, NO_SUCH_KEY,
    UNKNOWN, or (for a get) the value read. `invoke` and `complete` are monotonic seconds;
    `complete` is INFINITY for an indeterminate operation. `client` and `note` (for instance
    the node that served it, or the error that made it indeterminate) appear in explanations.
    """

    key: str
    kind: str
    output: object
    invoke: float
    complete: float
    value: object = ABSENT
    expected: object = ABSENT
    client: object = None
    note: str = ""

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError("unknown operation kind %r" % (self.kind,))
        if self.output is UNKNOWN and self.complete != INFINITY:
            raise ValueError("an indeterminate operation completes at INFINITY")
        if self.complete < self.invoke:
            raise ValueError("operation completes before it is invoked: %r" % (self,))

    @property
    def indeterminate(self):
        return self.output is UNKNOWN

    def describe(self):
        """One line: what was asked and answered, by whom, and when."""
        if self.kind == GET:
            action = "get -> %s" % _show(self.output if not self.indeterminate else UNKNOWN)
        elif self.kind == DELETE:
            action = "delete -> %s" % self.output
        elif self.kind == PUT_IF_MATCH:
            action = "put %s if-match %s -> %s" % (_show(self.value), _show(self.expected),
                                                   self.output)
        elif self.kind == PUT_IF_NONE_MATCH:
            action = "put %s if-none-match * -> %s" % (_show(self.value), self.output)
        else:
            action = "put %s -> %s" % (_show(self.value), self.output)
        end = "inf" if self.complete == INFINITY else "%.6f" % self.complete
        who = "" if self.client is None else "client %s: " % (self.client,)
        note = " (%s)" % self.note if self.note else ""
        return "%s%s  [%.6f, %s]%s" % (who, action, self.invoke, end, note)


def _show(value):
    if value is ABSENT:
        return "<absent>"
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    return repr(text if len(text) <= 40 else text[:37] + "...")


def _step(state, operation):
    """The states a register in `state` may be in after `operation`; empty when illegal."""
    output = operation.output
    unknown = output is UNKNOWN
    kind = operation.kind
    if kind == GET:
        return (state,) if unknown or output == state else ()
    if kind == PUT:
        return (operation.value,)
    if kind == DELETE:
        return (ABSENT,)
    if kind == PUT_IF_NONE_MATCH:
        if state is ABSENT:
            return (operation.value,) if unknown or output == OK else ()
        return (state,) if unknown or output == PRECONDITION_FAILED else ()
    # PUT_IF_MATCH
    if state is ABSENT:
        return (state,) if unknown or output == NO_SUCH_KEY else ()
    if state == operation.expected:
        return (operation.value,) if unknown or output == OK else ()
    return (state,) if unknown or output == PRECONDITION_FAILED else ()


_OBSERVERS = (GET, PUT_IF_NONE_MATCH, PUT_IF_MATCH)
"""Kinds that leave the state as it is when they are reads or refused conditions."""


def _step_set(states, operation):
    following = set()
    for state in states:
        following.update(_step(state, operation))
    return frozenset(following)


class _Entry:
    """A call or a return in the search's doubly-linked list."""

    __slots__ = ("index", "is_call", "match", "prev", "next")

    def __init__(self, index, is_call):
        self.index = index
        self.is_call = is_call
        self.match = None
        self.prev = None
        self.next = None


def _lift(call):
    """Take a call and its return out of the list."""
    call.prev.next = call.next
    call.next.prev = call.prev
    ret = call.match
    ret.prev.next = ret.next
    if ret.next is not None:
        ret.next.prev = ret.prev


def _unlift(call):
    """Put back a call and its return taken out by `_lift` (in the reverse order)."""
    ret = call.match
    ret.prev.next = ret
    if ret.next is not None:
        ret.next.prev = ret
    call.prev.next = call
    call.next.prev = call


@dataclass
class KeyResult:
    """The verdict for one key: linearizable (True), not (False), or unknown (None: the time
    budget ran out)."""

    key: str
    linearizable: object
    operations: list
    checked_in: float = 0.0
    visited: int = 0
    explanation: str = ""


@dataclass
class CheckResult:
    """The verdict for a whole history: one `KeyResult` per key."""

    keys: dict = field(default_factory=dict)

    @property
    def linearizable(self):
        """True when every key is linearizable, False when one is not, None when unknown."""
        verdicts = [result.linearizable for result in self.keys.values()]
        if any(verdict is False for verdict in verdicts):
            return False
        if any(verdict is None for verdict in verdicts):
            return None
        return True

    @property
    def anomalies(self):
        """The keys that are not linearizable (or could not be decided in the budget)."""
        return [result for result in self.keys.values() if result.linearizable is not True]

    def explain(self):
        """A minimal explanation of every anomaly (empty when there is none)."""
        return "\n\n".join(result.explanation for result in self.anomalies)

    def summary(self):
        """One line per key: operations, indeterminate ones, verdict, time."""
        lines = []
        for key, result in sorted(self.keys.items()):
            indeterminate = sum(1 for op in result.operations if op.indeterminate)
            verdict = {True: "linearizable", False: "NOT linearizable",
                       None: "undecided (time budget)"}[result.linearizable]
            lines.append("key %r: %d operations (%d indeterminate): %s, %d configurations in "
                         "%.3f s" % (key, len(result.operations), indeterminate, verdict,
                                     result.visited, result.checked_in))
        return "\n".join(lines)


def check(history, budget=None):
    """Check a history (any iterable of `Operation`) key by key.

    `budget` bounds the search of each key in seconds (None: unbounded); a key whose search
    runs out of it is reported as undecided.
    """
    by_key = defaultdict(list)
    for operation in history:
        by_key[operation.key].append(operation)
    result = CheckResult()
    for key in sorted(by_key, key=repr):
        result.keys[key] = check_key(key, by_key[key], budget)
    return result


def check_key(key, operations, budget=None):
    """Check the operations of one key (see the module documentation)."""
    started = time.monotonic()
    # A read whose answer never arrived says nothing.
    operations = [op for op in operations if not (op.kind == GET and op.indeterminate)]
    result = KeyResult(key=key, linearizable=True, operations=operations)
    if not operations:
        return result

    entries = []
    for index, operation in enumerate(operations):
        call = _Entry(index, True)
        ret = _Entry(index, False)
        call.match = ret
        ret.match = call
        entries.append((operation.invoke, 0, index, call))
        entries.append((operation.complete, 1, index, ret))
    entries.sort(key=lambda item: item[:3])
    head = _Entry(-1, False)
    previous = head
    for _, _, _, entry in entries:
        previous.next = entry
        entry.prev = previous
        previous = entry

    state = frozenset((ABSENT,))
    linearized = 0
    stack = []  # (call entry, state before it, whether its alternatives are skipped)
    memo = set()
    deepest = -1
    blocked = None
    deadline = None if budget is None else started + budget
    steps = 0

    entry = head.next
    while head.next is not None:
        steps += 1
        if deadline is not None and steps % 4096 == 0 and time.monotonic() > deadline:
            result.linearizable = None
            result.explanation = ("key %r: undecided after %.1f s (%d configurations visited); "
                                  "the history is too concurrent for the time budget"
                                  % (key, budget, len(memo)))
            break
        if entry.is_call:
            operation = operations[entry.index]
            following = _step_set(state, operation)
            if not following:
                entry = entry.next
                continue
            marked = linearized | (1 << entry.index)
            # A definite read or refused condition that holds in every possible state changes
            # nothing: taking it now is never worse than later (whatever completes the order
            # with it later completes it with it here), so its alternatives are not searched.
            forced = following == state and operation.kind in _OBSERVERS and \
                not operation.indeterminate
            if (marked, following) not in memo:
                memo.add((marked, following))
                stack.append((entry, state, forced))
                state = following
                linearized = marked
                _lift(entry)
                entry = head.next
                continue
            if not forced:
                entry = entry.next
                continue
            # The forced step was already searched from here and failed: so does this branch.
        elif len(stack) > deepest:
            # This operation had to take effect before it returned, and could not.
            deepest = len(stack)
            blocked = _snapshot(entry, stack, state)
        # Backtrack: undo the latest choice that has alternatives, and try the next call.
        forced = True
        while forced and stack:
            entry, state, forced = stack.pop()
            linearized &= ~(1 << entry.index)
            _unlift(entry)
        if forced:
            result.linearizable = False
            break
        entry = entry.next

    result.visited = len(memo)
    result.checked_in = time.monotonic() - started
    if result.linearizable is False:
        result.explanation = _explain(key, operations, blocked)
    return result


def _snapshot(blocking_return, stack, state):
    """What the search knew at its deepest point: the operation that could not be linearized,
    and the linearized prefix (operations with the state before each) that led there."""
    return {
        "blocked": blocking_return.index,
        "prefix": [(call.index, before) for call, before, _ in stack],
        "state": state,
    }


def _explain(key, operations, blocked, shown=12):
    """The operation the search could not order, the state the operations entirely before it
    leave, and the operations concurrent with it (whose order could not explain it)."""
    lines = ["key %r: NOT linearizable." % (key,)]
    if blocked is None:
        return lines[0]
    culprit = operations[blocked["blocked"]]
    prefix = blocked["prefix"]
    # The linearized operations that completed before the culprit was invoked, and the states
    # they leave; everything after them overlaps the culprit.
    cut = len(prefix)
    for position, (index, _) in enumerate(prefix):
        if operations[index].complete >= culprit.invoke:
            cut = position
            break
    states = prefix[cut][1] if cut < len(prefix) else blocked["state"]
    lines.append("The %d operations completed before it was invoked order as (the last ones):"
                 % cut)
    lines.extend("    %s" % operations[index].describe()
                 for index, _ in prefix[max(0, cut - 3):cut])
    if cut == 0:
        lines.append("    (none)")
    lines.append("which leave the key holding %s. Then this operation must take effect before "
                 "it returns, and cannot:" % " or ".join(sorted(_show(v) for v in states)))
    lines.append("  ! %s" % culprit.describe())
    concurrent = [other for other in operations if other is not culprit
                  and other.invoke <= culprit.complete and other.complete >= culprit.invoke]
    if concurrent:
        lines.append("whatever the order of the %d operations concurrent with it:"
                     % len(concurrent))
        lines.extend("    %s" % other.describe() for other in concurrent[:shown])
        if len(concurrent) > shown:
            lines.append("    ... and %d more" % (len(concurrent) - shown))
    return "\n".join(lines)
