"""Shorten the widget's own local names, after rjsmin has removed comments and white space.

rjsmin keeps every identifier as written, and the widget is written to be read: ``showPreferences``
and ``closePreferences`` cost every visitor bytes. This pass renames the names the script
declares itself (``const``/``let``/``function`` names and parameters) to the shortest names not
used anywhere in it. It is deliberately conservative, because it tokenises instead of parsing:

- strings, template literals and regular expressions are never touched;
- a name that also appears as a property (``x.name``), an object key or a ternary branch
  (``name:``) or a possible shorthand property (``{name,`` ``,name}``) is left alone everywhere;
- a renamed name is renamed everywhere in the file, so scopes cannot be confused: each new name
  is fresh, used by nothing else.

Two forms it cannot see into are refused or must be avoided in the widget: template literals
with ``${…}`` (refused with an error) and method shorthand in object literals (``{ open() {} }``:
write ``open: () => …``).

The widget's browser tests run against the renamed script, which is what visitors get.
"""

from __future__ import annotations

import itertools
import re
import string

_TOKEN = re.compile(
    r"""(?P<space>\s+)
    |(?P<string>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|`(?:[^`\\]|\\.)*`)
    |(?P<name>[A-Za-z_$][\w$]*)
    |(?P<number>\d[\w.]*)
    |(?P<punct>=>|\?\.|\.\.\.|[^\s\w$])""",
    re.VERBOSE | re.DOTALL,
)
_REGEX = re.compile(r"/(?:[^/\\\[\n]|\\.|\[(?:[^\]\\\n]|\\.)*\])+/[a-z]*")
_REGEX_AFTER = set("(,=:[!&|?{};+-*%<>~^") | {
    "return",
    "typeof",
    "case",
    "do",
    "else",
    "in",
    "of",
    "new",
    "delete",
    "void",
    "throw",
    "=>",
}
RESERVED = frozenset(
    """abstract arguments await boolean break byte case catch char class const continue debugger
    default delete do double else enum eval export extends false final finally float for function
    goto if implements import in instanceof int interface let long native new null of package
    private protected public return short static super switch synchronized this throw throws
    transient true try typeof undefined var void volatile while with yield async get set
    NaN Infinity""".split()  # noqa: SIM905 - a list of words reads better as words
)


def tokens(source: str) -> list[tuple[str, str]]:
    """``(kind, text)`` pairs; kinds: space, string, regex, name, number, punct."""
    out: list[tuple[str, str]] = []
    position, previous = 0, ""
    while position < len(source):
        if source[position] == "/" and (previous in _REGEX_AFTER or previous == ""):
            regex = _REGEX.match(source, position)
            if regex:
                out.append(("regex", regex.group()))
                position, previous = regex.end(), "regex"
                continue
        match = _TOKEN.match(source, position)
        if match is None:
            raise ValueError(f"cannot read the script at character {position}")
        kind = match.lastgroup or "punct"
        out.append((kind, match.group()))
        if kind != "space":
            previous = match.group() if kind in ("punct", "name") else kind
        position = match.end()
    return out


def _declared(code: list[tuple[str, str]]) -> tuple[set[str], set[int]]:
    """Names the script declares (const/let/var/function names, parameters) and where."""
    names: set[str] = set()
    at: set[int] = set()
    for index, (kind, text) in enumerate(code):
        if kind == "name" and text in ("const", "let", "var"):
            depth, expect_name = 0, True
            for offset, (inner_kind, inner) in enumerate(code[index + 1 :], index + 1):
                if inner_kind == "name" and expect_name and depth == 0:
                    if inner in ("in", "of"):
                        break
                    names.add(inner)
                    at.add(offset)
                    expect_name = False
                elif inner in ("(", "[", "{"):
                    depth += 1
                elif inner in (")", "]", "}"):
                    depth -= 1
                    if depth < 0:
                        break
                elif inner == "," and depth == 0:
                    expect_name = True
                elif inner == ";" and depth == 0:
                    break
        elif kind == "name" and text == "function":
            rest = code[index + 1 :]
            if rest and rest[0][0] == "name":
                names.add(rest[0][1])
            start = index + (2 if rest and rest[0][0] == "name" else 1)
            found = _parameters(code, start)
            names |= {code[i][1] for i in found}
            at |= found
        elif text == "=>":
            if index and code[index - 1][0] == "name":
                names.add(code[index - 1][1])
                at.add(index - 1)
            elif index and code[index - 1][1] == ")":
                depth = 0
                for position in range(index - 1, -1, -1):
                    inner_kind, inner = code[position]
                    if inner == ")":
                        depth += 1
                    elif inner == "(":
                        depth -= 1
                        if depth == 0:
                            break
                    elif inner_kind == "name":
                        names.add(inner)
                        at.add(position)
    return names, at


def _parameters(code: list[tuple[str, str]], start: int) -> set[int]:
    """Positions of the parameter names of the list that opens at ``start``."""
    at: set[int] = set()
    if start >= len(code) or code[start][1] != "(":
        return at
    depth = 0
    for position in range(start, len(code)):
        kind, text = code[position]
        if text == "(":
            depth += 1
        elif text == ")":
            depth -= 1
            if depth == 0:
                break
        elif kind == "name":
            at.add(position)
    return at


def _unsafe(code: list[tuple[str, str]], declarations: set[int]) -> set[str]:
    """Names that also serve as properties, keys or possible shorthand properties."""
    unsafe: set[str] = set()
    for index, (kind, text) in enumerate(code):
        if kind != "name" or index in declarations:
            continue
        before = code[index - 1][1] if index else ""
        after = code[index + 1][1] if index + 1 < len(code) else ""
        shorthand = before in ("{", ",") and after in (",", "}")
        if before in (".", "?.") or after == ":" or shorthand:
            unsafe.add(text)
    return unsafe


def _fresh_names(taken: set[str]) -> list[str]:
    first = string.ascii_letters
    rest = string.ascii_letters + string.digits
    fresh = []
    for length in (1, 2):
        for letters in itertools.product(first, *([rest] * (length - 1))):
            name = "".join(letters)
            if name not in taken and name not in RESERVED:
                fresh.append(name)
    return fresh


def shorten(source: str, keep: frozenset[str] = frozenset()) -> str:
    """``source`` with its own local names shortened (``keep``: names never to rename)."""
    code = [t for t in tokens(source) if t[0] != "space"]
    if any(kind == "string" and text.startswith("`") and "${" in text for kind, text in code):
        raise ValueError("template literals with ${…} cannot be shortened: use + instead")
    spaced = tokens(source)
    used = {text for kind, text in code if kind == "name"}
    declared, declarations = _declared(code)
    renamable = declared - _unsafe(code, declarations) - RESERVED - keep
    counts = {name: 0 for name in renamable}
    for kind, text in code:
        if kind == "name" and text in counts:
            counts[text] += 1
    order = sorted((n for n in counts if len(n) > 1), key=lambda n: (-counts[n], n))
    mapping = dict(zip(order, _fresh_names(used), strict=False))
    return "".join(mapping.get(text, text) if kind == "name" else text for kind, text in spaced)
