"""Shorten the widget's own local names, after rjsmin has removed comments and white space.

rjsmin keeps every identifier as written, and the widget is written to be read: ``showPreferences``
and ``closePreferences`` cost every visitor bytes. This pass renames the names the script
declares itself (``const``/``let``/``var``/``function`` names, parameters, ``catch`` bindings)
scope by scope, as a minifier's mangler does: each function or block gives its own names the
shortest names that do not clash with the outer names it uses, so small functions all end up
with the same few letters (``e=>e.id``), which is what gzip compresses best. It is deliberately
conservative, because it tokenises instead of parsing:

- strings, template literals and regular expressions are never touched, nor properties
  (``x.name``) and object keys (``{name: …}``);
- a binding used as a shorthand property (``{name}``) keeps its name, and so does any name that
  could be a label or a method shorthand;
- names the script does not declare (globals) are never used as new names.

Forms it cannot see into are refused with an error or must be avoided in the widget: template
literals with ``${…}``, default parameter values, a ``for`` variable that shadows an outer
name (all refused), and method shorthand in object literals (``{ open() {} }``: write
``open: () => …``).

The widget's browser tests run against the renamed script, which is what visitors get.
"""

from __future__ import annotations

import collections
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


_BLOCK_AFTER = {")", "=>", ";", "{", "}", "else", "try", "finally", "do", ""}
_OPEN, _CLOSE = "([{", ")]}"

Code = list[tuple[str, str]]


def _matches(code: Code) -> dict[int, int]:
    """Index of the bracket that closes each opening bracket (and the reverse)."""
    pairs: dict[int, int] = {}
    stack: list[int] = []
    for index, (kind, text) in enumerate(code):
        if kind != "punct":
            continue
        if text in _OPEN:
            stack.append(index)
        elif text in _CLOSE:
            if not stack or _OPEN.index(code[stack[-1]][1]) != _CLOSE.index(text):
                raise ValueError(f"unbalanced {text!r} in the script (token {index})")
            opening = stack.pop()
            pairs[opening], pairs[index] = index, opening
    if stack:
        raise ValueError("unbalanced brackets in the script")
    return pairs


def _roles(code: Code) -> list[str]:
    """What each name token is: ``variable``, ``property``, ``key``, ``shorthand`` or ``unsure``.

    A brace opens an object literal unless it follows what a block follows (``)``, ``=>``,
    ``;``, a brace, ``else``…); in an object literal a name after ``{`` or ``,`` is a key when
    ``:`` follows and a shorthand property when ``,`` or ``}`` follows. Method shorthand and
    labels are ``unsure``.
    """
    roles = [""] * len(code)
    stack: list[str] = []
    for index, (kind, text) in enumerate(code):
        before = code[index - 1][1] if index else ""
        if kind == "punct" and text in "([":
            stack.append(text)
        elif kind == "punct" and text == "{":
            stack.append("block" if before in _BLOCK_AFTER else "object")
        elif kind == "punct" and text in _CLOSE and stack:
            stack.pop()
        if kind != "name":
            continue
        after = code[index + 1][1] if index + 1 < len(code) else ""
        inside = stack[-1] if stack else "block"
        listed = before in ("{", ",")
        if before in (".", "?."):
            roles[index] = "property"
        elif inside == "object" and listed and after == ":":
            roles[index] = "key"
        elif inside == "object" and listed and after in (",", "}"):
            roles[index] = "shorthand"
        elif inside == "object" and listed and after == "(":
            roles[index] = "unsure"  # method shorthand: { open() {} }
        elif inside == "block" and before in ("{", ";", "}", "") and after == ":":
            roles[index] = "unsure"  # a label
        else:
            roles[index] = "variable"
    return roles


def _concise_end(code: Code, start: int) -> int:
    """Where the expression body of an arrow function that starts at ``start`` ends."""
    depth = questions = 0
    for index in range(start, len(code)):
        kind, text = code[index]
        if kind != "punct":
            continue
        if text in _OPEN:
            depth += 1
        elif text in _CLOSE:
            depth -= 1
            if depth < 0:
                return index - 1
        elif depth == 0 and text == "?":
            questions += 1
        elif depth == 0 and text == ":":
            if not questions:
                return index - 1
            questions -= 1
        elif depth == 0 and text in (",", ";"):
            return index - 1
    return len(code) - 1


def _parameters(code: Code, opening: int, closing: int) -> list[int]:
    """Positions of the names a parameter list binds (destructuring included)."""
    names = []
    for index in range(opening + 1, closing):
        kind, text = code[index]
        if text == "=":
            raise ValueError("default parameter values cannot be shortened: write x ?? default")
        if kind == "name" and text not in RESERVED:
            names.append(index)
    return names


class _Scope:
    def __init__(self, start: int, end: int) -> None:
        self.start, self.end = start, end
        self.parent: _Scope | None = None
        self.children: list[_Scope] = []
        self.names: dict[str, list[int]] = {}  # declared name -> its references (token indexes)

    def contains(self, index: int) -> bool:
        return self.start <= index <= self.end


def _scopes(code: Code, pairs: dict[int, int], roles: list[str]) -> _Scope:
    """The scope tree: functions (from their parameters), blocks and ``catch`` clauses."""
    ranges: list[tuple[int, int, list[int]]] = []  # (start, end, names bound there)
    pending: list[int] = []  # const/let/var names, bound in the innermost scope around them
    for index, (kind, text) in enumerate(code):
        before = code[index - 1][1] if index else ""
        after = code[index + 1][1] if index + 1 < len(code) else ""
        if text == "{" and kind == "punct" and before in _BLOCK_AFTER:
            ranges.append((index, pairs[index], []))
        elif kind == "name" and text == "function" and roles[index] == "variable":
            opening = index + 1
            if code[opening][0] == "name":
                pending.append(opening)  # a declaration binds its name around it
                opening += 1
            closing = pairs[opening]
            ranges.append((opening, pairs[closing + 1], _parameters(code, opening, closing)))
        elif text == "=>":
            body_end = pairs[index + 1] if after == "{" else _concise_end(code, index + 1)
            if before == ")":
                opening = pairs[index - 1]
                ranges.append((opening, body_end, _parameters(code, opening, index - 1)))
            else:
                ranges.append((index - 1, body_end, [index - 1]))
        elif kind == "name" and text == "catch" and roles[index] == "variable":
            closing = pairs[index + 1]
            ranges.append((index + 1, pairs[closing + 1], _parameters(code, index + 1, closing)))
        elif kind == "name" and text in ("const", "let", "var"):
            pending.extend(_declared_after(code, index))
    root = _Scope(0, len(code))
    where: dict[int, _Scope] = {}
    for start, end, names in sorted(ranges, key=lambda r: (r[0], -r[1])):
        scope = _Scope(start, end)
        parent = root
        while True:
            inner = next((c for c in parent.children if c.contains(start)), None)
            if inner is None:
                break
            parent = inner
        scope.parent = parent
        parent.children.append(scope)
        for position in names:
            scope.names.setdefault(code[position][1], [])
            where[position] = scope
    for position in pending:
        scope = _innermost(root, position)
        scope.names.setdefault(code[position][1], [])
        where[position] = scope
    for position in pending:
        # for (const k of …) binds k in the loop; here it is bound in the scope around the
        # loop, which is only right if it hides no outer name.
        loop = code[position - 1][1] in ("const", "let", "var") and code[position - 2][1] == "("
        if loop and _resolve(where[position].parent, code[position][1]):
            raise ValueError(f"the for variable {code[position][1]!r} hides an outer name")
    return root


def _declared_after(code: Code, index: int) -> list[int]:
    """Positions of the names a ``const``/``let``/``var`` at ``index`` declares."""
    at: list[int] = []
    depth, expect_name = 0, True
    for offset in range(index + 1, len(code)):
        kind, text = code[offset]
        if kind == "name" and expect_name and depth == 0:
            if text in ("in", "of"):
                break
            at.append(offset)
            expect_name = False
        elif text in _OPEN:
            depth += 1
        elif text in _CLOSE:
            depth -= 1
            if depth < 0:
                break
        elif text == "," and depth == 0:
            expect_name = True
        elif text == ";" and depth == 0:
            break
    return at


def _innermost(root: _Scope, index: int) -> _Scope:
    scope = root
    while True:
        inner = next((c for c in scope.children if c.contains(index)), None)
        if inner is None:
            return scope
        scope = inner


def _resolve(scope: _Scope | None, name: str) -> _Scope | None:
    while scope is not None:
        if name in scope.names:
            return scope
        scope = scope.parent
    return None


def _fresh_names(taken: set[str], kept: str) -> list[str]:
    """One- and two-letter names, in the order of how often their letters occur in ``kept``.

    ``kept`` is the text that stays as written (keywords, properties, strings): names made of
    its most common letters give gzip the most repeats to work with.
    """
    counts = collections.Counter(kept)
    first = "".join(sorted(string.ascii_letters + "_$", key=lambda c: (-counts[c], c)))
    rest = first + string.digits
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
    pairs = _matches(code)
    roles = _roles(code)
    root = _scopes(code, pairs, roles)
    # Every use of a name, bound to the scope that declares it (None: a global).
    bound: dict[int, tuple[_Scope, str]] = {}
    fixed = set(keep) | RESERVED
    free: set[str] = set()
    for index, (kind, text) in enumerate(code):
        if kind != "name" or roles[index] in ("property", "key"):
            continue
        scope = _resolve(_innermost(root, index), text)
        if scope is None or roles[index] == "unsure":
            free.add(text)
            continue
        scope.names[text].append(index)
        bound[index] = (scope, text)
        if roles[index] == "shorthand":
            fixed.add(text)
    kept = "".join(text for index, (_, text) in enumerate(code) if index not in bound)
    fresh = _fresh_names(free | fixed, kept)
    renamed: dict[tuple[int, str], str] = {}  # (id of scope, name) -> new name

    def visit(scope: _Scope) -> None:
        # Names of outer bindings that this scope (or one inside it) uses may not be reused.
        used_inside = {
            renamed.get((id(s), n), n)
            for index, (s, n) in bound.items()
            if scope.contains(index) and s is not scope and _encloses(s, scope)
        }
        staying = {n for n in scope.names if n in fixed or n in free}
        taken = used_inside | staying
        order = sorted(scope.names, key=lambda n: (-len(scope.names[n]), n))
        candidates = iter(f for f in fresh if f not in taken)
        for name in order:
            renamed[(id(scope), name)] = name if name in staying else next(candidates)
        for child in scope.children:
            visit(child)

    visit(root)
    out, position = [], 0
    for kind, text in tokens(source):
        if kind == "space":
            out.append(text)
            continue
        index, position = position, position + 1
        if index in bound:
            scope, name = bound[index]
            out.append(renamed[(id(scope), name)])
        else:
            out.append(text)
    return "".join(out)


def _encloses(binding_scope: _Scope, scope: _Scope) -> bool:
    """Whether ``binding_scope`` is an ancestor of ``scope``."""
    parent = scope.parent
    while parent is not None:
        if parent is binding_scope:
            return True
        parent = parent.parent
    return False


def drop_redundant_punctuation(source: str) -> str:
    """``source`` without the punctuation a parser ignores: a trailing comma before ``]``, ``}``
    or ``)`` (the source keeps them for readable diffs), and a ``;`` right before ``}``, where the
    brace ends the statement anyway. Neither is dropped where it means something: an array hole
    (``[a,,]``) or an empty statement (``if (a);``, ``else;``)."""
    code = tokens(source)
    solid = [i for i, (kind, _) in enumerate(code) if kind != "space"]
    pairs = _matches([code[i] for i in solid])
    dropped = set()
    for place, index in enumerate(solid[1:-1], start=1):
        kind, text = code[index]
        before, after = code[solid[place - 1]], code[solid[place + 1]]
        if kind != "punct" or after[0] != "punct":
            continue
        trailing_comma = (
            text == "," and after[1] in ("]", "}", ")") and before[1] not in ("[", "(", "{", ",")
        )
        last_semicolon = text == ";" and after[1] == "}"
        if trailing_comma or (
            last_semicolon and not _ends_empty_statement(code, solid, pairs, place)
        ):
            dropped.add(index)
    return "".join(text for i, (_, text) in enumerate(code) if i not in dropped)


def _ends_empty_statement(code: Code, solid: list[int], pairs: dict[int, int], place: int) -> bool:
    """Whether the ``;`` at ``solid[place]`` is a statement of its own (``if (a);``, ``else;``)."""
    before = code[solid[place - 1]]
    if before[1] in ("else", "do"):
        return True
    if before[1] == ")":
        opening = pairs[place - 1]
        return opening > 0 and code[solid[opening - 1]][1] in ("if", "for", "while", "with")
    return False
