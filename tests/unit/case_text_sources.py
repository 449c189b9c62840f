"""The texts the case page shows, read out of the code by its syntax tree (no import, nothing run):
the timeline notes every workflow writes (`note(on, what, ...)`), the rule strings they give, the
RULE_* constants of policy/, and the keys of each kind's `details()`. test_case_texts.py compares
them with console/service/case_texts.py, which must read each one in Chinese.

A note or rule is reduced to its pattern: the f-string's literal text with `{}` where a value goes
(the form of case_texts' keys). A text built of parts — a
conditional suffix, a variable assigned an f-string, a parameter its callers pass — yields every
combination it can take."""

from __future__ import annotations

import ast
import itertools
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((ROOT / "workflows").glob("*.py"))
POLICY = sorted((ROOT / "policy").glob("*.py"))


def _parents(tree: ast.AST) -> dict[ast.AST, ast.AST]:
    return {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}


def _function_of(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> ast.AST | None:
    while node in parents:
        node = parents[node]
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return node
    return None


def _assigned(name: str, scope: ast.AST) -> list[ast.expr]:
    """The values `name` is assigned in `scope` (plain and tuple assignments)."""
    values: list[ast.expr] = []
    for node in ast.walk(scope):
        if not isinstance(node, ast.Assign):
            continue
        for target in node.targets:
            if isinstance(target, ast.Name) and target.id == name:
                values.append(node.value)
            elif isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple):
                for t, v in zip(target.elts, node.value.elts, strict=False):
                    if isinstance(t, ast.Name) and t.id == name:
                        values.append(v)
    return values


def _passed(function: ast.FunctionDef | ast.AsyncFunctionDef, name: str, trees: list[ast.Module]) -> list[ast.expr]:
    """What callers of `function` pass for its parameter `name` (positionally or by keyword)."""
    position = [a.arg for a in function.args.args].index(name)
    values: list[ast.expr] = []
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == function.name:
                values += [k.value for k in node.keywords if k.arg == name]
                # A method called on an object (`self.refuse(on, ev, what)`) is not passed `self`.
                at = position - 1 if isinstance(node.func, ast.Attribute) and function.args.args[0].arg == "self" else position
                if len(node.args) > at:
                    values.append(node.args[at])
    return values


def patterns(expr: ast.expr, scope: ast.AST | None, trees: list[ast.Module]) -> Iterator[str]:
    """Every pattern the str expression `expr` can take; `{}` for a value, `{?}` for what the
    syntax cannot tell (the test reports those)."""
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        yield expr.value
    elif isinstance(expr, ast.JoinedStr):
        yield "".join(str(v.value) if isinstance(v, ast.Constant) else "{}" for v in expr.values)
    elif isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
        for left, right in itertools.product(patterns(expr.left, scope, trees), patterns(expr.right, scope, trees)):
            yield left + right
    elif isinstance(expr, ast.IfExp):
        yield from patterns(expr.body, scope, trees)
        yield from patterns(expr.orelse, scope, trees)
    elif isinstance(expr, ast.Name) and scope is not None:
        values = _assigned(expr.id, scope)
        if not values and isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)) and expr.id in [a.arg for a in scope.args.args]:
            values = _passed(scope, expr.id, trees)
        if not values:
            yield "{?}"
        for value in values:
            yield from patterns(value, scope, trees)
    else:
        yield "{?}"


def _trees(paths: list[Path]) -> list[tuple[Path, ast.Module]]:
    return [(p, ast.parse(p.read_text(encoding="utf-8"))) for p in paths]


def notes() -> dict[str, str]:
    """pattern -> where it is written ("workflows/x.py:12"), for every `.note(on, what, ...)`."""
    found: dict[str, str] = {}
    trees = _trees(WORKFLOWS)
    modules = [t for _, t in trees]
    for path, tree in trees:
        parents = _parents(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "note":
                what = node.args[1] if len(node.args) > 1 else next((k.value for k in node.keywords if k.arg == "what"), None)
                if what is None:
                    continue
                for pattern in patterns(what, _function_of(node, parents), modules):
                    found.setdefault(pattern, f"workflows/{path.name}:{node.lineno}")
    return found


def rules() -> dict[str, str]:
    """pattern -> where, for every RULE_* constant of policy/ and workflows/, every str or f-string
    a workflow passes as `rule=` (a lambda's body included), and what each `*_rule` function returns."""
    found: dict[str, str] = {}
    trees = _trees(POLICY + WORKFLOWS)
    modules = [t for _, t in trees]
    for path, tree in trees:
        where = f"{path.parent.name}/{path.name}"
        parents = _parents(tree)
        for node in ast.walk(tree):
            exprs: list[ast.expr] = []
            if (isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id.startswith("RULE_") for t in node.targets)
                    and isinstance(node.value, (ast.Constant, ast.JoinedStr, ast.BinOp, ast.IfExp))):
                exprs.append(node.value)  # (RULE_X = module.RULE_X names one already found)
            elif isinstance(node, ast.keyword) and node.arg == "rule" and path.parent.name == "workflows":
                value = node.value.body if isinstance(node.value, ast.Lambda) else node.value
                if isinstance(value, (ast.Constant, ast.JoinedStr, ast.BinOp, ast.IfExp)):
                    exprs.append(value)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.endswith("_rule"):
                exprs += [r.value for r in ast.walk(node) if isinstance(r, ast.Return) and r.value is not None
                          and isinstance(r.value, (ast.Constant, ast.JoinedStr, ast.BinOp, ast.IfExp))]
            for expr in exprs:
                for pattern in patterns(expr, _function_of(expr, parents), modules):
                    # A whole rule that is a call or a name (`self.lump_rule()`, `internship.RULE_MONTH`)
                    # is one of the constants or *_rule functions this scan reads where they are written.
                    if pattern != "{?}":
                        found.setdefault(pattern, f"{where}:{getattr(expr, 'lineno', 0)}")
    return found


def detail_keys() -> dict[str, str]:
    """key -> where, for every str key of a dict literal in a workflow's `details()` (the case's
    facts on its page) or in the arguments of a `raise_task(...)` call (the task's facts)."""
    found: dict[str, str] = {}
    for path, tree in _trees(WORKFLOWS):
        for node in ast.walk(tree):
            if ((isinstance(node, ast.FunctionDef) and node.name == "details")
                    or (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "raise_task")):
                for d in ast.walk(node):
                    if isinstance(d, ast.Dict):
                        for k in d.keys:
                            if isinstance(k, ast.Constant) and isinstance(k.value, str):
                                found.setdefault(k.value, f"workflows/{path.name}:{k.lineno}")
    return found
