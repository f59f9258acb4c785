"""Regular expressions as gobgpd has them, in linear time.

gobgpd compiles the members of AS-path and community sets with Go's ``regexp``
package, whose syntax and engine are RE2's: matching takes time linear in the text,
and what would need backtracking (lookarounds, backreferences) does not exist. Python's
``re`` backtracks: ``^((((([0-9 ]+)+)+)+)+)+!`` on a three-AS path runs for minutes
while holding the GIL. So every pattern a user wrote is compiled and matched here, with
RE2 (the ``google-re2`` binding, which releases the GIL while it matches), never with
``re``; and a pattern is accepted only when gobgpd 3.10 (Go 1.19's regexp) would accept
it too: RE2 in C++ also takes ``\\C`` (any byte) and ``(?<name>...)``, which Go 1.19
refuses, so those are refused here as well.

What gobgpd compiles for a member (internal/pkg/table/policy.go): an AS-path member is
either one of four single-AS forms matched without a regex (``_N_`` anywhere, ``^N_``
left-most, ``_N$`` origin, ``^N$`` only) or a regex with every ``_`` replaced by
``(^|[,{}() ]|$)``; a community member that is a 32-bit number or a well-known name is
that one value, one shaped like ``(\\d+.)*\\d+:\\d+`` is anchored (``^...$``), anything
else is a regex as written; a large-community member containing ``\\d+:\\d+:\\d+`` is
anchored, anything else as written."""

from __future__ import annotations

from functools import lru_cache
from typing import Protocol, cast

import re2  # google-re2

MAX_LENGTH = 256  # characters of one member
MAX_NESTING = 32  # nested groups
MAX_REPEAT = 1000  # a repetition count, as in Go and RE2
MAX_MEMORY = 1 << 20  # bytes RE2 may use for one compiled pattern (its default: 8 MiB)
AS_PATH_DELIMITER = "(^|[,{}() ]|$)"  # gobgpd's ASPATH_REGEXP_MAGIC: what "_" means

WELL_KNOWN_COMMUNITIES = {  # gobgpd's names -> community values
    "graceful-shutdown": 0xFFFF0000,
    "accept-own": 0xFFFF0001,
    "llgr-stale": 0xFFFF0006,
    "no-llgr": 0xFFFF0007,
    "blackhole": 0xFFFF029A,
    "no-export": 0xFFFFFF01,
    "no-advertise": 0xFFFFFF02,
    "no-export-subconfed": 0xFFFFFF03,
    "no-peer": 0xFFFFFF04,
}


class Pattern(Protocol):
    """A compiled pattern: ``search`` finds it anywhere in ``text`` (Go's MatchString)."""

    def search(self, text: str) -> object | None: ...


class NoMatch:
    """What a stored member RE2 cannot compile stands for: gobgpd refuses such a set,
    so it matches nothing there either."""

    def search(self, text: str) -> None:
        return None


def _options() -> object:
    options = re2.Options()
    options.log_errors = False  # the reason is in the exception; nothing on stderr
    options.max_mem = MAX_MEMORY
    options.never_capture = True  # a yes or no is all gobgpd asks: RE2's DFA answers it
    return options


_OPTIONS = _options()
_SINGLE_AS = {
    "left": re2.compile(r"^\^([0-9]+)_$"),
    "origin": re2.compile(r"^_([0-9]+)\$$"),
    "include": re2.compile(r"^_([0-9]+)_$"),
    "only": re2.compile(r"^\^([0-9]+)\$$"),
}
_COMMUNITY_SHAPE = re2.compile(r"^(\d+.)*\d+:\d+$")
_LARGE_COMMUNITY_SHAPE = re2.compile(r"\d+:\d+:\d+")
_HINTS = (
    (("invalid perl operator: (?=", "invalid perl operator: (?!"), "no lookahead in RE2"),
    (("invalid perl operator: (?<=", "invalid perl operator: (?<!"), "no lookbehind in RE2"),
    (tuple(f"invalid escape sequence: \\{d}" for d in range(1, 10)), "no backreferences in RE2"),
)


def compile_re2(text: str) -> Pattern:
    """``text`` compiled by RE2 as gobgpd's Go would; ValueError saying why not."""
    _check_go_syntax(text)
    try:
        return cast(Pattern, re2.compile(text, _OPTIONS))
    except re2.error as exc:
        reason = exc.args[0].decode(errors="replace") if exc.args else "invalid"
        hint = next((h for starts, h in _HINTS if reason.startswith(starts)), None)
        raise ValueError(f"{reason} ({hint})" if hint else reason) from None


def _check_go_syntax(text: str) -> None:
    """What C++ RE2 takes and Go 1.19's regexp does not: ``\\C`` (any byte) and
    ``(?<name>...)`` (Go 1.22 added it), outside character classes and ``\\Q...\\E``."""
    index, in_class = 0, False
    while index < len(text):
        char = text[index]
        if char == "\\":
            following = text[index + 1 : index + 2]
            if following == "C":
                raise ValueError("invalid escape sequence: \\C")
            if following == "Q":  # literal text up to \E
                end = text.find("\\E", index + 2)
                index = len(text) if end < 0 else end + 2
                continue
            index += 2
            continue
        if in_class:
            if text.startswith("[:", index):  # [:alpha:] inside a class
                end = text.find(":]", index + 2)
                index = len(text) if end < 0 else end + 2
                continue
            in_class = char != "]"
        elif char == "[":
            in_class = True
            index += 1
            if text[index : index + 1] == "^":
                index += 1
            if text[index : index + 1] == "]":  # a ] right after [ or [^ is literal
                index += 1
            continue
        elif text.startswith("(?<", index) and text[index + 3 : index + 4] not in ("=", "!"):
            raise ValueError("invalid named capture group: (?< (Go writes (?P<name>...))")
        elif char == "{":
            _check_repeat(text, index)
        index += 1


def _check_repeat(text: str, index: int) -> None:
    """``{n}``, ``{n,}``, ``{n,m}`` at ``index``: counts up to 1000, as in Go (C++ RE2
    takes a count past 2^31 for literal text)."""
    end = text.find("}", index)
    inside = text[index + 1 : end] if end > 0 else ""
    low, _comma, high = inside.partition(",")
    if not _count(low) or not (high == "" or _count(high)):
        return  # not a repetition: literal text
    counts = [int(low)] + ([int(high)] if high else [])
    if any(n > MAX_REPEAT for n in counts):
        raise ValueError(f"invalid repeat count: {{{inside}}} (at most {MAX_REPEAT})")
    if high and int(high) < int(low):
        raise ValueError(f"invalid repeat count: {{{inside}}} (the maximum is below the minimum)")


def _count(text: str) -> bool:
    """A repetition count as Go's parser reads one: digits, no leading zero."""
    return text.isascii() and text.isdigit() and (text == "0" or text[0] != "0")


def _nesting(value: str) -> int:
    depth = deepest = 0
    escaped = False
    for char in value:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "(":
            depth += 1
            deepest = max(deepest, depth)
        elif char == ")":
            depth = max(0, depth - 1)
    return deepest


def check_member(value: str, compiled_text: str) -> str:
    """``value``, a member whose pattern is ``compiled_text`` (what gobgpd compiles),
    if gobgpd accepts it and it is small enough; ValueError naming the reason."""
    if len(value) > MAX_LENGTH:
        raise ValueError(f"regular expression longer than {MAX_LENGTH} characters")
    if _nesting(value) > MAX_NESTING:
        raise ValueError(f"regular expression nests more than {MAX_NESTING} groups")
    try:
        compile_re2(compiled_text)
    except ValueError as exc:
        raise ValueError(
            f"{value!r} is not a regular expression gobgpd accepts (Go's RE2 syntax): {exc}"
        ) from None
    return value


# --- what gobgpd compiles for a member ---------------------------------------------


def single_as(member: str) -> tuple[str, int] | None:
    """gobgpd's single-AS forms of an AS-path member: (mode, ASN), or None."""
    for mode, shape in _SINGLE_AS.items():
        found = shape.search(member)
        if found is not None:  # Go's ParseUint: past 32 bits, the largest 32-bit number
            return mode, min(int(found.group(1)), 0xFFFFFFFF)
    return None


def as_path_text(member: str) -> str:
    return member.replace("_", AS_PATH_DELIMITER)


def community_value(member: str) -> int | None:
    """The one community a member names: a 32-bit number or a well-known name."""
    if member.isascii() and member.isdigit():
        number = int(member)
        return number if number <= 0xFFFFFFFF else None
    return WELL_KNOWN_COMMUNITIES.get(member.lower().replace("_", "-"))


def community_text(member: str) -> str:
    """gobgpd's ParseCommunityRegexp: the pattern a community member stands for."""
    value = community_value(member)
    if value is not None:
        return f"^{value >> 16}:{value & 0xFFFF}$"
    if _COMMUNITY_SHAPE.search(member) is not None:
        return f"^{member}$"
    return member


def large_community_text(member: str) -> str:
    """gobgpd's ParseLargeCommunityRegexp."""
    if _LARGE_COMMUNITY_SHAPE.search(member) is not None:
        return f"^{member}$"
    return member


@lru_cache(maxsize=4096)
def _compiled(text: str) -> Pattern:
    try:
        return compile_re2(text)
    except ValueError:
        return NoMatch()


def as_path_pattern(member: str) -> Pattern:
    return _compiled(as_path_text(member))


def community_pattern(member: str) -> Pattern:
    return _compiled(community_text(member))


def large_community_pattern(member: str) -> Pattern:
    return _compiled(large_community_text(member))
