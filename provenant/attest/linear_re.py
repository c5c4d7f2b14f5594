"""Regexps that run in linear time: Python's syntax, matched by a Thompson NFA (no backtracking).

``--certificate-identity-regexp`` and its kin are user input (copied from READMEs and CI files) matched
against certificate values. Python's ``re`` backtracks: ``(a+)+$`` takes exponential time, ``.*.*.*.*x``
polynomial time. This module parses the pattern with Python's own parser (same syntax, same errors),
compiles the tree to NFA instructions and simulates every thread at once (a Pike VM without captures):
time is O(pattern size * value length) whatever the pattern. What an NFA cannot do — back-references,
look-arounds, possessive repetitions, atomic groups, conditional groups — is refused with one line.

Only a yes/no "is the pattern found in the value" is needed (cosign's ``MatchString`` semantics), so
greedy and lazy repetitions are the same and groups capture nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from provenant.errors import UsageError

#: NFA size bound: ``x{1000}{1000}`` would otherwise expand to a million states.
MAX_STATES = 4000

Pred = Callable[[str], bool]


def _k() -> Any:
    from re import _constants  # type: ignore[attr-defined]

    return _constants


def _category(code: Any) -> Pred:
    k = _k()
    table: dict[Any, Pred] = {
        k.CATEGORY_DIGIT: str.isdecimal,
        k.CATEGORY_NOT_DIGIT: lambda c: not c.isdecimal(),
        k.CATEGORY_SPACE: str.isspace,
        k.CATEGORY_NOT_SPACE: lambda c: not c.isspace(),
        k.CATEGORY_WORD: lambda c: c.isalnum() or c == "_",
        k.CATEGORY_NOT_WORD: lambda c: not (c.isalnum() or c == "_"),
    }
    if code not in table:
        raise ValueError(f"character category {code} is not supported")  # pragma: no mutate (unreachable: \d\s\w)
    return table[code]


def _eq(ch: str, ignore_case: bool) -> Pred:
    if ignore_case:
        low = ch.lower()
        return lambda c: c.lower() == low
    return lambda c: c == ch


def _ne(ch: str, ignore_case: bool) -> Pred:
    same = _eq(ch, ignore_case)
    return lambda c: not same(c)


def _range(lo: int, hi: int, ignore_case: bool) -> Pred:
    if ignore_case:
        return lambda c: any(lo <= ord(x) <= hi for x in (c, c.lower(), c.upper()))
    return lambda c: lo <= ord(c) <= hi


def _set_pred(items: list[tuple[Any, Any]], ignore_case: bool) -> Pred:
    k = _k()
    negate = False  # pragma: no mutate (None is as false)
    tests: list[Pred] = []
    for op, av in items:
        if op is k.NEGATE:
            negate = True
        elif op is k.LITERAL:
            tests.append(_eq(chr(av), ignore_case))
        elif op is k.RANGE:
            tests.append(_range(av[0], av[1], ignore_case))
        elif op is k.CATEGORY:
            tests.append(_category(av))
        else:
            raise ValueError(f"{op} in a set is not supported")  # pragma: no mutate (the parser makes no other)
    if negate:
        return lambda c: not any(t(c) for t in tests)
    return lambda c: any(t(c) for t in tests)


# Instructions: ("char", pred) consumes one character; ("split", a, b); ("jmp", a); ("assert", kind); ("match",)
Inst = tuple[Any, ...]
#: What a split or jump is emitted as before its targets are known (always patched).
_HOLE: Inst = ("hole",)  # pragma: no mutate


@dataclass
class _Compiler:
    ignore_case: bool
    prog: list[Inst]

    def emit(self, inst: Inst) -> int:
        if len(self.prog) >= MAX_STATES:
            raise ValueError(f"the regexp expands to more than {MAX_STATES} states")
        self.prog.append(inst)
        return len(self.prog) - 1

    def patch(self, at: int, inst: Inst) -> None:
        self.prog[at] = inst

    def seq(self, items: Any) -> None:
        for op, av in items:
            self.node(op, av)

    def node(self, op: Any, av: Any) -> None:
        k = _k()
        ic = self.ignore_case
        if op is k.LITERAL:
            self.emit(("char", _eq(chr(av), ic)))
        elif op is k.NOT_LITERAL:
            self.emit(("char", _ne(chr(av), ic)))
        elif op is k.ANY:
            self.emit(("char", lambda c: c != "\n"))
        elif op is k.IN:
            self.emit(("char", _set_pred(av, ic)))
        elif op is k.AT:
            self.emit(("assert", av))
        elif op is k.SUBPATTERN:
            _group, add, remove, body = av
            if add or remove:
                raise ValueError("inline flags inside a group are not supported")
            self.seq(body)
        elif op is k.BRANCH:
            self.branch(av[1])
        elif op in (k.MAX_REPEAT, k.MIN_REPEAT):
            self.repeat(*av)
        else:
            raise ValueError(f"{str(op).lower().replace('_', ' ')} is not supported (it needs backtracking)")

    def branch(self, branches: list[Any]) -> None:
        jumps: list[int] = []
        for i, body in enumerate(branches):
            if i < len(branches) - 1:
                split = self.emit(_HOLE)  # pragma: no mutate (a placeholder, patched below)
                self.seq(body)
                jumps.append(self.emit(_HOLE))  # pragma: no mutate (a placeholder, patched below)
                self.patch(split, ("split", split + 1, len(self.prog)))
            else:
                self.seq(body)
        for j in jumps:
            self.patch(j, ("jmp", len(self.prog)))

    def repeat(self, lo: int, hi: Any, body: Any) -> None:
        k = _k()
        for _ in range(lo):
            self.seq(body)
        if hi is k.MAXREPEAT:
            split = self.emit(_HOLE)  # pragma: no mutate (a placeholder, patched below)
            self.seq(body)
            self.emit(("jmp", split))
            self.patch(split, ("split", split + 1, len(self.prog)))
            return
        ends: list[int] = []
        for _ in range(hi - lo):
            ends.append(self.emit(_HOLE))  # pragma: no mutate (a placeholder, patched below)
            self.seq(body)
        for at in ends:
            self.patch(at, ("split", at + 1, len(self.prog)))


@dataclass(frozen=True)
class LinearPattern:
    """A compiled pattern: :meth:`search` answers in O(states * len(value))."""

    pattern: str
    prog: tuple[Inst, ...]

    def _holds(self, kind: Any, value: str, i: int) -> bool:
        k = _k()
        n = len(value)
        if kind in (k.AT_BEGINNING, k.AT_BEGINNING_STRING):
            return i == 0
        if kind is k.AT_END:
            return i == n or (i == n - 1 and value[i] == "\n")
        if kind is k.AT_END_STRING:
            return i == n

        def word(j: int) -> bool:
            return 0 <= j < n and (value[j].isalnum() or value[j] == "_")

        if kind is k.AT_BOUNDARY:
            return word(i - 1) != word(i)
        if kind is k.AT_NON_BOUNDARY:
            return word(i - 1) == word(i)
        return False  # pragma: no mutate (unreachable: the other kinds need (?m), refused)

    def _add(self, threads: list[int], seen: set[int], pc: int, value: str, i: int) -> bool:
        """Add ``pc`` and what it reaches without consuming; True when a match state is reached."""
        stack = [pc]
        while stack:
            at = stack.pop()
            if at in seen:
                continue
            seen.add(at)
            inst = self.prog[at]
            op = inst[0]
            if op == "match":
                return True
            if op == "jmp":
                stack.append(inst[1])
            elif op == "split":
                stack.extend((inst[2], inst[1]))
            elif op == "assert":
                if self._holds(inst[1], value, i):
                    stack.append(at + 1)
            else:
                threads.append(at)
        return False

    def search(self, value: str) -> bool:
        """Is the pattern found anywhere in ``value`` (``re.search`` semantics, as a yes/no)?"""
        current: list[int] = []
        seen: set[int] = set()
        for i in range(len(value) + 1):
            # a new thread starts at every position: an unanchored search
            if self._add(current, seen, 0, value, i):
                return True
            if i == len(value):
                return False
            nxt: list[int] = []
            nseen: set[int] = set()
            ch = value[i]
            for pc in current:
                if self.prog[pc][1](ch) and self._add(nxt, nseen, pc + 1, value, i + 1):
                    return True
            current, seen = nxt, nseen
        return False


def compile_linear(pattern: str, flag: str) -> LinearPattern:
    """Compile ``pattern`` (Python syntax) for linear-time search; anything else is one UsageError line."""
    try:
        from re import _parser  # type: ignore[attr-defined]

        re.compile(pattern)  # Python's own errors, worded as usual
        parsed = _parser.parse(pattern)
    except (re.error, RecursionError, OverflowError) as exc:
        raise UsageError(f"{flag}: not a valid regexp: {' '.join(str(exc).split())}") from None
    flags = parsed.state.flags
    if flags & (re.MULTILINE | re.VERBOSE | re.DOTALL):
        raise UsageError(f"{flag}: the (?m), (?s) and (?x) flags are not supported")
    comp = _Compiler(bool(flags & re.IGNORECASE), [])
    try:
        comp.seq(parsed)
        comp.emit(("match",))
    except (ValueError, RecursionError) as exc:
        raise UsageError(f"{flag}: {exc}") from None
    return LinearPattern(pattern, tuple(comp.prog))
