"""The shape of a libphonenumber pattern, read from its structure: how far it constrains, how it can begin.

CPython's own regex parser is the one way to read a pattern's structure rather than guess it. The answers let
the engine validate numbers sharing their decisive digits once, and skip prefix handling where none can apply.
"""

from __future__ import annotations

import math

# CPython's own regex parser: the one way to read a pattern's structure rather than guess it.
import re._constants as regex_constants
import re._parser as regex_parser
from collections.abc import Iterable
from dataclasses import dataclass


def constrained_width(pattern: str) -> int | None:
    """The end of the last position where `pattern` asks for more than "any digit", over all paths.

    For digit strings, whether `pattern` matches (fully, or as a prefix) depends only on the
    characters before this width and on the string's length. None for shapes it cannot bound.
    """
    span = _sequence_span(regex_parser.parse(pattern))
    return None if span is None or span.decided == math.inf else int(span.decided)


@dataclass(frozen=True)
class _Span:
    """Of a regex piece: where its last constraining character can end, and its longest width."""

    decided: float
    longest: float


def _sequence_span(items: Iterable[tuple[object, object]]) -> _Span | None:
    decided, offset = 0.0, 0.0
    for opcode, argument in items:
        span = _item_span(opcode, argument)
        if span is None:
            return None
        if span.decided:
            decided = max(decided, offset + span.decided)
        offset += span.longest
    return _Span(decided=decided, longest=offset)


def _item_span(opcode: object, argument: object) -> _Span | None:  # noqa: PLR0911 - one return per opcode
    if opcode in (regex_constants.LITERAL, regex_constants.NOT_LITERAL):
        return _Span(decided=1, longest=1)
    if opcode is regex_constants.IN:
        return _Span(decided=0 if _is_any_digit(argument) else 1, longest=1)
    if opcode is regex_constants.AT:
        return _Span(decided=0, longest=0)
    if opcode is regex_constants.SUBPATTERN:
        return _sequence_span(argument[-1])
    if opcode is regex_constants.BRANCH:
        spans = [_sequence_span(alternative) for alternative in argument[1]]
        if None in spans:
            return None
        return _Span(decided=max(s.decided for s in spans), longest=max(s.longest for s in spans))
    if opcode in (regex_constants.MAX_REPEAT, regex_constants.MIN_REPEAT):
        low, high, body = argument
        inner = _sequence_span(body)
        if inner is None:
            return None
        longest = math.inf if high is regex_constants.MAXREPEAT else high * inner.longest
        if not inner.decided:
            return _Span(decided=0, longest=longest)
        return _Span(decided=(longest - inner.longest) + inner.decided, longest=longest)
    return None


def _is_any_digit(character_set: object) -> bool:
    return character_set in (
        [(regex_constants.CATEGORY, regex_constants.CATEGORY_DIGIT)],
        [(regex_constants.RANGE, (ord("0"), ord("9")))],
    )


def first_characters(pattern: str) -> frozenset[str] | None:
    """The characters a match of `pattern` can begin with; None if it can match the empty string."""
    heads = match_heads(pattern, 1)
    return None if heads is None or "" in heads else heads


def _set_members(character_set: object) -> frozenset[str] | None:
    """The digits a character class admits (our strings hold digits only), or None if it negates."""
    members: set[str] = set()
    for kind, value in character_set:
        if kind is regex_constants.LITERAL:
            members.add(chr(value))
        elif kind is regex_constants.RANGE:
            members.update(chr(code) for code in range(value[0], value[1] + 1))
        elif (kind, value) == (regex_constants.CATEGORY, regex_constants.CATEGORY_DIGIT):
            members.update("0123456789")
        else:
            return None
    return frozenset(members)


def match_heads(pattern: str, width: int) -> frozenset[str] | None:
    """The first `width` characters of every match of `pattern`, or all of it where a match is shorter.

    A superset where the structure allows no exact answer (a repeat's heads are taken as if it could
    always be completed); None for shapes it cannot read.
    """
    return _sequence_heads(regex_parser.parse(pattern), width)


def _sequence_heads(items: Iterable[tuple[object, object]], width: int) -> frozenset[str] | None:
    heads = {""}
    for opcode, argument in items:
        grown: set[str] = set()
        for head in heads:
            tails = {""} if len(head) == width else _item_heads(opcode, argument, width - len(head))
            if tails is None:
                return None
            grown |= {head + tail for tail in tails}
        heads = grown
    return frozenset(heads)


def _item_heads(opcode: object, argument: object, width: int) -> frozenset[str] | None:  # noqa: PLR0911
    if opcode is regex_constants.LITERAL:
        return frozenset(chr(argument))
    if opcode is regex_constants.IN:
        return _set_members(argument)
    if opcode is regex_constants.AT:
        return frozenset({""})
    if opcode is regex_constants.SUBPATTERN:
        return _sequence_heads(argument[-1], width)
    if opcode is regex_constants.BRANCH:
        alternatives = [_sequence_heads(alternative, width) for alternative in argument[1]]
        return None if None in alternatives else frozenset().union(*alternatives)
    if opcode in (regex_constants.MAX_REPEAT, regex_constants.MIN_REPEAT):
        low, high, body = argument
        once = _sequence_heads(body, width)
        if once is None:
            return None
        heads, repeated = set(), {""}
        # After `low + width` repeats, every head that can still grow has reached `width`.
        for count in range(min(high, low + width) + 1):
            heads |= {head for head in repeated if count >= low or len(head) == width}
            repeated = {(head + tail)[:width] for head in repeated for tail in once}
        return frozenset(heads)
    return None


def group_can_be_empty(pattern: str, group: int) -> bool:
    """Whether group `group` of `pattern` can match the empty string (True also if there is no such group)."""
    found = _group_body(regex_parser.parse(pattern), group)
    return found is None or found.getwidth()[0] == 0


def _group_body(items: Iterable[tuple[object, object]], group: int) -> regex_parser.SubPattern | None:
    """The parsed body of group `group`, searched through every nesting."""
    for opcode, argument in items:
        bodies = []
        if opcode is regex_constants.SUBPATTERN:
            if argument[0] == group:
                return argument[-1]
            bodies = [argument[-1]]
        elif opcode is regex_constants.BRANCH:
            bodies = argument[1]
        elif opcode in (regex_constants.MAX_REPEAT, regex_constants.MIN_REPEAT):
            bodies = [argument[2]]
        for body in bodies:
            if (found := _group_body(body, group)) is not None:
                return found
    return None
