"""Unit tests of the linearizability checker (no server involved).

Hand-made histories, each small enough to reason about, classified correctly; random histories
generated from a simulated linearizable register (so linearizable by construction) accepted,
and the same histories with one read corrupted refused; and the checker's speed on a few
thousand operations per key.
"""

import random
import time

import pytest

from linearizability import (ABSENT, DELETE, GET, INFINITY, NO_SUCH_KEY, OK, PRECONDITION_FAILED,
                             PUT, PUT_IF_MATCH, PUT_IF_NONE_MATCH, UNKNOWN, Operation, check)


def op(kind, invoke, complete, output=OK, value=ABSENT, expected=ABSENT, key="k", client=None):
    if output is UNKNOWN:
        complete = INFINITY
    return Operation(key=key, kind=kind, output=output, invoke=invoke, complete=complete,
                     value=value, expected=expected, client=client)


def put(value, invoke, complete, output=OK, **kw):
    return op(PUT, invoke, complete, output, value=value, **kw)


def get(read, invoke, complete, **kw):
    return op(GET, invoke, complete, read, **kw)


def delete(invoke, complete, output=OK, **kw):
    return op(DELETE, invoke, complete, output, **kw)


def put_if_none_match(value, invoke, complete, output=OK, **kw):
    return op(PUT_IF_NONE_MATCH, invoke, complete, output, value=value, **kw)


def put_if_match(expected, value, invoke, complete, output=OK, **kw):
    return op(PUT_IF_MATCH, invoke, complete, output, value=value, expected=expected, **kw)


def assert_linearizable(history):
    result = check(history)
    assert result.linearizable is True, result.explain()
    return result


def assert_not_linearizable(history, key="k"):
    result = check(history)
    assert result.linearizable is False, "accepted a history that is not linearizable"
    explanation = result.explain()
    assert ("key %r" % key) in explanation
    return explanation


# ----------------------------------------------------------------------------------------
# hand-made histories
# ----------------------------------------------------------------------------------------

LINEARIZABLE = {
    "empty key reads absent": [get(ABSENT, 0, 1)],
    "sequential put, get, delete, get": [
        put("a", 0, 1), get("a", 2, 3), delete(4, 5), get(ABSENT, 6, 7)],
    "read concurrent with a write sees the old value": [
        put("a", 0, 1), put("b", 2, 5), get("a", 3, 4)],
    "read concurrent with a write sees the new value": [
        put("a", 0, 1), put("b", 2, 5), get("b", 3, 4)],
    "reads overlapping a write: new then old is fine when each overlaps the write": [
        put("a", 0, 1), put("b", 2, 10), get("b", 3, 4), get("b", 5, 6), get("b", 7, 8)],
    "concurrent writes, last by commit order wins": [
        put("a", 0, 5), put("b", 1, 6), get("a", 7, 8), get("a", 9, 10)],
    "touching intervals count as concurrent": [
        put("a", 0, 1), put("b", 2, 3), get("a", 3, 4)],
    "if-none-match on an absent key wins, the second loses": [
        put_if_none_match("a", 0, 1), put_if_none_match("b", 2, 3, PRECONDITION_FAILED),
        get("a", 4, 5)],
    "two if-none-match winners with a delete between them": [
        put_if_none_match("a", 0, 3), delete(1, 4), put_if_none_match("b", 2, 5), get("b", 6, 7)],
    "if-match on the current value succeeds": [
        put("a", 0, 1), put_if_match("a", "b", 2, 3), get("b", 4, 5)],
    "if-match on a stale value fails with 412": [
        put("a", 0, 1), put("b", 2, 3), put_if_match("a", "c", 4, 5, PRECONDITION_FAILED),
        get("b", 6, 7)],
    "if-match on an absent key fails with 404": [
        put_if_match("a", "b", 0, 1, NO_SUCH_KEY), get(ABSENT, 2, 3)],
    "indeterminate write that took effect": [
        put("a", 0, 1), put("b", 2, 3, UNKNOWN), get("b", 10, 11), get("b", 12, 13)],
    "indeterminate write that did not take effect": [
        put("a", 0, 1), put("b", 2, 3, UNKNOWN), get("a", 10, 11), get("a", 12, 13)],
    "indeterminate write that took effect late": [
        put("a", 0, 1), put("b", 2, 3, UNKNOWN), get("a", 10, 11), get("b", 12, 13)],
    "indeterminate delete explains an absent read": [
        put("a", 0, 1), delete(2, 3, UNKNOWN), get(ABSENT, 4, 5)],
    "indeterminate write explains a failed if-none-match": [
        put("b", 0, 1, UNKNOWN), put_if_none_match("c", 2, 3, PRECONDITION_FAILED),
        get("b", 4, 5)],
    "indeterminate conditional write may have lost its condition": [
        put("a", 0, 1), put("b", 2, 3), put_if_match("a", "c", 4, 5, UNKNOWN), get("b", 6, 7)],
    "indeterminate read says nothing": [
        put("a", 0, 1), op(GET, 2, 3, UNKNOWN), get("a", 4, 5)],
    "writes on other keys do not interfere": [
        put("a", 0, 1, key="x"), put("b", 0, 1, key="y"), get("a", 2, 3, key="x"),
        get("b", 2, 3, key="y")],
}

NOT_LINEARIZABLE = {
    "stale read after a completed write": [
        put("a", 0, 1), put("b", 2, 3), get("a", 4, 5)],
    "read goes back in time (new value, then the old one)": [
        put("a", 0, 1), put("b", 2, 10), get("b", 3, 4), get("a", 5, 6)],
    "lost write (acknowledged, never read)": [
        put("a", 0, 1), get(ABSENT, 2, 3)],
    "lost conditional write (if-none-match acknowledged, then absent)": [
        put_if_none_match("a", 0, 1), get(ABSENT, 2, 3)],
    "lost conditional write (if-match acknowledged, then the old value)": [
        put("a", 0, 1), put_if_match("a", "b", 2, 3), get("a", 4, 5)],
    "two winners of if-none-match": [
        put_if_none_match("a", 0, 3), put_if_none_match("b", 1, 4), get("b", 5, 6)],
    "two concurrent winners of if-none-match, nothing read": [
        put_if_none_match("a", 0, 3), put_if_none_match("b", 1, 4)],
    "two winners of if-match on the same value": [
        put("a", 0, 1), put_if_match("a", "b", 2, 5), put_if_match("a", "c", 3, 6)],
    "if-none-match refused on an absent key": [
        put_if_none_match("a", 0, 1, PRECONDITION_FAILED)],
    "if-match answered 404 on an existing key": [
        put("a", 0, 1), put_if_match("a", "b", 2, 3, NO_SUCH_KEY)],
    "if-match answered 412 although the value matched": [
        put("a", 0, 1), put_if_match("a", "b", 2, 3, PRECONDITION_FAILED)],
    "read of a value never written": [
        put("a", 0, 1), get("z", 2, 3)],
    "read of a value before its write began": [
        get("a", 0, 1), put("a", 2, 3)],
    "delete not seen": [
        put("a", 0, 1), delete(2, 3), get("a", 4, 5)],
    "indeterminate write cannot take effect twice": [
        put("a", 0, 1), put("b", 2, 3, UNKNOWN), get("b", 4, 5), put("c", 6, 7), get("b", 8, 9)],
    "indeterminate write cannot be undone": [
        put("a", 0, 1), put("b", 2, 3, UNKNOWN), get("b", 4, 5), get("a", 6, 7)],
    "indeterminate write cannot take effect before it was invoked": [
        put("a", 0, 1), get("b", 2, 3), put("b", 4, 5, UNKNOWN)],
    "anomaly on one key among clean ones": [
        put("a", 0, 1, key="x"), get("a", 2, 3, key="x"),
        put("a", 0, 1), put("b", 2, 3), get("a", 4, 5)],
}


@pytest.mark.parametrize("name", sorted(LINEARIZABLE))
def test_linearizable_history_is_accepted(name):
    assert_linearizable(LINEARIZABLE[name])


@pytest.mark.parametrize("name", sorted(NOT_LINEARIZABLE))
def test_non_linearizable_history_is_refused(name):
    assert_not_linearizable(NOT_LINEARIZABLE[name])


def test_explanation_names_the_key_and_the_ops_that_cannot_be_ordered():
    history = [put("a", 0, 1, client=1), put("b", 2, 3, client=2), get("a", 4, 5, client=3),
               put("c", 4.5, 6, client=4)]
    explanation = assert_not_linearizable(history)
    print(explanation)
    lines = explanation.splitlines()
    assert lines[0] == "key 'k': NOT linearizable."
    blocked = [line for line in lines if line.startswith("  ! ")]
    assert blocked == ["  ! client 3: get -> 'a'  [4.000000, 5.000000]"]
    assert any("client 4: put 'c' -> ok" in line for line in lines), explanation
    assert "holding 'b'" in explanation
    # The unrelated, already-ordered first write is not listed as a suspect.
    assert not any("client 1" in line for line in lines[lines.index(blocked[0]):])


def test_clean_keys_are_not_explained():
    history = NOT_LINEARIZABLE["anomaly on one key among clean ones"]
    result = check(history)
    assert result.keys["x"].linearizable is True
    assert result.keys["k"].linearizable is False
    assert "'x'" not in result.explain()


def test_operation_validation():
    with pytest.raises(ValueError):
        Operation(key="k", kind="append", output=OK, invoke=0, complete=1)
    with pytest.raises(ValueError):
        Operation(key="k", kind=PUT, output=UNKNOWN, invoke=0, complete=1, value="a")
    with pytest.raises(ValueError):
        Operation(key="k", kind=PUT, output=OK, invoke=2, complete=1, value="a")


# ----------------------------------------------------------------------------------------
# random histories from a simulated linearizable register
# ----------------------------------------------------------------------------------------

def simulated_history(seed, operations, clients=8, keys=("k",), indeterminate=0.0):
    """A history of `clients` sequential clients over a register that applies every operation
    at a random instant between its invocation and completion: linearizable by construction.

    A fraction `indeterminate` of the writes loses its answer (recorded as UNKNOWN); half of
    those never took effect.
    """
    rng = random.Random(seed)
    planned = []
    for client in range(clients):
        now = rng.uniform(0, 1)
        for _ in range(operations // clients):
            invoke = now
            complete = invoke + rng.expovariate(1.0)
            planned.append((rng.uniform(invoke, complete), invoke, complete, client,
                            rng.choice(keys), rng.random(), rng.random()))
            now = complete + rng.expovariate(4.0)
    planned.sort()
    state = {}
    last_seen = {}
    history = []
    counter = 0
    for point, invoke, complete, client, key, choice, fate in planned:
        current = state.get(key, ABSENT)
        counter += 1
        value = "%s:%d:%d" % (key, client, counter)
        lost = choice > 0.3 and fate < indeterminate
        takes_effect = not lost or fate < indeterminate / 2
        if choice < 0.3:
            history.append(get(current, invoke, complete, key=key, client=client))
            last_seen[client, key] = current
            continue
        if choice < 0.55:
            kind, output, expected = PUT, OK, ABSENT
            new = value
        elif choice < 0.65:
            kind, output, expected = DELETE, OK, ABSENT
            new = ABSENT
        elif choice < 0.8:
            kind, expected = PUT_IF_NONE_MATCH, ABSENT
            output, new = (OK, value) if current is ABSENT else (PRECONDITION_FAILED, current)
        else:
            kind, expected = PUT_IF_MATCH, last_seen.get((client, key), ABSENT)
            if expected is ABSENT:
                expected = "never-written"
            if current is ABSENT:
                output, new = NO_SUCH_KEY, current
            elif current == expected:
                output, new = OK, value
            else:
                output, new = PRECONDITION_FAILED, current
        if takes_effect:
            state[key] = new
            if output == OK:
                last_seen[client, key] = new
        if lost:
            output = UNKNOWN
        history.append(op(kind, invoke, complete, output, value=value, expected=expected,
                          key=key, client=client))
    return history


@pytest.mark.parametrize("seed", range(20))
def test_simulated_register_histories_are_linearizable(seed):
    history = simulated_history(seed, 400, clients=6, keys=("a", "b"), indeterminate=0.05)
    assert_linearizable(history)


@pytest.mark.parametrize("seed", range(20))
def test_corrupted_read_is_caught(seed):
    history = simulated_history(seed, 400, clients=6, keys=("a", "b"), indeterminate=0.05)
    reads = [index for index, o in enumerate(history) if o.kind == GET]
    victim = history[random.Random(seed).choice(reads)]
    history[history.index(victim)] = get("never-written", victim.invoke, victim.complete,
                                         key=victim.key, client=victim.client)
    assert_not_linearizable(history, key=victim.key)


@pytest.mark.parametrize("clients, indeterminate", [(8, 0.0), (8, 0.01), (16, 0.0)])
def test_a_few_thousand_operations_per_key_check_in_seconds(clients, indeterminate):
    history = simulated_history(7, 3000, clients=clients, keys=("k",), indeterminate=indeterminate)
    started = time.monotonic()
    result = assert_linearizable(history)
    elapsed = time.monotonic() - started
    print("%d operations, %d clients, %d indeterminate: %.2f s, %d configurations"
          % (len(history), clients, sum(o.indeterminate for o in history), elapsed,
             result.keys["k"].visited))
    assert elapsed < 20, result.summary()


def test_budget_bounds_the_search():
    history = simulated_history(3, 3000, clients=8, keys=("k",))
    result = check(history, budget=0.0)
    assert result.linearizable is None
    assert "undecided" in result.explain()


def test_a_few_thousand_operations_with_an_anomaly_are_refuted_in_seconds():
    history = simulated_history(7, 3000, clients=8, keys=("k",))
    reads = [index for index, o in enumerate(history) if o.kind == GET]
    victim = history[reads[int(len(reads) * 0.9)]]
    history[history.index(victim)] = get("never-written", victim.invoke, victim.complete,
                                         key="k", client=victim.client)
    started = time.monotonic()
    result = check(history)
    elapsed = time.monotonic() - started
    print("refuted %d operations in %.2f s, %d configurations"
          % (len(history), elapsed, result.keys["k"].visited))
    assert result.linearizable is False
    assert "'never-written'" in result.explain()
    assert elapsed < 20
