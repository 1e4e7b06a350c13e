"""OData ``$filter`` as Graph's mail store reads it: a parser to an expression tree and its evaluation.

The grammar (a subset of OData 4.01 URL conventions, the part mail clients use)::

    expr    := and ("or" and)*            and  := unary ("and" unary)*
    unary   := "not" unary | "(" expr ")" | operand [op operand]
    operand := literal | path | func "(" expr ("," expr)* ")" | path "/" ("any"|"all") "(" var ":" expr ")"
    op      := eq | ne | gt | ge | lt | le

Literals: ``'text'`` (``''`` is a quote), ``true``/``false``/``null``, numbers, date-times
(``2024-01-01T00:00:00Z``) and dates. Functions: ``startswith``, ``endswith``, ``contains`` (strings,
case-insensitive as Exchange compares text). Text comparisons ignore case; date-times compare as instants.
A syntax error is a ``FilterSyntaxError`` with its position, which query.py answers as Graph's 400.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

COMPARISONS = ("eq", "ne", "gt", "ge", "lt", "le")
FUNCTIONS: dict[str, Callable[[str, str], bool]] = {
    "startswith": lambda s, p: s.startswith(p),
    "endswith": lambda s, p: s.endswith(p),
    "contains": lambda s, p: p in s,
}
_TOKEN = re.compile(
    r"""\s*(?:
      (?P<string>'(?:[^']|'')*')
    | (?P<datetime>\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})?)?)
    | (?P<number>-?\d+(?:\.\d+)?)
    | (?P<name>[A-Za-z_@][\w.@]*(?:/[A-Za-z_@][\w.@]*)*)
    | (?P<punct>[(),:])
    )""",
    re.VERBOSE,
)


class FilterSyntaxError(ValueError):
    def __init__(self, detail: str, position: int):
        super().__init__(detail)
        self.detail = detail
        self.position = position


@dataclass(frozen=True)
class Token:
    kind: str  # string, datetime, number, name, punct, end
    text: str
    position: int


@dataclass(frozen=True)
class Node:
    """One node of the tree: ``kind`` is literal, path, not, and, or, a comparison, a function, any, all."""

    kind: str
    value: Any = None  # the literal's value, the path's segments, the lambda's (path, variable)
    args: tuple[Node, ...] = ()
    edm: str = ""  # a literal's OData type (Edm.String, Edm.DateTimeOffset, ...); "" for null


def tokenize(text: str) -> list[Token]:
    tokens, pos = [], 0
    while pos < len(text):
        if not text[pos:].strip():
            break
        m = _TOKEN.match(text, pos)
        if m is None or m.lastgroup is None:
            start = pos + len(text[pos:]) - len(text[pos:].lstrip())
            raise FilterSyntaxError(f"unexpected character '{text[start]}'", start)
        tokens.append(Token(m.lastgroup, m.group(m.lastgroup), m.start(m.lastgroup)))
        pos = m.end()
    tokens.append(Token("end", "", len(text)))
    return tokens


class _Parser:
    def __init__(self, text: str):
        self.tokens = tokenize(text)
        self.at = 0

    def peek(self, offset: int = 0) -> Token:
        return self.tokens[min(self.at + offset, len(self.tokens) - 1)]

    def take(self) -> Token:
        token = self.peek()
        self.at += 1
        return token

    def keyword(self, *words: str) -> str | None:
        token = self.peek()
        if token.kind == "name" and token.text.lower() in words:
            self.at += 1
            return token.text.lower()
        return None

    def expect(self, text: str) -> None:
        token = self.take()
        if token.text != text:
            found = f"'{token.text}'" if token.kind != "end" else "the end of the expression"
            raise FilterSyntaxError(f"expected '{text}', found {found}", token.position)

    def expr(self) -> Node:
        node = self.conjunction()
        while self.keyword("or"):
            node = Node("or", args=(node, self.conjunction()))
        return node

    def conjunction(self) -> Node:
        node = self.unary()
        while self.keyword("and"):
            node = Node("and", args=(node, self.unary()))
        return node

    def unary(self) -> Node:
        if self.keyword("not"):
            return Node("not", args=(self.unary(),))
        left = self.operand()
        op = self.keyword(*COMPARISONS)
        return Node(op, args=(left, self.operand())) if op else left

    def operand(self) -> Node:
        token = self.take()
        if token.text == "(":
            node = self.expr()
            self.expect(")")
            return node
        if token.kind == "string":
            return Node("literal", token.text[1:-1].replace("''", "'"), edm="Edm.String")
        if token.kind == "datetime":
            instant = _instant(token.text)
            if instant is None:  # a date: its midnight, UTC, where it meets a date-time
                midnight = datetime.datetime.fromisoformat(token.text[:10]).replace(tzinfo=datetime.UTC)
                return Node("literal", midnight, edm="Edm.Date")
            return Node("literal", instant, edm="Edm.DateTimeOffset")
        if token.kind == "number":
            if "." in token.text:
                return Node("literal", float(token.text), edm="Edm.Double")
            return Node("literal", int(token.text), edm="Edm.Int32")
        if token.kind == "name":
            return self.named(token)
        found = f"'{token.text}'" if token.kind != "end" else "the end of the expression"
        raise FilterSyntaxError(f"expected a property, a literal or '(', found {found}", token.position)

    def named(self, token: Token) -> Node:
        word = token.text.lower()
        if word in ("true", "false"):
            return Node("literal", word == "true", edm="Edm.Boolean")
        if word == "null":
            return Node("literal", None)
        if word in FUNCTIONS and self.peek().text == "(":
            self.expect("(")
            args = [self.expr()]
            while self.peek().text == ",":
                self.take()
                args.append(self.expr())
            self.expect(")")
            if len(args) != 2:
                raise FilterSyntaxError(f"{word} takes 2 arguments, not {len(args)}", token.position)
            return Node(word, args=tuple(args))
        segments = tuple(token.text.split("/"))
        if segments[-1].lower() in ("any", "all") and len(segments) > 1 and self.peek().text == "(":
            return self.lambda_(segments[:-1], segments[-1].lower())
        return Node("path", segments)

    def lambda_(self, path: tuple[str, ...], kind: str) -> Node:
        self.expect("(")
        variable = self.take()
        if variable.kind != "name" or "/" in variable.text:
            raise FilterSyntaxError(f"expected a range variable after {kind}(", variable.position)
        self.expect(":")
        body = self.expr()
        self.expect(")")
        return Node(kind, (path, variable.text), (body,))


def parse_filter(text: str) -> Node:
    """The expression tree of a ``$filter`` value; FilterSyntaxError where it cannot be read."""
    parser = _Parser(text)
    if parser.peek().kind == "end":
        raise FilterSyntaxError("the expression is empty", 0)
    node = parser.expr()
    rest = parser.peek()
    if rest.kind != "end":
        raise FilterSyntaxError(f"unexpected '{rest.text}'", rest.position)
    return node


def comparisons(node: Node, variables: frozenset[str] = frozenset()) -> list[tuple[str, tuple[str, ...], Node]]:
    """(operator, property path, literal) of each comparison of a property with a literal, in order."""
    found: list[tuple[str, tuple[str, ...], Node]] = []
    if node.kind in COMPARISONS:
        left, right = node.args
        for path, literal in ((left, right), (right, left)):
            if path.kind == "path" and path.value[0] not in variables and literal.kind == "literal":
                found.append((node.kind, path.value, literal))
    if node.kind in ("any", "all"):
        variables = variables | {node.value[1]}
    for arg in node.args:
        found += comparisons(arg, variables)
    return found


def paths(node: Node, variables: frozenset[str] = frozenset()) -> list[tuple[str, ...]]:
    """The property paths a filter names, in order of appearance (range variables' paths left out)."""
    if node.kind == "path":
        return [] if node.value[0] in variables else [node.value]
    found: list[tuple[str, ...]] = []
    if node.kind in ("any", "all"):
        path, variable = node.value
        found.append(path)
        variables = variables | {variable}
    for arg in node.args:
        found += paths(arg, variables)
    return found


def _instant(text: str) -> datetime.datetime | None:
    if "T" not in text:
        return None
    try:
        moment = datetime.datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)


def resolve(doc: Any, segments: tuple[str, ...]) -> Any:
    for name in segments:
        doc = doc.get(name) if isinstance(doc, Mapping) else None
    return doc


def comparable(value: Any) -> Any:
    """The value as the store compares it: text without case, a date-time text as an instant."""
    if isinstance(value, str):
        return _instant(value) or value.casefold()
    return value


def _compare(op: str, left: Any, right: Any) -> bool:
    if isinstance(left, datetime.datetime) and isinstance(right, str):
        right = comparable(right)
    elif isinstance(right, datetime.datetime) and isinstance(left, str):
        left = comparable(left)
    if op in ("eq", "ne"):
        return (left == right) == (op == "eq")
    if left is None or right is None:
        return False  # ordering a missing value: no match, as Graph's store answers
    try:
        return bool({"gt": left > right, "ge": left >= right, "lt": left < right, "le": left <= right}[op])
    except TypeError:
        return False


def evaluate(node: Node, doc: Mapping[str, Any], scope: Mapping[str, Any] | None = None) -> Any:
    """The value of ``node`` for one resource (``scope``: the range variables of enclosing lambdas)."""
    scope = scope or {}
    kind = node.kind
    if kind == "literal":
        return comparable(node.value)
    if kind == "path":
        head, *rest = node.value
        base = scope[head] if head in scope else resolve(doc, (head,))
        return comparable(resolve(base, tuple(rest)))
    if kind == "not":
        return evaluate(node.args[0], doc, scope) is not True
    if kind in ("and", "or"):
        left = evaluate(node.args[0], doc, scope) is True
        if left == (kind == "or"):
            return left
        return evaluate(node.args[1], doc, scope) is True
    if kind in COMPARISONS:
        return _compare(kind, evaluate(node.args[0], doc, scope), evaluate(node.args[1], doc, scope))
    if kind in FUNCTIONS:
        text, part = (evaluate(a, doc, scope) for a in node.args)
        return isinstance(text, str) and isinstance(part, str) and FUNCTIONS[kind](text, part)
    path, variable = node.value
    items = resolve(doc, path)
    items = items if isinstance(items, list) else []
    test = (evaluate(node.args[0], doc, {**scope, variable: item}) is True for item in items)
    return any(test) if kind == "any" else all(test)
