"""The transformation language: small, safe expressions over JSON values (pure, no I/O).

What rules cannot say (arithmetic, joining names, filtering an array, reshaping messages) is
written as one expression. It is parsed by this module and evaluated by walking the tree;
nothing reaches Python's ``eval``, attributes or imports. Every evaluation has a budget of
steps (each node evaluated and each element a comprehension visits costs one) and limits on
sizes (source, strings, lists, nesting), so a configuration cannot hang or exhaust a server.

Grammar, loosest first::

    expr    := or ("?" expr ":" expr)?
    or      := and ("or" and)*          and := not ("and" not)*       not := "not" not | cmp
    cmp     := add (("=="|"!="|"<"|"<="|">"|">="|"in") add)?
    add     := mul (("+"|"-") mul)*     mul := unary (("*"|"/"|"%") unary)*
    unary   := "-" unary | postfix      postfix := primary ("." name | "[" expr "]")*
    primary := number | string | true | false | null | name | name "(" args ")" | "(" expr ")"
             | "[" (expr ("," expr)* | expr "for" name "in" expr ("if" expr)?)? "]"
             | "{" (key ":" expr ("," key ":" expr)*)? "}"

A missing key or index reads as ``null``. Functions: see :data:`FUNCTIONS`.

>>> evaluate('[e.id for e in body.events if e.qty > 1]',
...          {"body": {"events": [{"id": "a", "qty": 2}, {"id": "b", "qty": 1}]}})
['a']
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from headwater.hooks.functions import (
    FUNCTIONS,
    MAX_STRING,
    ExpressionError,
    call,
    is_number,
    member,
)

__all__ = ["Budget", "ExpressionError", "compile_expression", "evaluate"]

MAX_SOURCE = 10_000
MAX_ITEMS = 10_000
MAX_DEPTH = 40
DEFAULT_STEPS = 20_000


@dataclass
class Budget:
    """Steps left for one evaluation."""

    steps: int = DEFAULT_STEPS

    def spend(self, count: int = 1) -> None:
        self.steps -= count
        if self.steps < 0:
            raise ExpressionError("the expression took too many steps (over its step budget)")


_TOKEN = re.compile(
    r"\s*(?:(?P<number>\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)"
    r"|(?P<string>\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*')"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<op>==|!=|<=|>=|[-+*/%<>?:.,()\[\]{}]))"
)
_KEYWORDS = {"and", "or", "not", "in", "for", "if", "true", "false", "null"}

Node = tuple[Any, ...]


def _tokens(source: str) -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []
    position = 0
    while position < len(source):
        if source[position:].strip() == "":
            break
        match = _TOKEN.match(source, position)
        if match is None:
            raise ExpressionError(f"unexpected character at position {position}")
        kind = match.lastgroup or ""
        text = match.group(kind)
        if kind == "number":
            found.append(("num", float(text) if any(c in text for c in ".eE") else int(text)))
        elif kind == "string":
            found.append(("str", _unquote(text)))
        elif kind == "name" and text in _KEYWORDS:
            found.append(("op", text))
        else:
            found.append((kind, text))
        position = match.end()
    found.append(("end", None))
    return found


def _unquote(text: str) -> str:
    body = text[1:-1]
    if text[0] == "'":
        body = body.replace("\\'", "'").replace('"', '\\"')
    try:
        value = json.loads(f'"{body}"')
    except json.JSONDecodeError:
        raise ExpressionError(f"the string {text} has a bad escape") from None
    return str(value)


class _Parser:
    def __init__(self, source: str) -> None:
        self.tokens = _tokens(source)
        self.at = 0
        self.depth = 0

    def peek(self, value: str) -> bool:
        kind, text = self.tokens[self.at]
        return kind == "op" and text == value

    def take(self, value: str) -> bool:
        if self.peek(value):
            self.at += 1
            return True
        return False

    def expect(self, value: str) -> None:
        if not self.take(value):
            kind, text = self.tokens[self.at]
            shown = "the end" if kind == "end" else repr(text)
            raise ExpressionError(f"expected {value!r} but found {shown}")

    def parse(self) -> Node:
        node = self.expr()
        if self.tokens[self.at][0] != "end":
            raise ExpressionError(f"unexpected {self.tokens[self.at][1]!r} after the expression")
        return node

    def expr(self) -> Node:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExpressionError(f"the expression is nested more than {MAX_DEPTH} deep")
        node = self.binary(0)
        if self.take("?"):
            yes = self.expr()
            self.expect(":")
            node = ("if", node, yes, self.expr())
        self.depth -= 1
        return node

    _LEVELS: tuple[tuple[str, ...], ...] = (
        ("or",),
        ("and",),
        ("==", "!=", "<", "<=", ">", ">=", "in"),
        ("+", "-"),
        ("*", "/", "%"),
    )

    def binary(self, level: int) -> Node:
        if level == len(self._LEVELS):
            return self.unary()
        if level == 2 and self.take("not"):
            return ("not", self.binary(level))
        node = self.binary(level + 1)
        while True:
            op = next((o for o in self._LEVELS[level] if self.peek(o)), None)
            if op is None:
                return node
            self.at += 1
            node = (op, node, self.binary(level + 1))

    def unary(self) -> Node:
        if self.take("-"):
            return ("neg", self.unary())
        node = self.primary()
        while True:
            if self.take("."):
                kind, text = self.tokens[self.at]
                if kind != "name":
                    raise ExpressionError("expected a name after '.'")
                self.at += 1
                node = ("get", node, ("lit", text))
            elif self.take("["):
                node = ("get", node, self.expr())
                self.expect("]")
            else:
                return node

    def primary(self) -> Node:
        kind, text = self.tokens[self.at]
        self.at += 1
        if kind in ("num", "str"):
            return ("lit", text)
        if kind == "op" and text in ("true", "false", "null"):
            return ("lit", {"true": True, "false": False, "null": None}[text])
        if kind == "name":
            if self.take("("):
                if text not in FUNCTIONS:
                    raise ExpressionError(f"unknown function {text}()")
                return ("call", text, tuple(self.items(")")))
            return ("var", text)
        if kind == "op" and text == "(":
            node = self.expr()
            self.expect(")")
            return node
        if kind == "op" and text == "[":
            return self.list_or_comprehension()
        if kind == "op" and text == "{":
            return self.object()
        shown = "the end" if kind == "end" else repr(text)
        raise ExpressionError(f"unexpected {shown}")

    def items(self, close: str) -> list[Node]:
        found: list[Node] = []
        if self.take(close):
            return found
        found.append(self.expr())
        while self.take(","):
            found.append(self.expr())
        self.expect(close)
        return found

    def list_or_comprehension(self) -> Node:
        if self.take("]"):
            return ("list", ())
        first = self.expr()
        if self.take("for"):
            kind, name = self.tokens[self.at]
            if kind != "name":
                raise ExpressionError("expected a name after 'for'")
            self.at += 1
            self.expect("in")
            source = self.expr()
            condition = self.expr() if self.take("if") else None
            self.expect("]")
            return ("for", first, name, source, condition)
        rest = [first]
        while self.take(","):
            rest.append(self.expr())
        self.expect("]")
        return ("list", tuple(rest))

    def object(self) -> Node:
        pairs: list[tuple[str, Node]] = []
        while not self.take("}"):
            if pairs:
                self.expect(",")
            kind, key = self.tokens[self.at]
            if kind not in ("name", "str"):
                raise ExpressionError("an object key is a name or a string")
            self.at += 1
            self.expect(":")
            pairs.append((str(key), self.expr()))
        return ("object", tuple(pairs))


@lru_cache(maxsize=256)
def compile_expression(source: str) -> Node:
    """The parsed tree of ``source``; :class:`ExpressionError` if it does not parse."""
    if len(source) > MAX_SOURCE:
        raise ExpressionError(f"the expression is longer than {MAX_SOURCE} characters")
    return _Parser(source).parse()


def evaluate(source: str, variables: Mapping[str, Any], *, budget: Budget | None = None) -> Any:
    """The value of ``source`` with ``variables`` (JSON values) in scope."""
    return _eval(compile_expression(source), dict(variables), budget or Budget())


def _checked(value: Any) -> Any:
    if isinstance(value, str) and len(value) > MAX_STRING:
        raise ExpressionError(f"a string grew over {MAX_STRING} characters")
    if isinstance(value, list | dict) and len(value) > MAX_ITEMS:
        raise ExpressionError(f"a list or object grew over {MAX_ITEMS} items")
    if isinstance(value, float) and not math.isfinite(value):
        raise ExpressionError("a number is not finite")
    return value


def _eval(node: Node, scope: dict[str, Any], budget: Budget) -> Any:
    budget.spend()
    kind = node[0]
    if kind == "lit":
        return node[1]
    if kind == "var":
        if node[1] not in scope:
            raise ExpressionError(f"unknown name {node[1]}")
        return scope[node[1]]
    if kind == "get":
        return member(_eval(node[1], scope, budget), _eval(node[2], scope, budget))
    if kind == "if":
        chosen = node[2] if _truthy(_eval(node[1], scope, budget)) else node[3]
        return _eval(chosen, scope, budget)
    if kind == "and":
        left = _eval(node[1], scope, budget)
        return _eval(node[2], scope, budget) if _truthy(left) else left
    if kind == "or":
        left = _eval(node[1], scope, budget)
        return left if _truthy(left) else _eval(node[2], scope, budget)
    if kind == "not":
        return not _truthy(_eval(node[1], scope, budget))
    if kind == "neg":
        return _arith("-", 0, _eval(node[1], scope, budget))
    if kind == "list":
        return _checked([_eval(item, scope, budget) for item in node[1]])
    if kind == "object":
        return _checked({key: _eval(value, scope, budget) for key, value in node[1]})
    if kind == "call":
        args = [_eval(arg, scope, budget) for arg in node[2]]
        return _checked(call(node[1], args))
    if kind == "for":
        return _comprehension(node, scope, budget)
    return _binary(kind, _eval(node[1], scope, budget), _eval(node[2], scope, budget))


def _comprehension(node: Node, scope: dict[str, Any], budget: Budget) -> list[Any]:
    _, body, name, source, condition = node
    items = _eval(source, scope, budget)
    if isinstance(items, dict):
        items = list(items)
    if not isinstance(items, list):
        raise ExpressionError("'for … in' needs a list or an object")
    out: list[Any] = []
    for item in items:
        budget.spend()
        inner = {**scope, name: item}
        if condition is None or _truthy(_eval(condition, inner, budget)):
            out.append(_eval(body, inner, budget))
    _checked(out)
    return out


def _truthy(value: Any) -> bool:
    return value not in (None, False, 0, "", [], {})


def _binary(op: str, left: Any, right: Any) -> Any:
    if op == "==":
        return bool(left == right)
    if op == "!=":
        return bool(left != right)
    if op == "in":
        if isinstance(right, str) and isinstance(left, str):
            return left in right
        if isinstance(right, list | dict):
            return left in right
        raise ExpressionError("'in' needs a list, an object or a string on its right")
    if op in ("<", "<=", ">", ">="):
        return _compare(op, left, right)
    return _checked(_arith(op, left, right))


def _compare(op: str, left: Any, right: Any) -> bool:
    if not (is_number(left) and is_number(right)) and not (
        isinstance(left, str) and isinstance(right, str)
    ):
        raise ExpressionError(f"'{op}' compares two numbers or two strings")
    if op == "<":
        return bool(left < right)
    if op == "<=":
        return bool(left <= right)
    if op == ">":
        return bool(left > right)
    return bool(left >= right)


def _arith(op: str, left: Any, right: Any) -> Any:
    if op == "+" and isinstance(left, str) and isinstance(right, str):
        return _checked(left + right)
    if op == "+" and isinstance(left, list) and isinstance(right, list):
        return _checked(left + right)
    if not (is_number(left) and is_number(right)):
        raise ExpressionError(f"'{op}' needs two numbers (or two strings or lists for '+')")
    if op in ("/", "%") and right == 0:
        raise ExpressionError("division by zero")
    if op == "*" and abs(left) > 1e15 and abs(right) > 1:
        raise ExpressionError("a number grew too large")
    result: Any = {
        "+": lambda: left + right,
        "-": lambda: left - right,
        "*": lambda: left * right,
        "/": lambda: left / right,
        "%": lambda: left % right,
    }[op]()
    return result
