"""Recursive-descent parser: filter string → AST, order_by strings → sort keys.

Grammar (keywords are case-insensitive)::

    filter     := or_expr END
    or_expr    := and_expr ("OR" and_expr)*
    and_expr   := atom ("AND" atom)*
    atom       := "(" or_expr ")" | comparison
    comparison := ident op value | ident "IS" ["NOT"] "NULL"
    ident      := PREFIX "." key | attribute-name
    key        := WORD | `quoted` | "quoted"
    op         := = == != <> < <= > >= | LIKE | ILIKE | IN | NOT IN
    value      := NUMBER | 'string' | "string" | "(" value ("," value)* ")"

>>> parse_filter("metrics.acc > 0.9 and params.lr = '0.01'")
And(items=(Cmp(kind='metric', key='acc', op='>', value=0.9, pos=0), \
Cmp(kind='param', key='lr', op='=', value='0.01', pos=22)))
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from loom.errors import ValidationError
from loom.store.search.lexer import Token, bad_filter, tokenize

PREFIXES = {
    "metric": "metric",
    "metrics": "metric",
    "param": "param",
    "params": "param",
    "parameter": "param",
    "parameters": "param",
    "tag": "tag",
    "tags": "tag",
    "attribute": "attribute",
    "attributes": "attribute",
    "attr": "attribute",
    "run": "attribute",
}
# attribute name (and MLflow's aliases) -> canonical name
ATTRIBUTES = {
    "run_id": "run_id",
    "run_name": "run_name",
    "run name": "run_name",
    "status": "status",
    "start_time": "start_time",
    "created": "start_time",
    "Created": "start_time",
    "Run name": "run_name",
    "Run Name": "run_name",
    "end_time": "end_time",
    "user_id": "user_id",
    "lifecycle_stage": "lifecycle_stage",
}
NUMERIC_ATTRIBUTES = {"start_time", "end_time"}
# tags MLflow keeps in run columns
TAG_ALIASES = {"mlflow.runName": "run_name", "mlflow.user": "user_id"}
COMPARE = {"=", "!=", "<", "<=", ">", ">="}


@dataclass(frozen=True)
class Grammar:
    """What a filter may name: prefixes, attributes (numeric ones), tag aliases."""

    prefixes: dict[str, str]
    attributes: dict[str, str]
    numeric: frozenset[str]
    tag_aliases: dict[str, str]

    @property
    def kinds(self) -> str:
        names = {"metric": "metrics", "param": "params", "tag": "tags", "attribute": "attributes"}
        return ", ".join(names[k] for k in names if k in self.prefixes.values())


RUNS = Grammar(PREFIXES, ATTRIBUTES, frozenset(NUMERIC_ATTRIBUTES), TAG_ALIASES)
EXPERIMENTS = Grammar(
    {k: v for k, v in PREFIXES.items() if v in ("tag", "attribute")},
    {
        "name": "name",
        "experiment_id": "experiment_id",
        "creation_time": "creation_time",
        "last_update_time": "last_update_time",
    },
    frozenset({"creation_time", "last_update_time"}),
    {},
)
_OPS = {"==": "=", "<>": "!="}


@dataclass(frozen=True)
class Cmp:
    kind: str  # metric | param | tag | attribute
    key: str
    op: str  # = != < <= > >= LIKE ILIKE IN NOT IN IS NULL IS NOT NULL
    value: object  # float | str | tuple | None
    pos: int


@dataclass(frozen=True)
class And:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Node, ...]


Node = Cmp | And | Or


@dataclass(frozen=True)
class SortKey:
    kind: str
    key: str
    ascending: bool


class _Parser:
    def __init__(self, text: str, grammar: Grammar = RUNS) -> None:
        self.text = text
        self.g = grammar
        self.tokens = tokenize(text)
        self.i = 0

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def take(self) -> Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def error(self, problem: str, tok: Token | None = None) -> Exception:
        return bad_filter(self.text, (tok or self.tok).pos, problem)

    def expect_end(self) -> None:
        if self.tok.kind != "END":
            found = self.tok.text or self.tok.kind
            raise self.error(f"expected AND, OR or the end of the filter, found {found!r}")

    def or_expr(self) -> Node:
        items = [self.and_expr()]
        while self.tok.upper == "OR":
            self.take()
            items.append(self.and_expr())
        return items[0] if len(items) == 1 else Or(tuple(items))

    def and_expr(self) -> Node:
        items = [self.atom()]
        while self.tok.upper == "AND":
            self.take()
            items.append(self.atom())
        return items[0] if len(items) == 1 else And(tuple(items))

    def atom(self) -> Node:
        if self.tok.kind == "LPAREN":
            self.take()
            node = self.or_expr()
            if self.tok.kind != "RPAREN":
                raise self.error("expected ')'")
            self.take()
            return node
        return self.comparison()

    def ident(self) -> tuple[str, str, Token]:
        start = self.tok
        if start.kind != "WORD":
            raise self.error(
                "expected a key such as metrics.acc, params.lr, tags.name or attributes.status"
            )
        self.take()
        prefix, dot, rest = start.text.partition(".")
        if not dot:
            name = self.g.attributes.get(prefix)
            if name is None:
                raise self.error(f"{prefix!r} needs a prefix ({self.g.kinds})", start)
            return "attribute", name, start
        kind = self.g.prefixes.get(prefix.lower())
        if kind is None:
            raise self.error(f"unknown prefix {prefix!r} (use {self.g.kinds})", start)
        if not rest:
            if self.tok.kind not in ("BACKTICK", "DQUOTED"):
                raise self.error(f"expected a key after {prefix}.")
            rest = self.take().text
        if not rest:
            raise self.error("empty key", start)
        return kind, rest, start

    def comparison(self) -> Cmp:
        kind, key, start = self.ident()
        if kind == "attribute":
            key = self.attribute(key, start)
        elif kind == "tag" and key in self.g.tag_aliases:
            kind, key = "attribute", self.g.tag_aliases[key]
        op = self.operator()
        if op in ("IS NULL", "IS NOT NULL"):
            if kind == "attribute":
                raise self.error(f"{op} works on metrics, params and tags", start)
            return Cmp(kind, key, op, None, start.pos)
        value = self.value(op)
        cmp = Cmp(kind, key, op, value, start.pos)
        _check_types(self, cmp)
        return cmp

    def attribute(self, key: str, start: Token) -> str:
        name = self.g.attributes.get(key)
        if name is None:
            known = ", ".join(sorted(set(self.g.attributes.values())))
            raise self.error(f"unknown attribute {key!r}; known: {known}", start)
        return name

    def operator(self) -> str:
        tok = self.take()
        if tok.kind == "OP":
            return _OPS.get(tok.text, tok.text)
        word = tok.upper
        if word in ("LIKE", "ILIKE", "IN"):
            return word
        if word == "NOT" and self.tok.upper == "IN":
            self.take()
            return "NOT IN"
        if word == "IS":
            negated = self.tok.upper == "NOT"
            if negated:
                self.take()
            if self.tok.upper != "NULL":
                raise self.error("expected NULL after IS")
            self.take()
            return "IS NOT NULL" if negated else "IS NULL"
        raise self.error("expected an operator: = != < <= > >= LIKE ILIKE IN NOT IN IS NULL", tok)

    def value(self, op: str) -> object:
        if op in ("IN", "NOT IN"):
            if self.tok.kind != "LPAREN":
                raise self.error(f"{op} needs a list in parentheses, e.g. ('a', 'b')")
            self.take()
            values = [self.scalar()]
            while self.tok.kind == "COMMA":
                self.take()
                values.append(self.scalar())
            if self.tok.kind != "RPAREN":
                raise self.error("expected ',' or ')' in the list")
            self.take()
            return tuple(values)
        return self.scalar()

    def scalar(self) -> object:
        tok = self.take()
        if tok.kind == "NUMBER":
            return float(tok.text)
        if tok.kind in ("STRING", "DQUOTED"):
            return tok.text
        raise self.error("expected a value: a number or a quoted string", tok)


def _check_types(p: _Parser, c: Cmp) -> None:
    values = c.value if isinstance(c.value, tuple) else (c.value,)
    numeric = c.kind == "metric" or (c.kind == "attribute" and c.key in p.g.numeric)
    where = f"{c.kind}s.{c.key}" if c.kind != "attribute" else f"attributes.{c.key}"
    if numeric:
        if c.op in ("LIKE", "ILIKE"):
            raise bad_filter(p.text, c.pos, f"{c.op} does not apply to the number {where}")
        if not all(isinstance(v, float) for v in values):
            raise bad_filter(p.text, c.pos, f"{where} compares with a number, not a string")
    else:
        if not all(isinstance(v, str) for v in values):
            raise bad_filter(
                p.text, c.pos, f"{where} is a string: quote the value, e.g. {where} = '0.01'"
            )
        if c.kind == "attribute" and c.op not in ("=", "!=", "LIKE", "ILIKE", "IN", "NOT IN"):
            raise bad_filter(p.text, c.pos, f"{c.op} does not apply to {where}")


def parse_filter(text: str | None, grammar: Grammar = RUNS) -> Node | None:
    """Parse a filter; None for an empty one. Raises ValidationError with the position."""
    if text is None or not text.strip():
        return None
    p = _Parser(text, grammar)
    _check_size(p)
    node = p.or_expr()
    p.expect_end()
    return node


# Far beyond any filter a person or a sweep writes. More terms let one request hold the
# database (on PostgreSQL 50 ANDed metric terms take 0.4 s, 200 take 15 s); deeper
# nesting would exhaust the parser's stack.
MAX_TERMS = 50
MAX_DEPTH = 50


def _check_size(p: _Parser) -> None:
    depth = deepest = terms = 0
    for tok in p.tokens:
        if tok.kind == "LPAREN":
            depth += 1
            deepest = max(deepest, depth)
        elif tok.kind == "RPAREN":
            depth -= 1
        elif tok.kind == "WORD" and tok.upper in ("AND", "OR"):
            terms += 1
    if deepest > MAX_DEPTH:
        raise p.error(f"parentheses nest {deepest} deep; the limit is {MAX_DEPTH}")
    if terms >= MAX_TERMS:
        raise p.error(f"it joins {terms + 1} conditions; the limit is {MAX_TERMS}")


MAX_ORDER_KEYS = 10  # each is a join; thousands of them held a server for minutes


def parse_order_bys(clauses: Sequence[str] | None, grammar: Grammar = RUNS) -> list[SortKey]:
    """Every ``order_by`` clause parsed; more than :data:`MAX_ORDER_KEYS` is refused."""
    clauses = list(clauses or ())
    if len(clauses) > MAX_ORDER_KEYS:
        raise ValidationError(
            f"order_by has {len(clauses)} clauses; the limit is {MAX_ORDER_KEYS}.",
            hint='Order by a few keys, e.g. ["metrics.acc DESC", "start_time"].',
        )
    return [parse_order_by(c, grammar) for c in clauses]


def parse_order_by(clause: str, grammar: Grammar = RUNS) -> SortKey:
    """``"metrics.acc DESC"`` → SortKey("metric", "acc", False)."""
    p = _Parser(clause, grammar)
    kind, key, start = p.ident()
    if kind == "attribute":
        key = p.attribute(key, start)
    elif kind == "tag" and key in grammar.tag_aliases:
        kind, key = "attribute", grammar.tag_aliases[key]
    ascending = True
    if p.tok.upper in ("ASC", "DESC"):
        ascending = p.take().upper == "ASC"
    if p.tok.kind != "END":
        raise p.error("expected ASC, DESC or the end of the order_by clause")
    return SortKey(kind, key, ascending)
