"""The filter language's grammar: tokens -> a small syntax tree.

::

    filter     := or_expr
    or_expr    := and_expr ("or" and_expr)*
    and_expr   := not_expr ("and" not_expr)*
    not_expr   := "not" not_expr | "(" or_expr ")" | condition
    condition  := field op value | field ["not"] "in" "(" value ("," value)* ")" | field "has" value
    field      := "params" "." key | "metrics" "." key ["." ("min"|"max"|"last")]
                | "name" | "id" | "number" | "status" | "notebook" | "notes" | "tags" | "created"
    key        := part ("." part)*      part := name | `quoted` | "quoted" | 'quoted'
    op         := "=" | "!=" | "<" | "<=" | ">" | ">=" | "~"
    value      := string | number | date | relative time | true | false | null

Keywords and field names are case-insensitive; param and metric keys are not.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nbtrack.filter.lexer import FilterError, Token, tokenize

#: Fields that are columns of a run (``started`` is another name for ``created``).
RUN_FIELDS = ("name", "id", "number", "status", "notebook", "notes", "tags", "created", "started")
#: Summary aggregates a metric field may name.
AGGREGATES = ("min", "max", "last")
OPERATORS = ("=", "!=", "<", "<=", ">", ">=", "~")
_KEYWORDS = ("and", "or", "not", "in", "has", "true", "false", "null")
_FIELD_HELP = (
    "a field (params.<name>, metrics.<name>[.min|.max|.last], name, id, number, status,"
    " notebook, notes, tags or created)"
)
_VALUE_HELP = (
    'a value (a "string", a number, a date such as 2026-11-01, -7d, true, false or null)'
)


@dataclass(frozen=True)
class Field:
    kind: str  # params, metrics, or a RUN_FIELDS entry
    key: str | None
    aggregate: str | None
    pos: int
    text: str


@dataclass(frozen=True)
class Literal:
    kind: str  # string, number, bool, null, date, duration
    value: Any
    pos: int
    text: str


@dataclass(frozen=True)
class Compare:
    field: Field
    op: str  # one of OPERATORS, or "has"
    value: Literal
    pos: int


@dataclass(frozen=True)
class InList:
    field: Field
    values: tuple[Literal, ...]
    negated: bool
    pos: int


@dataclass(frozen=True)
class Not:
    item: Node


@dataclass(frozen=True)
class BoolOp:
    op: str  # "and" or "or"
    items: tuple[Node, ...]


Node = Compare | InList | Not | BoolOp


def parse(text: str) -> Node:
    """The syntax tree of the filter ``text``; raise :class:`FilterError` naming the column."""
    if not isinstance(text, str):
        raise TypeError(f"a filter is a string, not {type(text).__name__}")
    return _Parser(text).parse()


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0

    # -- helpers -------------------------------------------------------------------------
    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def advance(self) -> Token:
        tok = self.tokens[self.i]
        if tok.kind != "end":
            self.i += 1
        return tok

    def is_word(self, *words: str) -> bool:
        return self.tok.kind == "name" and self.tok.text.lower() in words

    def fail(self, expected: str, tok: Token | None = None, hint: str = "") -> FilterError:
        tok = tok or self.tok
        problem = f"expected {expected} but found {tok.describe()}"
        return FilterError(problem + (f" ({hint})" if hint else ""), self.text, tok.pos, expected)

    # -- grammar -------------------------------------------------------------------------
    def parse(self) -> Node:
        if self.tok.kind == "end":
            raise self.fail("a filter expression such as params.lr < 0.01")
        node = self.or_expr()
        if self.tok.kind != "end":
            expected = "and, or, or the end of the filter"
            if self.tok.kind == ")":
                expected = "and, or, or the end of the filter (this ')' has no '(')"
            raise self.fail(expected)
        return node

    def or_expr(self) -> Node:
        items = [self.and_expr()]
        while self.is_word("or"):
            self.advance()
            items.append(self.and_expr())
        return items[0] if len(items) == 1 else BoolOp("or", tuple(items))

    def and_expr(self) -> Node:
        items = [self.not_expr()]
        while self.is_word("and"):
            self.advance()
            items.append(self.not_expr())
        return items[0] if len(items) == 1 else BoolOp("and", tuple(items))

    def not_expr(self) -> Node:
        if self.is_word("not"):
            self.advance()
            return Not(self.not_expr())
        if self.tok.kind == "(":
            opening = self.advance()
            node = self.or_expr()
            if self.tok.kind != ")":
                raise self.fail(
                    "and, or, or ')'", hint=f"to close the '(' at column {opening.pos + 1}"
                )
            self.advance()
            return node
        return self.condition()

    def condition(self) -> Node:
        field = self.field()
        tok = self.tok
        if tok.kind == "op":
            self.advance()
            return Compare(field, tok.value, self.value(), tok.pos)
        if self.is_word("has"):
            self.advance()
            return Compare(field, "has", self.value(), tok.pos)
        negated = False
        if self.is_word("not"):
            self.advance()
            negated = True
            if not self.is_word("in"):
                raise self.fail("'in' after 'not'")
        if self.is_word("in"):
            self.advance()
            return InList(field, self.value_list(), negated, tok.pos)
        raise self.fail(
            f"an operator after {field.text} (=, !=, <, <=, >, >=, ~, in, has)"
        )

    def field(self) -> Field:
        tok = self.tok
        if tok.kind != "name" or tok.text.lower() in _KEYWORDS:
            hint = ""
            if tok.kind in ("string", "qname"):
                hint = "a quoted name goes after params. or metrics., e.g. params.\"a b\""
            raise self.fail(_FIELD_HELP, hint=hint)
        word = tok.text.lower()
        self.advance()
        if word in ("params", "metrics"):
            parts, quoted_last = self.key_parts(word)
            aggregate = None
            if word == "metrics" and len(parts) > 1 and not quoted_last and parts[-1] in AGGREGATES:
                aggregate = parts.pop()
            end = self.tokens[self.i - 1]
            return Field(word, ".".join(parts), aggregate, tok.pos,
                         self.text[tok.pos : end.pos + len(end.text)])
        if word in RUN_FIELDS:
            return Field("created" if word == "started" else word, None, None, tok.pos, tok.text)
        if self.tok.kind == "." or word in ("param", "metric", "summary", "config"):
            raise FilterError(
                f"unknown field {tok.text!r}; use params.<name> or metrics.<name>",
                self.text, tok.pos, _FIELD_HELP,
            )
        raise FilterError(
            f"unknown field {tok.text!r}; did you mean params.{tok.text} or metrics.{tok.text}?",
            self.text, tok.pos, _FIELD_HELP,
        )

    def key_parts(self, word: str) -> tuple[list[str], bool]:
        parts: list[str] = []
        quoted_last = False
        if self.tok.kind != ".":
            raise self.fail(f"'.' and a name after {word} (e.g. {word}.lr)")
        while self.tok.kind == ".":
            self.advance()
            part = self.tok
            if part.kind == "name":
                parts.append(part.text)
                quoted_last = False
            elif part.kind in ("qname", "string"):
                if not part.value:
                    raise FilterError("empty name", self.text, part.pos, "a non-empty name")
                parts.append(part.value)
                quoted_last = True
            else:
                raise self.fail(
                    f"a name after '{word}.'",
                    hint="quote names with spaces or symbols: `batch size` or \"model.depth\"",
                )
            self.advance()
        return parts, quoted_last

    def value_list(self) -> tuple[Literal, ...]:
        if self.tok.kind != "(":
            raise self.fail("'(' and a list of values after in, e.g. in (1, 2)")
        self.advance()
        values = [self.value()]
        while self.tok.kind == ",":
            self.advance()
            values.append(self.value())
        if self.tok.kind != ")":
            raise self.fail("',' or ')' in the list of values")
        self.advance()
        return tuple(values)

    def value(self) -> Literal:
        tok = self.tok
        if tok.kind in ("string", "number", "date", "duration"):
            self.advance()
            return Literal(tok.kind, tok.value, tok.pos, tok.text)
        if tok.kind == "name":
            word = tok.text.lower()
            if word in ("true", "false"):
                self.advance()
                return Literal("bool", word == "true", tok.pos, tok.text)
            if word == "null":
                self.advance()
                return Literal("null", None, tok.pos, tok.text)
            if word not in _KEYWORDS:
                raise self.fail(_VALUE_HELP, hint=f'quote text values: "{tok.text}"')
        raise self.fail(_VALUE_HELP)


def fields_of(node: Node) -> list[Field]:
    """The fields a filter's syntax tree compares, in the order they appear."""
    if isinstance(node, BoolOp):
        return [f for item in node.items for f in fields_of(item)]
    if isinstance(node, Not):
        return fields_of(node.item)
    return [node.field]
