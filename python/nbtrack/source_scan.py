"""What a cell's source says about the names it uses: mentioned, mutated, bound, configured.

:func:`scan` reads a cell's source (IPython magics allowed) with :mod:`ast` and answers, cached
per source string, which names the cell

* mentions (the names worth fingerprinting around it),
* mutates in place by its syntax (``xs.append(1)``, ``df["c"] = 1``, ``arr += 1``),
* configures: binds at its top level only by a plain assignment of a literal (``lr = 0.01``,
  ``epochs = 3 * 10``, ``name = "resnet"``, ``use_bn = True``, and ``a, b = 1, 2``), and
* binds in any other way (loop targets, ``with ... as``, imports, definitions, computed
  results, assignments nested in a block, ``+=``).

:func:`code_globals` reads a function's compiled code for the global names it rebinds
(``global best; best = ...``) and the global names it reads (the functions it may call).

Only the standard library is imported: it runs in the user's kernel around every cell.
"""

from __future__ import annotations

import ast
import collections
import dis
import re
import types
import warnings
from typing import NamedTuple

__all__ = ["EMPTY_SCAN", "MAX_SOURCE", "CodeGlobals", "Scan", "code_globals", "is_literal", "scan"]

#: Cell sources longer than this are only scanned in their first part.
MAX_SOURCE = 100_000


class Scan(NamedTuple):
    """What :func:`scan` found in one cell's source."""

    mentioned: tuple[str, ...]  # sorted, for a deterministic cap
    touched: frozenset[str]  # mutated in place by the source's syntax
    config: frozenset[str] = frozenset()  # bound only by top-level literal assignments
    bound: frozenset[str] = frozenset()  # bound in any other way


EMPTY_SCAN = Scan((), frozenset())
_SCAN_CACHE: collections.OrderedDict[str, Scan] = collections.OrderedDict()
_SCAN_CACHE_SIZE = 256


#: Methods that mutate their object in place (lists, dicts, sets, arrays, estimators, models).
# fmt: off
_MUTATORS = frozenset({
    "append", "extend", "insert", "pop", "remove", "clear", "sort", "reverse", "update", "add",
    "discard", "setdefault", "popitem", "appendleft", "extendleft", "popleft", "rotate",
    "fill", "resize", "itemset", "put", "partition", "setflags", "byteswap",
    "fit", "partial_fit", "fit_transform", "fit_predict", "train", "eval", "load_state_dict",
    "set_params",
})
# fmt: on
#: Functions that mutate their first argument in place (random.shuffle, np.copyto...).
_ARG_MUTATORS = frozenset({"shuffle", "copyto", "fill_diagonal", "putmask", "place"})

_IDENT_RE = re.compile(r"[^\W\d]\w*")
_AUGASSIGN_RE = re.compile(
    r"^[ \t]*([^\W\d]\w*)\s*(?:[.\[][^=\n]*)?(?:\*\*|//|<<|>>|[-+*/%@&|^])=", re.MULTILINE
)
_MAGIC_LINE_RE = re.compile(r"^([ \t]*)(?:[%!].*|[^#\n]*\?)$")
_LINE_MAGIC_RE = re.compile(r"^[ \t]*%[\w.]+[ \t]+(.*)$")  # "%time x = f()" -> "x = f()"
_MAGIC_ASSIGN_RE = re.compile(r"^([ \t]*[^\W\d][\w., \t]*?)=[ \t]*[%!].*$")


def _root_name(node: ast.AST) -> str | None:
    """``df`` for ``df``, ``df.loc[0]``, ``model.layer.weight``; None through calls."""
    while True:
        if isinstance(node, ast.Name):
            return node.id
        if isinstance(node, (ast.Attribute, ast.Subscript)):
            node = node.value
        else:
            return None


def _without_magics(source: str) -> str:
    """The source as Python: a cell magic's first line dropped, ``%time x = f()`` turned into
    ``x = f()``, other magics, shell escapes and ``obj?`` help lines into ``pass``."""
    body = source.lstrip()
    if body.startswith("%%"):  # a cell magic: its body may be Python (%%time) or not (%%bash)
        source = body.partition("\n")[2]
    lines = []
    for line in source.splitlines():
        assign = _MAGIC_ASSIGN_RE.match(line)  # files = !ls   /   t = %timeit -o f()
        if assign:
            lines.append(assign.group(1) + "= None")
            continue
        magic = _MAGIC_LINE_RE.match(line)
        if not magic:
            lines.append(line)
            continue
        indent, rest = magic.group(1), _LINE_MAGIC_RE.match(line)
        code = rest.group(1) if rest else ""
        try:
            ast.parse(code)
        except (SyntaxError, ValueError):
            code = ""
        lines.append(indent + (code or "pass"))
    return "\n".join(lines)


def _parse(source: str) -> ast.AST | None:
    if "\\" in source:  # an invalid escape ("\d") would warn into the user's output again
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return _parse_python(source)
    return _parse_python(source)


def _parse_python(source: str) -> ast.AST | None:
    for text in (source, _without_magics(source)):
        try:
            return ast.parse(text)
        except (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError):
            continue
    return None


_LITERAL_TYPES = (int, float, str, bool)
_STORE_CTX = (ast.Store, ast.Del)


def is_literal(node: ast.AST) -> bool:
    """Whether an expression is a literal number, string or bool, or arithmetic of them
    (``0.01``, ``-1``, ``3 * 10``, ``2 ** -4``, ``"res" + "net"``)."""
    kind = type(node)
    if kind is ast.Constant:
        return type(node.value) in _LITERAL_TYPES  # type: ignore[attr-defined]
    if kind is ast.UnaryOp:
        return type(node.op) in (ast.USub, ast.UAdd) and is_literal(node.operand)  # type: ignore[attr-defined]
    if kind is ast.BinOp:
        return is_literal(node.left) and is_literal(node.right)  # type: ignore[attr-defined]
    return False


def _literal_targets(statement: ast.stmt) -> list[ast.Name]:
    """The names a top-level statement binds to literals: ``lr = 0.01``, ``a = b = 1``,
    ``lr: float = 0.01`` and ``a, b = 1, 2`` (each name to its own literal)."""
    targets: list[ast.expr]
    if isinstance(statement, ast.Assign):
        value, targets = statement.value, statement.targets
    elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
        value, targets = statement.value, [statement.target]
    else:
        return []
    names: list[ast.Name] = []
    for target in targets:
        if isinstance(target, ast.Name) and is_literal(value):
            names.append(target)
        elif (
            isinstance(target, (ast.Tuple, ast.List))
            and isinstance(value, (ast.Tuple, ast.List))
            and len(target.elts) == len(value.elts)
        ):
            for name, item in zip(target.elts, value.elts):
                if isinstance(name, ast.Name) and is_literal(item):
                    names.append(name)
    return names


def _definition_names(node: ast.AST) -> list[str]:
    """Names bound by statements other than assignments: def, class, import, except, match."""
    kind = type(node)
    if kind in (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef):
        return [node.name]  # type: ignore[attr-defined]
    if kind is ast.Import or kind is ast.ImportFrom:
        return [
            alias.asname or alias.name.partition(".")[0]
            for alias in node.names  # type: ignore[attr-defined]
            if alias.name != "*"
        ]
    if kind is ast.ExceptHandler or kind is ast.MatchAs or kind is ast.MatchStar:
        name = node.name  # type: ignore[attr-defined]
        return [name] if name else []
    if kind is ast.MatchMapping:
        rest = node.rest  # type: ignore[attr-defined]
        return [rest] if rest else []
    return []


def _scan_tree(tree: ast.AST) -> Scan:
    mentioned: set[str] = set()
    touched: set[str] = set()
    for node in ast.walk(tree):
        kind = type(node)
        if kind is ast.Name:
            mentioned.add(node.id)  # type: ignore[attr-defined]
            continue
        root = None
        if kind is ast.AugAssign:
            root = _root_name(node.target)  # type: ignore[attr-defined]
        elif kind is ast.Subscript or kind is ast.Attribute:
            if type(node.ctx) is not ast.Load:  # type: ignore[attr-defined]
                root = _root_name(node.value)  # type: ignore[attr-defined]
        elif kind is ast.Call:
            func = node.func  # type: ignore[attr-defined]
            attr = func.attr if type(func) is ast.Attribute else None
            if attr is not None and (
                attr in _MUTATORS
                or (attr.endswith("_") and not attr.startswith("_"))  # torch: x.add_(1)
                or any(kw.arg == "inplace" for kw in node.keywords)  # type: ignore[attr-defined]
            ):
                root = _root_name(func.value)
            called = attr if attr is not None else getattr(func, "id", None)
            if called in _ARG_MUTATORS and node.args:  # type: ignore[attr-defined]
                root = _root_name(node.args[0]) or root  # type: ignore[attr-defined]
        if root is not None:
            touched.add(root)
    configured, bound = _bindings(tree)
    return Scan(tuple(sorted(mentioned)), frozenset(touched), configured, bound)


_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


def _bindings(tree: ast.AST) -> tuple[frozenset[str], frozenset[str]]:
    """``(configured, bound)``: the names the cell binds in the namespace only by top-level
    literal assignments, and those it binds in any other way.

    Names local to a function, a class body, a lambda or a comprehension are not the
    namespace's (``def f(): lr = 1`` leaves a global ``lr`` alone), except ``global`` ones
    and walrus targets in comprehensions, which are.
    """
    body = getattr(tree, "body", ())
    literal = {id(name) for statement in body for name in _literal_targets(statement)}
    configured: set[str] = set()
    bound: set[str] = set()
    stack: list[ast.AST] = list(body)
    while stack:
        node = stack.pop()
        kind = type(node)
        if kind is ast.Name:
            if type(node.ctx) in _STORE_CTX:  # type: ignore[attr-defined]
                (configured if id(node) in literal else bound).add(node.id)  # type: ignore[attr-defined]
            continue
        if kind in _SCOPES or kind in _COMPREHENSIONS:
            bound.update(_definition_names(node))
            for inner in ast.walk(node):
                if isinstance(inner, ast.Global):
                    bound.update(inner.names)
                elif isinstance(inner, ast.NamedExpr) and kind in _COMPREHENSIONS:
                    bound.add(inner.target.id)
            # Decorators, defaults, base classes and the first iterable run in this scope.
            if kind is not ast.Lambda and kind not in _COMPREHENSIONS:
                stack.extend(node.decorator_list)  # type: ignore[attr-defined]
            continue
        bound.update(_definition_names(node))
        stack.extend(ast.iter_child_nodes(node))
    # Configuration only when every binding in the cell is a literal one: `lr = 0.1` and
    # then `for lr in grid:` in the same cell leaves a loop variable.
    return frozenset(configured - bound), frozenset(bound)


def _scan_text(source: str) -> Scan:
    """Fallback for what ``ast`` cannot parse (cell magics): every identifier-like word."""
    mentioned = set(_IDENT_RE.findall(source))
    touched = frozenset(_AUGASSIGN_RE.findall(source))
    return Scan(tuple(sorted(mentioned)), touched)


def scan(source: str) -> Scan:
    """The names a cell's source mentions and mutates; cached per source string."""
    cached = _SCAN_CACHE.get(source)
    if cached is not None:
        _SCAN_CACHE.move_to_end(source)
        return cached
    text = source[:MAX_SOURCE]
    tree = _parse(text)
    scan = _scan_tree(tree) if tree is not None else _scan_text(text)
    if len(source) <= MAX_SOURCE:  # re-runs of the same cell are the common case
        _SCAN_CACHE[source] = scan
        if len(_SCAN_CACHE) > _SCAN_CACHE_SIZE:
            _SCAN_CACHE.popitem(last=False)
    return scan




# --------------------------------------------------------------------------------------------
# What a function's code does to its module's globals
# --------------------------------------------------------------------------------------------


class CodeGlobals(NamedTuple):
    """The global names a code object (and the functions nested in it) rebinds and reads."""

    stored: frozenset[str]  # STORE_GLOBAL / DELETE_GLOBAL: `global best; best = ...`
    loaded: frozenset[str]  # LOAD_GLOBAL: the functions it may call, among others


_CODE_CACHE: dict[types.CodeType, CodeGlobals] = {}
_CODE_CACHE_SIZE = 1024


def code_globals(code: types.CodeType) -> CodeGlobals:
    """The globals ``code`` rebinds and reads, read from its bytecode once per code object."""
    found = _CODE_CACHE.get(code)
    if found is not None:
        return found
    stored: set[str] = set()
    loaded: set[str] = set()
    todo = [code]
    while todo:
        current = todo.pop()
        for instruction in dis.get_instructions(current):
            name = instruction.opname
            if name == "STORE_GLOBAL" or name == "DELETE_GLOBAL":
                stored.add(instruction.argval)
            elif name == "LOAD_GLOBAL":
                loaded.add(instruction.argval)
        todo.extend(const for const in current.co_consts if isinstance(const, types.CodeType))
    found = CodeGlobals(frozenset(stored), frozenset(loaded))
    if len(_CODE_CACHE) >= _CODE_CACHE_SIZE:  # functions redefined in every cell run
        _CODE_CACHE.clear()
    _CODE_CACHE[code] = found
    return found
