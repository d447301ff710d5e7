"""What a cell did to the user's namespace, the run's scalar params, and the environment.

Everything here is called from the user's kernel, most of it around every cell execution, so
it is written to be cheap and to never raise. It knows nothing of Jupyter: it imports only the
standard library, and treats numpy, pandas and torch objects by duck typing (their modules are
looked up in ``sys.modules`` when an object of theirs is already in hand, never imported).

Public API: :func:`is_secret`, :func:`redacted`, :func:`describe`, :class:`NamespaceWatcher`,
:class:`ConfigNames`, :func:`scalar_params` and :func:`environment`.
"""

from __future__ import annotations

import collections
import functools
import itertools
import re
import reprlib
import sys
import types
from collections.abc import Callable, Collection, Mapping
from operator import itemgetter
from typing import NamedTuple

from .environment import MAX_DIFF_BYTES, environment  # re-exported: part of this API
from .model import VariableChange
from .source_scan import EMPTY_SCAN, code_globals, scan

__all__ = [
    "MAX_DIFF_BYTES", "REDACTED", "ConfigNames", "NamespaceWatcher", "describe", "environment",
    "is_secret", "redacted", "scalar_params",
]

#: Names IPython puts in the user namespace that are never the user's variables.
IPYTHON_NAMES = frozenset({"In", "Out", "exit", "quit", "get_ipython"})
#: Longest repr kept in a :class:`VariableChange`, and longest str kept as a value.
MAX_REPR = 200
MAX_STR_VALUE = 200
#: At most this many names that a cell's source mentions are fingerprinted per cell.
MAX_WATCHED = 256
#: Up to this many visible names, every value's id is compared around each cell.
MAX_COMPARED = 256
#: At most this many of the notebook's functions are followed per cell for their globals.
MAX_FUNCTIONS = 64

_INT64 = (-(2**63), 2**63 - 1)
_MISSING = object()

# --------------------------------------------------------------------------------------------
# Secrets
# --------------------------------------------------------------------------------------------

_SECRET_RE = re.compile(r"token|password|passwd|secret|api_?key|credential|private_?key")
# "token" is also the unit LLM work is counted in: names such as ``tokenizer``, ``max_tokens``,
# ``max_new_tokens`` or ``tokens_per_second`` are ordinary params, not secrets, so those
# spellings are blanked out before the secret patterns are tried.
_BENIGN_TOKEN_RE = re.compile(
    r"tokeni[sz]"
    r"|(?<![a-z])(?:max|min|num|n|count|total|len|size|limit|budget)(?:_?new)?_?tokens?"
    r"|tokens?_?(?:count|len|length|size|limit|budget|per)(?![a-z])"
)


def is_secret(name: str) -> bool:
    """Whether a variable name looks like it holds a secret (case-insensitive).

    Matches names containing ``token``, ``password``, ``passwd``, ``secret``, ``api_key`` /
    ``apikey``, ``credential`` or ``private_key``; counts and tools named after LLM tokens
    (``tokenizer``, ``max_tokens``, ``num_tokens``, ``tokens_per_second``) are not secrets.

    Examples
    --------
    >>> is_secret("OPENAI_API_KEY"), is_secret("hf_token"), is_secret("max_new_tokens")
    (True, True, False)
    """
    lowered = str(name).lower()
    if "token" in lowered:
        lowered = _BENIGN_TOKEN_RE.sub(" ", lowered)
    return _SECRET_RE.search(lowered) is not None


#: What a secret-looking variable's value is recorded as.
REDACTED = "<redacted>"


def redacted(name: str, value: object) -> object:
    """``value``, or :data:`REDACTED` when ``name`` looks like it holds a secret."""
    return REDACTED if is_secret(name) else value


# --------------------------------------------------------------------------------------------
# Type facts, cached per type
# --------------------------------------------------------------------------------------------

_SCALAR_TYPES = (bool, int, float, str)
_SIZED_TYPES = (list, tuple, dict, set, frozenset, str, bytes, bytearray, range, collections.deque)
_BIG_CONTAINERS = (dict, list, tuple, set, frozenset, collections.deque)
_OPAQUE_TYPES = (
    types.ModuleType,
    type,
    types.FunctionType,
    types.BuiltinFunctionType,
    types.MethodType,
    functools.partial,
)
_MAX_CACHED_TYPES = 1024

# Fingerprint kinds.
_SCALAR, _SIZED, _SHAPED, _OBJECT, _OPAQUE = range(5)
_MUTABLE_KINDS = (_SIZED, _SHAPED, _OBJECT)


class _TypeInfo(NamedTuple):
    name: str
    kind: int
    has_shape: bool
    has_dtype: bool
    numpy_scalar: bool
    numpy_array: bool
    pandas_frame: bool


_TYPE_INFO: dict[type, _TypeInfo] = {}


def _class_has(tp: type, attr: str) -> bool:
    # Look in the class dicts, not getattr: no metaclass or lazy-module __getattr__ runs.
    return any(attr in vars(klass) for klass in tp.__mro__)


def _qualified_name(tp: type) -> str:
    """``int``, ``numpy.ndarray``, ``pandas.DataFrame``, ``torch.nn.Linear``, ``Foo``."""
    module = getattr(tp, "__module__", None) or ""
    qualname = str(getattr(tp, "__qualname__", None) or getattr(tp, "__name__", "?"))
    qualname = qualname.rpartition("<locals>.")[2]  # a class defined inside a function
    if module in ("builtins", "__main__"):
        return qualname
    parts = module.split(".")
    if "." not in qualname:
        # The shortest public path that exports the class: pandas.core.frame -> pandas.
        for end in range(1, len(parts)):
            mod = sys.modules.get(".".join(parts[:end]))
            if mod is not None and vars(mod).get(qualname) is tp:
                return f"{'.'.join(parts[:end])}.{qualname}"
    return f"{module}.{qualname}"


def _from_module(tp: type, module: str, name: str) -> bool:
    return any(
        klass.__name__ == name and getattr(klass, "__module__", "").startswith(module)
        for klass in tp.__mro__
    )


def _type_info(tp: type) -> _TypeInfo:
    info = _TYPE_INFO.get(tp)
    if info is not None:
        return info
    has_shape = _class_has(tp, "shape")
    if tp in (bool, int, float, complex, str, bytes, type(None)):
        kind = _SCALAR
    elif issubclass(tp, _SIZED_TYPES):
        kind = _SIZED
    elif issubclass(tp, _OPAQUE_TYPES):
        kind = _OPAQUE
    elif has_shape:
        kind = _SHAPED
    elif getattr(tp, "__dictoffset__", 0):
        kind = _OBJECT
    else:
        kind = _OPAQUE
    info = _TypeInfo(
        name=_qualified_name(tp),
        kind=kind,
        has_shape=has_shape,
        has_dtype=_class_has(tp, "dtype"),
        numpy_scalar=_from_module(tp, "numpy", "generic"),
        numpy_array=_from_module(tp, "numpy", "ndarray"),
        pandas_frame=_from_module(tp, "pandas", "DataFrame"),
    )
    if len(_TYPE_INFO) >= _MAX_CACHED_TYPES:  # classes redefined in every cell run
        _TYPE_INFO.clear()
    _TYPE_INFO[tp] = info
    return info


def _fingerprint(value: object) -> tuple[object, ...]:
    """A cheap summary that changes when an object is mutated in the common ways.

    Immutable scalars by value; builtin containers by length; arrays and frames by shape;
    other instances by the number of their attributes (``model.fit`` adds ``coef_``).
    Never hashes or copies contents.
    """
    tp = type(value)
    try:
        kind = _type_info(tp).kind
        if kind == _SCALAR:
            if tp in (str, bytes) and len(value) > 1024:  # type: ignore[arg-type]
                return (tp, len(value))  # type: ignore[arg-type]
            return (tp, value)
        if kind == _SIZED:
            return (tp, len(value))  # type: ignore[arg-type]
        if kind == _SHAPED:
            return (tp, value.shape)  # type: ignore[attr-defined]
        if kind == _OBJECT:
            return (tp, len(value.__dict__))
    except Exception:  # noqa: BLE001 - a broken __len__/shape: fall back to the type alone
        return (tp,)
    return (tp,)


# --------------------------------------------------------------------------------------------
# describe()
# --------------------------------------------------------------------------------------------


class _BoundedRepr(reprlib.Repr):
    """reprlib with small limits that never sorts or walks a whole container."""

    def __init__(self) -> None:
        super().__init__()
        self.maxlevel = 3
        self.maxtuple = self.maxlist = self.maxarray = self.maxdeque = 12
        self.maxdict = 8
        self.maxset = self.maxfrozenset = 12
        self.maxstring = MAX_REPR
        self.maxlong = 60
        self.maxother = MAX_REPR

    def _items(self, x: Collection[object], level: int, limit: int, left: str, right: str) -> str:
        if len(x) == 0:
            return left + right
        if level <= 0:
            return f"{left}...{right}"
        parts = [self.repr1(item, level - 1) for item in itertools.islice(x, limit)]
        if len(x) > limit:
            parts.append("...")
        return left + ", ".join(parts) + right

    def repr_dict(self, x: dict[object, object], level: int) -> str:
        if not x:
            return "{}"
        if level <= 0:
            return "{...}"
        parts = [
            f"{self.repr1(key, level - 1)}: {self.repr1(val, level - 1)}"
            for key, val in itertools.islice(dict.items(x), self.maxdict)
        ]
        if len(x) > self.maxdict:
            parts.append("...")
        return "{" + ", ".join(parts) + "}"

    def repr_set(self, x: set[object], level: int) -> str:
        return self._items(x, level, self.maxset, "{", "}") if x else "set()"

    def repr_frozenset(self, x: frozenset[object], level: int) -> str:
        inner = self._items(x, level, self.maxfrozenset, "{", "}") if x else ""
        return f"frozenset({inner})"

    def repr_int(self, x: int, level: int) -> str:
        if x.bit_length() > 512:  # str() of a huge int is quadratic (and capped by Python)
            return f"<int of {x.bit_length()} bits>"
        return super().repr_int(x, level)

    def repr_instance(self, x: object, level: int) -> str:
        # Subclasses of builtin containers (Counter, OrderedDict, defaultdict, user lists)
        # would repr every element; show them like their base, bounded.
        if isinstance(x, _BIG_CONTAINERS) and len(x) > 12:
            name = type(x).__name__
            if isinstance(x, dict):
                return f"{name}({self.repr_dict(x, level)})"
            if isinstance(x, (set, frozenset)):
                return f"{name}({self._items(x, level, self.maxset, '{', '}')})"
            return f"{name}({self._items(x, level, self.maxlist, '[', ']')})"
        try:
            text = repr(x)
        except Exception:  # user __repr__ may raise anything
            if level >= self.maxlevel:
                raise  # the variable itself: describe() says "<unrepresentable TYPE>"
            return f"<unrepresentable {type(x).__name__}>"
        return text if len(text) <= self.maxother else text[: self.maxother - 3] + "..."


_REPR = _BoundedRepr()


def _bounded_repr(value: object, info: _TypeInfo) -> str:
    try:
        if info.numpy_array:
            np = sys.modules.get("numpy")
            if np is not None:
                # Summarize from 50 elements on, whatever the user's print options say.
                with np.printoptions(threshold=50, edgeitems=3, linewidth=MAX_REPR):
                    text = repr(value)
            else:  # pragma: no cover - an ndarray without numpy loaded cannot happen
                text = repr(value)
        elif info.pandas_frame:
            # pandas renders a whole table (milliseconds) to show one line of it: summarize.
            columns = value.columns  # type: ignore[attr-defined]
            rows, ncols = value.shape  # type: ignore[attr-defined]
            text = f"{type(value).__name__} with {rows} rows x {ncols} columns: " + _REPR._items(
                columns, 1, 12, "[", "]"
            )
        else:
            text = _REPR.repr(value)
        if not isinstance(text, str):
            raise TypeError("repr did not return a str")
    except Exception:  # noqa: BLE001 - user __repr__ may raise anything
        return f"<unrepresentable {info.name}>"
    if len(text) > MAX_REPR:
        text = text[: MAX_REPR - 3] + "..."
    return text


def _plain_scalar(value: object, info: _TypeInfo | None = None) -> object:
    """``value`` as a JSON-ready int/float/bool/str if it is a small scalar, else ``_MISSING``."""
    tp = type(value)
    if tp not in _SCALAR_TYPES:
        info = info or _type_info(tp)
        if not info.numpy_scalar:
            return _MISSING
        try:
            value = value.item()  # type: ignore[attr-defined]
        except Exception:  # noqa: BLE001 - duck-typed
            return _MISSING
        tp = type(value)
        if tp not in _SCALAR_TYPES:  # datetime64, complex, void...
            return _MISSING
    if tp is int and not _INT64[0] <= value <= _INT64[1]:  # type: ignore[operator]
        return _MISSING
    if tp is str and len(value) > MAX_STR_VALUE:  # type: ignore[arg-type]
        return _MISSING
    return value


def _shape(value: object, info: _TypeInfo) -> str | None:
    if not info.has_shape:
        return None
    try:
        shape = value.shape  # type: ignore[attr-defined]
        if isinstance(shape, tuple) and all(
            isinstance(dim, int) and not isinstance(dim, bool) for dim in shape
        ):
            return str(tuple(shape))
    except Exception:  # noqa: BLE001 - duck-typed: a property may raise anything
        return None
    return None


def _dtype(value: object, info: _TypeInfo) -> str | None:
    if not info.has_dtype:
        return None
    try:
        dtype = value.dtype  # type: ignore[attr-defined]
        return None if dtype is None else str(dtype)[:100]
    except Exception:  # noqa: BLE001 - duck-typed: a property may raise anything
        return None


def _length(value: object) -> int | None:
    if not isinstance(value, _SIZED_TYPES):
        return None
    try:
        return len(value)
    except Exception:  # noqa: BLE001 - e.g. range(10**30), or a subclass's __len__
        return None


def describe(name: str, value: object, change: str) -> VariableChange:
    """Summarize one variable cheaply for the cell's variables list.

    Parameters
    ----------
    name, value
        The variable.
    change
        ``"added"``, ``"changed"`` or ``"deleted"``; copied into the record.

    Returns
    -------
    VariableChange
        Type name (``"numpy.ndarray"``), shape (``"(100, 3)"``), dtype, length (builtin
        containers only), a repr of at most 200 characters built without walking big
        containers, and ``value`` for small scalars. A secret-looking name gets the repr
        ``"<redacted>"`` and no value or length. Never raises.
    """
    try:
        tp = type(value)
        info = _type_info(tp)
        secret = is_secret(name)
        scalar = _MISSING if secret else _plain_scalar(value, info)
        return {
            "name": str(name),
            "change": change,  # type: ignore[typeddict-item]
            "type": info.name,
            "shape": _shape(value, info),
            "dtype": _dtype(value, info),
            "length": None if secret else _length(value),
            "repr": REDACTED if secret else _bounded_repr(value, info),
            "value": None if scalar is _MISSING else scalar,  # type: ignore[typeddict-item]
        }
    except Exception:  # noqa: BLE001 - a hostile object; the record must still be well-formed
        return _record(str(name), change, "?", "<unrepresentable>")


def _record(name: str, change: str, type_name: str, text: str) -> VariableChange:
    return {
        "name": name,
        "change": change,  # type: ignore[typeddict-item]
        "type": type_name,
        "shape": None,
        "dtype": None,
        "length": None,
        "repr": text,
        "value": None,
    }


def _rebound_by(functions: list[types.FunctionType], ns: Mapping[str, object]) -> set[str]:
    """The globals of ``ns`` that these functions, and the functions of ``ns`` they call,
    may rebind (``global best; best = ...``); functions of other modules are not followed."""
    rebound: set[str] = set()
    seen: set[int] = set()
    todo = list(functions)
    while todo and len(seen) < MAX_FUNCTIONS:
        function = todo.pop()
        if id(function) in seen or function.__globals__ is not ns:
            continue
        seen.add(id(function))
        found = code_globals(function.__code__)
        rebound.update(found.stored)
        for name in found.loaded:
            value = ns.get(name)
            if type(value) is types.FunctionType and id(value) not in seen:
                todo.append(value)
    return rebound


def _differing(old: list[int], new: list[int]) -> list[int]:
    """Indices where two equally long lists differ, halving so equal runs compare in C."""
    if old == new:
        return []
    found: list[int] = []
    stack = [(0, len(old))]
    while stack:
        lo, hi = stack.pop()
        if hi - lo <= 8:
            found.extend(i for i in range(lo, hi) if old[i] != new[i])
        elif old[lo:hi] != new[lo:hi]:
            mid = (lo + hi) // 2
            stack.append((mid, hi))
            stack.append((lo, mid))
    found.sort()
    return found


# --------------------------------------------------------------------------------------------
# NamespaceWatcher
# --------------------------------------------------------------------------------------------


class _Snapshot(NamedTuple):
    size: int  # len(ns)
    last: object  # the newest key (dicts keep insertion order), or _MISSING
    names: list[str]  # the visible names, in order
    ids: list[int] | None  # id() of each visible name's value; None above max_names
    getter: Callable[[Mapping[str, object]], object] | None  # itemgetter(*names), reused


class NamespaceWatcher:
    """Finds the variables a cell added, changed or deleted, cheaply.

    Call :meth:`before` when a cell starts (IPython's ``pre_run_cell``, with the cell's raw
    source) and :meth:`after` when it ends (``post_run_cell``). No reference to any value is
    held, so a cell's ``del big_array`` still frees the memory at once.

    How changes are found, with work proportional to the user's names (C-level), the cell's
    source and the number of changes, not to IPython's ever-growing ``_i1``, ``_i2``...:

    * added names from the end of the namespace: a dict keeps insertion order, so when the
      key that was newest at the start is now followed by exactly as many keys as the dict
      grew by, nothing was deleted and those keys are the added ones; otherwise (something
      was deleted) the visible names are listed again and compared as sets;
    * rebound names by comparing ``id()`` of every visible value while there are at most
      ``max_names`` of them (256: reading 1,000 ids costs more than the rest of the hooks);
      above that, for the names the cell's source mentions and the globals that the
      notebook's functions it mentions (and the functions those call) rebind (``global
      best; best = ...``). A larger namespace's name rebound in another way the source does
      not show (``exec``, a method or another module's function assigning into
      ``__main__``, a widget callback between cells) is not reported;
    * in-place changes (``lst.append(1)``, ``arr += 1``, ``df["c"] = 1``, ``model.fit(X)``)
      for names the source mentions: by its syntax (augmented assignment, item or attribute
      assignment, known mutating methods) and by a cheap fingerprint (length, shape, value
      of an immutable scalar, number of attributes) taken before and compared after.

    What :meth:`after` reads is kept as the next cell's baseline: when the namespace has as
    many names at the next :meth:`before`, that cell starts from it instead of reading every
    value again, which halves the cost. So a rebinding made between cells (by a widget
    callback, say) of a name the next cell does not mention is reported with that next
    cell; names the cell mentions are always compared with a fresh snapshot.

    Names starting with ``_``, names in ``hidden`` (a set or dict is kept by reference, so
    later additions count) and IPython's ``In``, ``Out``, ``exit``, ``quit`` and
    ``get_ipython`` are never reported. Rebinding a name to an equal immutable scalar
    (re-running ``lr = 0.01``) is not a change.

    Parameters
    ----------
    hidden
        Names never to report (IPython's ``user_ns_hidden``).
    max_changes
        At most this many changes are described per cell: the first by name.
    max_names
        Above this many visible names, ids are compared only for the names the source
        mentions and the globals its functions rebind (and a deletion is seen when one of
        those is deleted or when the namespace's newest key is not the last one deleted).
    """

    def __init__(
        self, hidden: Collection[str] = (), max_changes: int = 50, max_names: int = MAX_COMPARED
    ) -> None:
        self._hidden: Collection[str] = (
            hidden if isinstance(hidden, (Mapping, set, frozenset)) else frozenset(hidden)
        )
        self.max_changes = max_changes
        self.max_names = max_names
        self._armed = False
        self._start: _Snapshot | None = None  # the namespace as the cell began
        self._baseline: _Snapshot | None = None  # as the previous cell ended
        self._baseline_of = 0  # id() of the namespace the baseline was read from
        self._watched: dict[str, tuple[int, tuple[object, ...]]] = {}
        self._touched: frozenset[str] = frozenset()

    def _visible(self, name: object) -> bool:
        return (
            isinstance(name, str)
            and not name.startswith("_")
            and name not in IPYTHON_NAMES
            and name not in self._hidden
        )

    def _snapshot(
        self, ns: Mapping[str, object], previous: _Snapshot | None
    ) -> tuple[_Snapshot, list[object] | None]:
        """Visible names and their ids, and the keys added since ``previous`` (None when keys
        were deleted too, or there is no ``previous``: then compare the names as sets)."""
        added = self._added_keys(ns, previous)
        if added is not None and previous is not None:
            names, getter = previous.names, previous.getter
            new = [key for key in added if self._visible(key)]
            if new:
                names, getter = names + new, None  # type: ignore[operator]
            try:
                return self._read(ns, names, getter), added
            except KeyError:  # a visible name was deleted (and the newest key re-added)
                pass
        names = [key for key in list(ns) if self._visible(key)]
        return self._read(ns, names, None), None

    @staticmethod
    def _added_keys(ns: Mapping[str, object], previous: _Snapshot | None) -> list[object] | None:
        if previous is None or not isinstance(ns, dict):
            return None
        grown = len(ns) - previous.size
        if grown < 0:
            return None
        newest_first = list(itertools.islice(reversed(ns), grown + 1))
        if previous.size == 0:
            return newest_first[::-1]
        # Insertions go to the end and deletions keep the order: if the key that was newest
        # is followed by exactly `grown` keys, no key was deleted and those are the new ones.
        if len(newest_first) == grown + 1 and newest_first[-1] is previous.last:
            return newest_first[-2::-1]
        return None

    def _read(
        self,
        ns: Mapping[str, object],
        names: list[str],
        getter: Callable[[Mapping[str, object]], object] | None,
    ) -> _Snapshot:
        ids = None
        if len(names) <= self.max_names:
            # A plain list: building it is the cost per cell, and comparing two lists of ints
            # is cheaper than packing them into arrays to compare those.
            if len(names) == 1:
                ids = [id(ns[names[0]])]
            elif names:
                getter = getter or itemgetter(*names)
                ids = list(map(id, getter(ns)))  # type: ignore[arg-type]  # itemgetter of 2+ names: a tuple
            else:
                ids = []
        last = next(reversed(ns), _MISSING) if isinstance(ns, dict) else _MISSING
        return _Snapshot(len(ns), last, names, ids, getter)

    def before(self, ns: Mapping[str, object], source: str | None = None) -> None:
        """Snapshot ``ns`` as a cell starts; ``source`` is the cell's code (magics allowed)."""
        self._armed = False
        try:
            start, self._baseline = self._baseline, None
            if start is None or self._baseline_of != id(ns) or len(ns) != start.size:
                start = self._snapshot(ns, start)[0]
            found = scan(source) if source else EMPTY_SCAN
            watched: dict[str, tuple[int, tuple[object, ...]]] = {}
            functions: list[types.FunctionType] = []
            for name in found.mentioned:
                value = ns.get(name, _MISSING)
                if value is _MISSING or not self._visible(name):
                    continue
                if type(value) is types.FunctionType:
                    functions.append(value)
                watched[name] = (id(value), _fingerprint(value))
                if len(watched) >= MAX_WATCHED:
                    break
            if functions:
                for name in _rebound_by(functions, ns):
                    value = ns.get(name, _MISSING)
                    if value is not _MISSING and name not in watched and self._visible(name):
                        watched[name] = (id(value), _fingerprint(value))
            self._start, self._watched, self._touched = start, watched, found.touched
            self._armed = True
        except Exception:  # noqa: BLE001 - runs in the user's kernel around every cell
            self._reset()

    def after(self, ns: Mapping[str, object]) -> list[VariableChange]:
        """The variables changed since :meth:`before`, sorted by name, at most ``max_changes``.

        Returns ``[]`` without a matching :meth:`before`, and on any internal error.
        """
        if not self._armed or self._start is None:
            return []
        try:
            changes = self._changes(ns, self._start)
            names = sorted(name for name in changes if self._visible(name))
            records = []
            for name in names[: self.max_changes]:
                kind = changes[name]
                if kind == "deleted":
                    known = self._watched.get(name)
                    tp = known[1][0] if known else None  # a fingerprint starts with the type
                    type_name = _type_info(tp).name if isinstance(tp, type) else ""
                    records.append(_record(name, kind, type_name, ""))
                else:
                    records.append(describe(name, ns.get(name), kind))
            return records
        except Exception:  # noqa: BLE001 - runs in the user's kernel around every cell
            self._baseline = None
            return []
        finally:
            self._reset()

    def _changes(self, ns: Mapping[str, object], start: _Snapshot) -> dict[str, str]:
        end, added = self._snapshot(ns, start)
        self._baseline, self._baseline_of = end, id(ns)
        changes: dict[str, str] = {}
        if added is not None:  # nothing deleted; the names of the start kept their places
            for name in added:
                changes[name] = "added"  # type: ignore[index]
            if start.ids is not None and end.ids is not None:
                for index in _differing(start.ids, end.ids[: len(start.ids)]):
                    changes[start.names[index]] = "changed"
        else:  # something was deleted: compare the visible names as sets
            old_names, new_names = set(start.names), set(end.names)
            for name in new_names - old_names:
                changes[name] = "added"
            for name in old_names - new_names:
                changes[name] = "deleted"
            if start.ids is not None and end.ids is not None:
                before = dict(zip(start.names, start.ids))
                for name, ident in zip(end.names, end.ids):
                    if before.get(name, ident) != ident:
                        changes[name] = "changed"
        touched = self._touched
        for name, (ident, fingerprint) in self._watched.items():
            value = ns.get(name, _MISSING)
            if value is _MISSING:
                changes[name] = "deleted"
            elif id(value) != ident:
                if fingerprint[0] in _SCALAR_TYPES and _fingerprint(value) == fingerprint:
                    changes.pop(name, None)  # re-ran `lr = 0.01`: same value, new object
                else:
                    changes[name] = "changed"
            elif _fingerprint(value) != fingerprint or (
                # `arr += 1`, `df["c"] = 1`, `model.fit(X)`; but `np.sort(x)` leaves np alone
                name in touched and _type_info(type(value)).kind in _MUTABLE_KINDS
            ):
                changes[name] = "changed"
            else:  # same object, same fingerprint since this cell began
                changes.pop(name, None)
        return changes

    def _reset(self) -> None:
        self._armed = False
        self._start, self._watched, self._touched = None, {}, frozenset()


# --------------------------------------------------------------------------------------------
# scalar_params()
# --------------------------------------------------------------------------------------------


class ConfigNames:
    """The configuration-like names of a namespace, followed cell by cell.

    A name is configuration when the cell that last bound it bound it only by a plain
    assignment of a literal at its top level (``lr = 0.01``, ``epochs = 3 * 10``,
    ``name = "resnet"``, ``use_bn = True``; ``a, b = 1, 2`` too, each name to its literal).
    A loop target, a ``with ... as`` name, an import, a computed result (``acc =
    model.score(X, y)``) or a name changed in a way the source does not show (by a
    function) is not, until a cell assigns it a literal again.

    Call :meth:`cell` with each cell's source as it starts and :meth:`forget` with the
    names a cell was seen to change without configuring them.
    """

    def __init__(self) -> None:
        self.names: set[str] = set()
        self._configured: frozenset[str] = frozenset()

    def cell(self, source: str) -> None:
        """A cell with this source starts: take its bindings (magics allowed). Never raises."""
        try:
            found = scan(source) if source else EMPTY_SCAN
            if found.bound:
                self.names.difference_update(found.bound)
            if found.config:
                self.names.update(found.config)
            self._configured = found.config
        except Exception:  # noqa: BLE001 - runs in the user's kernel around every cell
            self._configured = frozenset()

    def forget(self, changed: Collection[str]) -> None:
        """Names the last cell changed: those it did not assign a literal are not config."""
        names = self.names
        if names:
            for name in changed:
                if name in names and name not in self._configured:
                    names.discard(name)

    def __contains__(self, name: object) -> bool:
        return name in self.names


def scalar_params(
    ns: Mapping[str, object], hidden: Collection[str] = (), names: Collection[str] | None = None,
) -> dict[str, int | float | bool | str]:
    """The user's scalar variables, as auto-captured params of a run.

    Keeps ``int``, ``float``, ``bool`` and ``str`` of at most 200 characters (numpy scalars
    converted with ``.item()``; ints beyond 64 bits dropped). Skips names starting with
    ``_``, names in ``hidden``, IPython's ``In``/``Out``/``exit``/``quit``/``get_ipython`` and
    secret-looking names (:func:`is_secret`). Modules, callables and classes are never
    scalars, so they never appear. With ``names`` (the :class:`ConfigNames` of the kernel),
    only those names are kept.
    """
    params: dict[str, int | float | bool | str] = {}
    try:
        for name, value in list(ns.items()):
            if (
                not isinstance(name, str)
                or (names is not None and name not in names)
                or name.startswith("_")
                or name in IPYTHON_NAMES
                or name in hidden
                or is_secret(name)
            ):
                continue
            scalar = _plain_scalar(value)
            if scalar is not _MISSING:
                params[name] = scalar  # type: ignore[assignment]
    except Exception:  # noqa: BLE001 - e.g. the namespace changed size while read
        return params
    return params
