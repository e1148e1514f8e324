"""Tokens of the run filter language (MLflow's syntax, plus OR and parentheses).

>>> [t.kind for t in tokenize("metrics.acc > 0.9")]
['WORD', 'OP', 'NUMBER', 'END']
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from loom.errors import ValidationError

FILTER_HINT = (
    "Example: metrics.acc > 0.9 and params.lr = '0.01' or tags.`my tag` LIKE 'a%' "
    "(see docs/search.md)"
)

_SPEC = [
    ("WS", r"\s+"),
    ("NUMBER", r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?(?![A-Za-z_])"),
    ("OP", r"!=|<>|<=|>=|==|=|<|>"),
    ("LPAREN", r"\("),
    ("RPAREN", r"\)"),
    ("COMMA", r","),
    ("WORD", r"[A-Za-z_][A-Za-z0-9_.\-/:]*"),
]
_MASTER = re.compile("|".join(f"(?P<{name}>{rx})" for name, rx in _SPEC))
_QUOTES = {"'": "STRING", '"': "DQUOTED", "`": "BACKTICK"}


@dataclass(frozen=True)
class Token:
    kind: str  # WORD NUMBER OP LPAREN RPAREN COMMA STRING DQUOTED BACKTICK END
    text: str  # for quoted tokens: the content, unquoted
    pos: int  # 0-based offset in the filter string

    @property
    def upper(self) -> str:
        return self.text.upper() if self.kind == "WORD" else ""


def bad_filter(text: str, pos: int, problem: str) -> ValidationError:
    """A ValidationError that points at ``pos`` in the filter."""
    pointer = f"\n  {text}\n  {' ' * pos}^"
    return ValidationError(
        f"Invalid filter at position {pos + 1}: {problem}.{pointer}",
        hint=FILTER_HINT,
        position=pos,
        filter=text,
    )


def _quoted(text: str, pos: int) -> tuple[Token, int]:
    """Read a quoted token starting at ``pos``; a doubled quote stands for itself."""
    quote = text[pos]
    out = []
    i = pos + 1
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text) and text[i + 1] in (quote, "\\"):
            out.append(text[i + 1])
            i += 2
            continue
        if ch == quote:
            if i + 1 < len(text) and text[i + 1] == quote:
                out.append(quote)
                i += 2
                continue
            return Token(_QUOTES[quote], "".join(out), pos), i + 1
        out.append(ch)
        i += 1
    raise bad_filter(text, pos, f"unterminated quote {quote}")


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        if text[pos] in _QUOTES:
            token, pos = _quoted(text, pos)
            tokens.append(token)
            continue
        m = _MASTER.match(text, pos)
        if m is None:
            raise bad_filter(text, pos, f"unexpected character {text[pos]!r}")
        kind = m.lastgroup or ""
        if kind != "WS":
            tokens.append(Token(kind, m.group(), pos))
        pos = m.end()
    tokens.append(Token("END", "", len(text)))
    return tokens
