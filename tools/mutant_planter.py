"""The mutants tools/mutate_verify.py plants: one change to one node of a module's AST.

A `Planter` counts the places of a module it could change, in source order (children before
their parent), and with a `target` changes that place only. The kinds of change:

- negate: the test of an `if` (or of `x if test else y`) negated;
- boundary: a comparison's boundary moved (< and <=, > and >=);
- return None: a check (`-> X | None`, or `-> None` that raises) returns first thing;
- drop clause: one clause of an `and`/`or` dropped; drop check: one check of an `or` chain
  (neither drops from a default such as `history or ()`);
- off by one: an integer constant of arithmetic, or of an `==`/`!=`, one off;
- shift: the days, months or hours handed to the calendar (or to `timedelta`) one more;
- min/max: `min` and `max` swapped;
- drop assignment: an assignment to a field of `self` dropped (outside `__init__`);
- fold: `fold=0` and `fold=1` swapped;
- first/last: `[0]` and `[-1]` swapped.

A mutant whose compiled code is the original's, or another mutant's, is not planted.
"""

from __future__ import annotations

import ast
import types
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

CALENDAR = frozenset({"add_wall_days", "add_wall_months_clamped", "hours_later", "expiry_for"})
"""Calls whose second argument is a count of days, months or hours ("shift" adds one to it)."""
SPANS = frozenset({"days", "months", "hours", "weeks"})
"""Keyword arguments that are a count of days, months or hours (`timedelta(days=...)`)."""
BOUNDARY: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
}


@dataclass(frozen=True)
class Mutant:
    area: str
    path: str
    line: int
    kind: str
    before: str
    after: str
    index: int  # which place of the file the planter changes, in source order

    def describe(self) -> str:
        return f"{self.path}:{self.line} {self.kind}: {self.before} -> {self.after}"


def _short(node: ast.AST, width: int = 60) -> str:
    text = " ".join(ast.unparse(node).split())
    return text if len(text) <= width else text[: width - 3] + "..."


def _is_int(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Constant) and type(node.value) is int  # a bool is not a count
    )


def _plus_one(node: ast.expr) -> ast.expr:
    return ast.BinOp(left=node, op=ast.Add(), right=ast.Constant(1))


def _nudged(node: ast.Constant) -> ast.Constant:
    """An integer one off: one less if positive, one more otherwise."""
    value = node.value
    assert type(value) is int
    return ast.Constant(value - 1 if value > 0 else value + 1)


def _negated(test: ast.expr) -> ast.expr:
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return test.operand
    return ast.UnaryOp(op=ast.Not(), operand=test)


def _docstring_length(body: Sequence[ast.stmt]) -> int:
    first = body[0] if body else None
    is_doc = (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
    )
    return 1 if is_doc else 0


def _may_return_none(fn: ast.FunctionDef) -> bool:
    """`-> X | None` (a check: None means it passes)."""
    returns = fn.returns
    if returns is None:
        return False
    text = returns.value if isinstance(returns, ast.Constant) else ast.unparse(returns)
    return isinstance(text, str) and text.replace(" ", "").endswith("|None")


def _raises(fn: ast.FunctionDef) -> bool:
    """`-> None` with a `raise` of its own: a check that refuses by raising."""
    returns = fn.returns
    none = isinstance(returns, ast.Constant) and returns.value in (None, "None")
    return none and any(isinstance(n, ast.Raise) for n in ast.walk(fn))


class Planter(ast.NodeTransformer):
    """Counts the places `kinds` can change, in source order (children before their parent);
    with a `target`, changes that place only."""

    def __init__(self, kinds: frozenset[str], target: int | None = None) -> None:
        self.kinds = kinds
        self.target = target
        self.places: list[tuple[int, str, str, str]] = []  # line, kind, before, after
        self.function: str | None = None

    def _offer(
        self,
        kind: str,
        node: ast.AST,
        new: ast.AST,
        before: str | None = None,
        after: str | None = None,
    ) -> ast.AST:
        if kind not in self.kinds:
            return node
        index = len(self.places)
        shown_after = after if after is not None else _short(new)
        self.places.append((getattr(node, "lineno", 0), kind, before or _short(node), shown_after))
        if index != self.target:
            return node
        return ast.copy_location(new, node)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        outer, self.function = self.function, node.name
        self.generic_visit(node)
        self.function = outer
        returned = ast.Constant(None) if _may_return_none(node) else None
        if node.name == "__init__" or (returned is None and not _raises(node)):
            return node
        skip = _docstring_length(node.body)
        early = ast.Return(value=returned)
        body = [*node.body[:skip], early, *node.body[skip:]]
        new = ast.FunctionDef(
            name=node.name,
            args=node.args,
            body=body,
            decorator_list=node.decorator_list,
            returns=node.returns,
            type_comment=node.type_comment,
        )
        first = "return None" if returned is not None else "return"
        return self._offer("return None", node, new, f"def {node.name}", f"{first} first")

    def visit_If(self, node: ast.If) -> ast.AST:
        self.generic_visit(node)
        negated = _negated(node.test)
        new = ast.If(test=negated, body=node.body, orelse=node.orelse)
        return self._offer("negate", node, new, f"if {_short(node.test)}", f"if {_short(negated)}")

    def visit_IfExp(self, node: ast.IfExp) -> ast.AST:
        self.generic_visit(node)
        new = ast.IfExp(test=_negated(node.test), body=node.body, orelse=node.orelse)
        return self._offer("negate", node, new)

    def visit_BoolOp(self, node: ast.BoolOp) -> ast.AST:
        self.generic_visit(node)
        word = "or" if isinstance(node.op, ast.Or) else "and"
        # A default (`history or ()`) is no clause of a condition.
        if any(isinstance(v, ast.Constant | ast.Tuple | ast.List | ast.Dict) for v in node.values):
            return node
        # "drop check" takes one check out of an `or` chain only; "drop clause" any clause.
        kind = "drop clause" if "drop clause" in self.kinds or word == "and" else "drop check"
        for dropped in range(len(node.values)):
            rest = [v for n, v in enumerate(node.values) if n != dropped]
            new = rest[0] if len(rest) == 1 else ast.BoolOp(op=node.op, values=rest)
            shown = f"drop the {word} clause `{_short(node.values[dropped], 40)}`"
            result = self._offer(kind, node, new, after=shown)
            if result is not node:
                return result
        return node

    def visit_Compare(self, node: ast.Compare) -> ast.AST:
        self.generic_visit(node)
        for n, op in enumerate(node.ops):
            if type(op) in BOUNDARY:
                ops = [*node.ops[:n], BOUNDARY[type(op)](), *node.ops[n + 1 :]]
                new = ast.Compare(left=node.left, ops=ops, comparators=node.comparators)
                result = self._offer("boundary", node, new)
                if result is not node:
                    return result
        if len(node.ops) != 1 or not isinstance(node.ops[0], ast.Eq | ast.NotEq):
            return node  # an integer one off in an order is the boundary moved
        values = [node.left, *node.comparators]
        for n, operand in enumerate(values):
            if isinstance(operand, ast.Constant) and _is_int(operand):
                changed = [*values[:n], _nudged(operand), *values[n + 1 :]]
                new = ast.Compare(left=changed[0], ops=node.ops, comparators=changed[1:])
                result = self._offer("off by one", node, new)
                if result is not node:
                    return result
        return node

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        self.generic_visit(node)
        for side in ("left", "right"):
            operand = getattr(node, side)
            if _is_int(operand):
                parts = {"left": node.left, "right": node.right, side: _nudged(operand)}
                new = ast.BinOp(left=parts["left"], op=node.op, right=parts["right"])
                result = self._offer("off by one", node, new)
                if result is not node:
                    return result
        return node

    def visit_AugAssign(self, node: ast.AugAssign) -> ast.AST:
        self.generic_visit(node)
        if _is_int(node.value):
            assert isinstance(node.value, ast.Constant)
            new = ast.AugAssign(target=node.target, op=node.op, value=_nudged(node.value))
            result = self._offer("off by one", node, new)
            if result is not node:
                return result
        if self._field(node.target):
            return self._offer("drop assignment", node, ast.Pass(), after="pass")
        return node

    def visit_Assign(self, node: ast.Assign) -> ast.AST:
        self.generic_visit(node)
        if all(self._field(t) for t in node.targets):
            return self._offer("drop assignment", node, ast.Pass(), after="pass")
        return node

    def _field(self, target: ast.expr) -> bool:
        """`self.name`, outside `__init__` (there every field must be set)."""
        return (
            self.function not in (None, "__init__")
            and isinstance(target, ast.Attribute)
            and isinstance(target.value, ast.Name)
            and target.value.id == "self"
        )

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        name = node.func.id if isinstance(node.func, ast.Name) else None
        if name in ("min", "max"):
            other = ast.Name(id="max" if name == "min" else "min", ctx=ast.Load())
            result = self._offer("min/max", node, ast.Call(other, node.args, node.keywords))
            if result is not node:
                return result
        called = node.func.attr if isinstance(node.func, ast.Attribute) else name
        if called in CALENDAR and len(node.args) >= 2:
            args = [node.args[0], _plus_one(node.args[1]), *node.args[2:]]
            result = self._offer("shift", node, ast.Call(node.func, args, node.keywords))
            if result is not node:
                return result
        for n, keyword in enumerate(node.keywords):
            value = keyword.value
            if keyword.arg in SPANS and not _is_int(value):
                changed = ast.keyword(arg=keyword.arg, value=_plus_one(value))
                kind = "shift"
            elif (
                keyword.arg == "fold" and isinstance(value, ast.Constant) and value.value in (0, 1)
            ):
                changed = ast.keyword(arg="fold", value=ast.Constant(1 - value.value))
                kind = "fold"
            else:
                continue
            keywords = [*node.keywords[:n], changed, *node.keywords[n + 1 :]]
            new = ast.Call(node.func, node.args, keywords)
            result = self._offer(kind, node, new, _short(keyword), _short(changed))
            if result is not node:
                return result
        return node

    def visit_Subscript(self, node: ast.Subscript) -> ast.AST:
        self.generic_visit(node)
        index = node.slice
        first = _is_int(index) and isinstance(index, ast.Constant) and index.value == 0
        last = (
            isinstance(index, ast.UnaryOp)
            and isinstance(index.op, ast.USub)
            and isinstance(index.operand, ast.Constant)
            and index.operand.value == 1
        )
        if not (first or last):
            return node
        other: ast.expr = (
            ast.UnaryOp(op=ast.USub(), operand=ast.Constant(1)) if first else ast.Constant(0)
        )
        return self._offer("first/last", node, ast.Subscript(node.value, other, node.ctx))


def fingerprint(code: types.CodeType) -> tuple[object, ...]:
    """What a code object does, without where its lines are."""
    consts = tuple(
        fingerprint(c) if isinstance(c, types.CodeType) else (type(c).__name__, repr(c))
        for c in code.co_consts
    )
    return (code.co_code, code.co_names, code.co_varnames, code.co_freevars, consts)


def compiled_as(source: str, path: str) -> tuple[object, ...]:
    return fingerprint(compile(source, path, "exec", dont_inherit=True))


def plant(text: str, kinds: frozenset[str], index: int) -> str:
    """The module `text` with its place number `index` changed."""
    planter = Planter(kinds, index)
    tree = ast.fix_missing_locations(planter.visit(ast.parse(text)))
    return ast.unparse(tree) + "\n"


def file_mutants(
    area: str, path: str, kinds: frozenset[str], text: str
) -> Iterator[tuple[Mutant, str]]:
    """Every mutant of the module `text` (at `path`, in `area`) with its source, in order."""
    counter = Planter(kinds)
    counter.visit(ast.parse(text))
    seen = {compiled_as(ast.unparse(ast.parse(text)), path)}
    for index, (line, kind, before, after) in enumerate(counter.places):
        source = plant(text, kinds, index)
        compiled = compiled_as(source, path)
        if compiled in seen:  # the original's code, or another mutant's
            continue
        seen.add(compiled)
        yield Mutant(area, path, line, kind, before, after, index), source
