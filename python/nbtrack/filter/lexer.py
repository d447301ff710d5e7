"""Tokens of the filter language, and the error that points at a column of the filter."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any


class FilterError(ValueError):
    """A filter expression that cannot be read or compiled.

    ``position`` is the 0-based offset in ``text`` where the problem is (``column`` is 1-based),
    ``expected`` says what would have been valid there. ``str(error)`` shows the filter with a
    caret under that column.
    """

    def __init__(self, problem: str, text: str, position: int, expected: str = "") -> None:
        self.problem = problem
        self.text = text
        self.position = max(0, min(position, len(text)))
        self.column = self.position + 1
        self.expected = expected
        line = text.replace("\n", " ").replace("\t", " ")
        super().__init__(
            f"filter error at column {self.column}: {problem}\n  {line}\n  {' ' * self.position}^"
        )


@dataclass(frozen=True)
class Token:
    """One token: ``kind`` is one of name, qname, string, number, date, duration, op, ``(``,
    ``)``, ``,``, ``.``, end. ``text`` is the source text; ``value`` the decoded value."""

    kind: str
    text: str
    value: Any
    pos: int

    def describe(self) -> str:
        """How an error message names this token."""
        if self.kind == "end":
            return "the end of the filter"
        return repr(self.text) if len(self.text) <= 30 else repr(self.text[:29] + "…")


# Names may hold "/" and "-" (metric keys such as val/loss or top-1): the language has no
# arithmetic, so they are never operators.
_NAME = re.compile(r"[^\W\d][\w/\-]*")
_DATE = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?(?![\w.:])"
)
_DURATION = re.compile(r"[-+]?\d+(?:\.\d+)?[smhdw](?![\w.])")
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_OPS = ("<=", ">=", "!=", "<>", "==", "=", "<", ">", "~")
_WORD_CHAR = re.compile(r"[\w.]")

#: Seconds in each unit of a relative time such as ``-7d``.
DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def tokenize(text: str) -> list[Token]:
    """Split ``text`` into tokens (the last one of kind ``end``); raise :class:`FilterError`."""
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        if ch in "(),":
            tokens.append(Token(ch, ch, ch, i))
            i += 1
            continue
        op = next((o for o in _OPS if text.startswith(o, i)), None)
        if op is not None:
            tokens.append(Token("op", op, {"==": "=", "<>": "!="}.get(op, op), i))
            i += len(op)
            continue
        if ch == "`":
            value, end = _quoted(text, i, "`", escapes=False)
            tokens.append(Token("qname", text[i:end], value, i))
            i = end
            continue
        if ch in "'\"":
            value, end = _quoted(text, i, ch, escapes=True)
            tokens.append(Token("string", text[i:end], value, i))
            i = end
            continue
        prev = tokens[-1].kind if tokens else None
        if ch == "." and not (prev in (None, "op", "(", ",") and text[i + 1 : i + 2].isdigit()):
            tokens.append(Token(".", ".", ".", i))
            i += 1
            continue
        if prev == "." and ch.isdigit():  # a name part after a dot: metrics.0, params.2d
            m = re.compile(r"[\w/\-]+").match(text, i)
            assert m is not None
            tokens.append(Token("name", m.group(), m.group(), i))
            i = m.end()
            continue
        m = _DATE.match(text, i)
        if m:
            tokens.append(Token("date", m.group(), m.group(), i))
            i = m.end()
            continue
        m = _DURATION.match(text, i)
        if m:
            number, unit = m.group()[:-1], m.group()[-1]
            tokens.append(Token("duration", m.group(), float(number) * DURATION_UNITS[unit], i))
            i = m.end()
            continue
        m = _NUMBER.match(text, i)
        if m and m.group() not in "+-":
            end = m.end()
            if end < n and _WORD_CHAR.match(text[end]):
                raise FilterError(
                    f"unexpected {text[i:end + 1]!r} in a number", text, end,
                    "a number such as 0.01, 1e-3 or 10",
                )
            literal = m.group()
            is_int = re.fullmatch(r"[-+]?\d+", literal) is not None
            tokens.append(Token("number", literal, int(literal) if is_int else float(literal), i))
            i = end
            continue
        m = _NAME.match(text, i)
        if m:
            tokens.append(Token("name", m.group(), m.group(), i))
            i = m.end()
            continue
        raise FilterError(
            f"unexpected character {ch!r}", text, i,
            "a field, a value, an operator, a parenthesis or a quote",
        )
    tokens.append(Token("end", "", None, n))
    return tokens


def _quoted(text: str, start: int, quote: str, *, escapes: bool) -> tuple[str, int]:
    """The value of the quoted token opening at ``start``, and the offset after it.

    A quote inside is written twice (``'it''s'``) or, in strings, with a backslash (``\\'``).
    """
    out: list[str] = []
    i = start + 1
    while i < len(text):
        ch = text[i]
        if escapes and ch == "\\" and i + 1 < len(text):
            out.append(text[i + 1])
            i += 2
            continue
        if ch == quote:
            if text.startswith(quote, i + 1):
                out.append(quote)
                i += 2
                continue
            return "".join(out), i + 1
        out.append(ch)
        i += 1
    raise FilterError(
        f"unterminated {'name' if quote == '`' else 'string'} opened", text, start,
        f"a closing {quote}",
    )
