#!/usr/bin/env python3
"""Writes python/glasskernel/_core.pyi, the typed stub of the compiled core, by introspecting glasskernel._core.

    python tools/gen_core_stub.py [OUT]      (make stub; OUT defaults to python/glasskernel/_core.pyi, - is stdout)

Editors and type checkers cannot look inside an extension module; the stub tells them what it holds. It is generated,
never edited: tests/python/bindings/test_core_stub.py regenerates it from the installed _core and fails when the committed one
differs, so a binding that changes without `make stub` is caught.

What the module holds and how each kind is written (the formats are pybind11 2.10's, Debian 12's python3-pybind11):
  - pybind11 functions and methods: the signature pybind11 puts on the first line of __doc__, "name(self: X, cpu: int)
    -> T"; the rest of __doc__ becomes the stub's docstring. "Overloaded function." docs become one @overload each.
    Parameters pybind11 calls arg0, arg1, ... (no py::arg) cannot be passed by keyword: they are made positional-only.
    Defaults that are plain literals are kept, others written `...`.
  - properties (def_property, def_readonly, ...): the getter's "(arg0: X) -> T" gives the type, the property's own
    __doc__ the docstring; a setter is written as @name.setter. Static properties are ClassVar.
  - static and class methods (def_static): @staticmethod / @classmethod.
  - exception classes (py::register_exception): a class deriving from their Python base (AssertionError, RuntimeError).
  - the SigInfo namedtuple: a typing.NamedTuple class with its fields (their types from NAMEDTUPLE_FIELD_TYPES).
  - a class that cannot be subclassed (no Py_TPFLAGS_BASETYPE: UserArg, py::is_final) is @final.
  - plain CPython types and functions (UserArg and its Out/OutBuf/InOut/Buf in cpp/bindings/user_arg.cpp): they carry
    no signature, so NATIVE_FUNCTIONS and NATIVE_ATTRIBUTES give them; the generator checks that each function's doc
    still starts with the signature the table assumes, and fails if the C++ side has changed.
  - module constants: `NAME: int` (str, float, bool alike); tuples as tuple[T, ...] of their elements' type; bare
    object() sentinels (COMPUTE, RAW) as `object`.
Type names: glasskernel._core.X is written X; typing's List, Dict, Tuple, Set, Optional, Callable, ... are imported from
typing; a C++ type name pybind11 showed because the class was registered after its use (gk::TaskView) is written as the
Python class registered for it (gk::FooView -> Foo), or Any with a warning on stderr when there is none.
Class attributes the Python package sets on _core's classes at import (plain Python functions, e.g. display.py's
Task._repr_html_) are not the core's and are left out. The output is in the module's definition order, grouped by kind.
"""
import ast
import builtins
import inspect
import keyword
import re
import sys
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "python" / "glasskernel" / "_core.pyi"
MODULE = "glasskernel._core"

# The plain CPython functions of user_arg.cpp: name -> (how their __doc__ must begin, the stub's parameters and result).
NATIVE_FUNCTIONS = {
    "Out": ("Out(n=None):", "n: int | None = None, /", "UserArg"),
    "OutBuf": ("OutBuf(n):", "n: int, /", "UserArg"),
    "InOut": ("InOut(value):", "value: object, /", "UserArg"),
    "Buf": ("Buf(data):", "data: bytes | bytearray | memoryview | str, /", "UserArg"),
}
# The getset attributes of plain CPython types (read-only: user_arg.cpp gives them no setter): (class, name) -> type.
NATIVE_ATTRIBUTES = {
    ("UserArg", "kind"): "str",
    ("UserArg", "count"): "int | None",
    ("UserArg", "value"): "object",
}
# The slots of a plain CPython type worth stating (the rest, e.g. the ordering comparisons user_arg.cpp answers
# NotImplemented to, or __repr__, add nothing to object's).
SLOT_SIGNATURES = {
    "__eq__": "(self, other: object, /) -> bool",
    "__ne__": "(self, other: object, /) -> bool",
    "__hash__": "(self) -> int",
}
# Field types of namedtuples, which record only field names: class -> type of every field.
NAMEDTUPLE_FIELD_TYPES = {"SigInfo": "int"}  # siginfo_t's ints: si_signo, si_code, si_pid, si_uid, si_status, si_value
# C++ type names pybind11 may show, and the Python class each is registered as (beyond the gk::FooView -> Foo rule).
CPP_TYPES = {}

TYPING_NAMES = {"Any", "Annotated", "Callable", "Dict", "FrozenSet", "Iterable", "Iterator", "List", "Literal",
                "Optional", "Sequence", "Set", "Tuple", "Type", "Union"}
BARE_GENERICS = {"Callable": "Callable[..., Any]", "function": "Callable[..., Any]", "Iterator": "Iterator[Any]",
                 "Iterable": "Iterable[Any]", "Sequence": "Sequence[Any]"}
OPAQUE = {"capsule", "buffer", "Buffer", "handle", "ellipsis"}  # pybind11 names with no Python type to say
Py_TPFLAGS_BASETYPE = 1 << 10
SKIP_CLASS_ATTRS = {"__module__", "__doc__", "__dict__", "__weakref__", "__slots__", "__qualname__", "__annotations__",
                    "__entries"}  # py::enum_'s table of its values, private to pybind11
SKIP_MODULE_ATTRS = {"__doc__", "__file__", "__loader__", "__name__", "__package__", "__spec__", "__builtins__",
                     "__cached__", "__path__"}


class StubError(Exception):
    """The module holds something the generator cannot state; the message says what to change."""


# ---- reading pybind11's signatures ----

_OPEN, _CLOSE = "([{", ")]}"


def split_top(text, sep=","):
    """Split at `sep` outside brackets and quotes."""
    parts, depth, quote, start, i = [], 0, None, 0, 0
    while i < len(text):
        c = text[i]
        if quote:
            if c == "\\":
                i += 1
            elif c == quote:
                quote = None
        elif c in "'\"":
            quote = c
        elif c in _OPEN:
            depth += 1
        elif c in _CLOSE:
            depth -= 1
        elif depth == 0 and text.startswith(sep, i):
            parts.append(text[start:i])
            start = i + len(sep)
            i = start
            continue
        i += 1
    parts.append(text[start:])
    return parts


def _matching_paren(text, open_at):
    depth, quote, i = 0, None, open_at
    while i < len(text):
        c = text[i]
        if quote:
            if c == "\\":
                i += 1
            elif c == quote:
                quote = None
        elif c in "'\"":
            quote = c
        elif c in _OPEN:
            depth += 1
        elif c in _CLOSE:
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise StubError(f"unbalanced signature: {text!r}")


class Param:
    def __init__(self, name, type_=None, default=None, kind="plain"):
        self.name, self.type, self.default, self.kind = name, type_, default, kind  # kind: plain, *args, **kwargs, /, *


def parse_signature(text):
    """'name(a: int, b: str = 'x') -> T' -> (name, [Param], 'T')."""
    text = text.strip()
    open_at = text.index("(")
    close_at = _matching_paren(text, open_at)
    name = text[:open_at].strip()
    rest = text[close_at + 1:].strip()
    ret = rest[2:].strip() if rest.startswith("->") else None
    params = []
    inner = text[open_at + 1:close_at].strip()
    for part in split_top(inner) if inner else []:
        part = part.strip()
        if part in ("/", "*"):
            params.append(Param(part, kind=part))
            continue
        if part.startswith("**"):
            params.append(Param(part[2:].split(":")[0].strip() or "kwargs", kind="**"))
            continue
        if part.startswith("*"):
            params.append(Param(part[1:].split(":")[0].strip() or "args", kind="*args"))
            continue
        head, *default = split_top(part, "=")
        pname, _, ptype = head.partition(":")
        params.append(Param(pname.strip(), ptype.strip() or None, "=".join(default).strip() if default else None))
    return name, params, ret


def parse_pybind_doc(name, doc):
    """A pybind11 function's __doc__ -> [(signature text, docstring)], one per overload. The name in the signatures is
    the function's own, which may not be the attribute's (py::enum_'s __str__ is a function called name)."""
    doc = doc or ""
    lines = doc.split("\n")
    if len(lines) > 1 and lines[1].strip() == "Overloaded function.":
        out, current = [], None
        head = re.compile(r"^(\d+)\. (\w+\(.*)$")
        for line in lines[2:]:
            m = head.match(line)
            if m:
                current = [m.group(2), []]
                out.append(current)
            elif current is not None:
                current[1].append(line)
        if not out:
            raise StubError(f"{name}: an overloaded function whose overloads cannot be read: {doc!r}")
        return [(sig, "\n".join(body).strip()) for sig, body in out]
    if not re.match(r"\w+\(", lines[0]):
        raise StubError(f"{name}: no pybind11 signature on its __doc__'s first line: {lines[0]!r}")
    return [(lines[0], "\n".join(lines[1:]).strip())]


def is_pybind_function(obj):
    return isinstance(obj, types.BuiltinFunctionType) and type(getattr(obj, "__self__", None)).__name__ == "PyCapsule"


def is_pybind_class(cls):
    return any(b.__name__ == "pybind11_object" and b.__module__ == "pybind11_builtins" for b in cls.__mro__)


# ---- writing ----

class Writer:
    def __init__(self, module):
        self.module = module
        self.typing = set()
        self.imports = set()
        self.warnings = []
        self.lines = []

    def warn(self, msg):
        if msg not in self.warnings:
            self.warnings.append(msg)

    # -- types --

    def type_expr(self, text, scope=()):
        """pybind11's rendering of a type -> the stub's; `scope`: the member names of the enclosing class."""
        tokens = self._tokenize(text)
        node, pos = self._parse_type(tokens, 0, text)
        if pos != len(tokens):
            raise StubError(f"cannot read the type {text!r}")
        return self._render(node, set(scope))

    @staticmethod
    def _tokenize(text):
        tokens, i = [], 0
        while i < len(text):
            c = text[i]
            if c.isspace():
                i += 1
            elif c in "[],":
                tokens.append(c)
                i += 1
            elif text.startswith("...", i):
                tokens.append("...")
                i += 3
            elif c.isalpha() or c == "_" or c == ":":
                j = i
                while j < len(text) and (text[j].isalnum() or text[j] in "_.:"):
                    j += 1
                if j < len(text) and text[j] == "<":  # a C++ template: keep it whole
                    depth = 0
                    while j < len(text):
                        depth += text[j] == "<"
                        depth -= text[j] == ">"
                        j += 1
                        if depth == 0:
                            break
                tokens.append(text[i:j])
                i = j
            elif c in "'\"":  # Literal['x']
                j = text.index(c, i + 1) + 1
                tokens.append(text[i:j])
                i = j
            elif c == "-" or c.isdigit():
                j = i + 1
                while j < len(text) and text[j].isdigit():
                    j += 1
                tokens.append(text[i:j])
                i = j
            else:
                raise StubError(f"cannot read the type {text!r}")
        return tokens

    def _parse_type(self, tokens, pos, text):
        if pos >= len(tokens):
            raise StubError(f"cannot read the type {text!r}")
        tok = tokens[pos]
        if tok == "[":  # Callable's argument list
            items, pos = [], pos + 1
            while tokens[pos] != "]":
                item, pos = self._parse_type(tokens, pos, text)
                items.append(item)
                if tokens[pos] == ",":
                    pos += 1
            return ("list", items), pos + 1
        if tok in ",]":
            raise StubError(f"cannot read the type {text!r}")
        pos += 1
        if pos < len(tokens) and tokens[pos] == "[":
            args, pos = [], pos + 1
            while tokens[pos] != "]":
                arg, pos = self._parse_type(tokens, pos, text)
                args.append(arg)
                if tokens[pos] == ",":
                    pos += 1
            return ("name", tok, args), pos + 1
        return ("name", tok, None), pos

    def _render(self, node, scope):
        if node[0] == "list":
            return "[" + ", ".join(self._render(n, scope) for n in node[1]) + "]"
        _, name, args = node
        rendered = self._name(name, scope, has_args=args is not None)
        if args is None:
            return rendered
        return rendered + "[" + ", ".join(self._render(a, scope) for a in args) + "]"

    def _name(self, name, scope, has_args):
        core = self.module
        if name in ("...", "None") or name[:1] in "'\"-0123456789":
            return name
        if name.startswith(core.__name__ + "."):
            short = name[len(core.__name__) + 1:]
            if hasattr(core, short):
                return short
            self.warn(f"the type {name} is not in {core.__name__}; written Any")
            return self._typing("Any")
        package = core.__name__.rpartition(".")[0]
        if package and name.startswith(package + ".") and "." not in name[len(package) + 1:]:
            short = name[len(package) + 1:]
            if getattr(getattr(core, short, None), "__module__", None) == package:  # SigInfo, UserArg
                return short
        if "::" in name or "<" in name:
            return self._cpp_type(name)
        if name in OPAQUE:
            return self._typing("Any")
        if not has_args and name in BARE_GENERICS:
            spelled = BARE_GENERICS[name]
            for t in re.findall(r"[A-Z]\w+", spelled):
                self.typing.add(t)
            return spelled
        if name in TYPING_NAMES:
            return self._typing(name)
        if name == "function":
            return self._typing("Callable")
        if "." in name:
            self.imports.add(name.split(".")[0])
            return name
        if isinstance(getattr(builtins, name, None), type):
            if name in scope:  # a member of the class shadows the builtin inside its body
                self.imports.add("builtins")
                return "builtins." + name
            return name
        if isinstance(getattr(core, name, None), type):
            return name
        self.warn(f"unknown type name {name!r}; written Any")
        return self._typing("Any")

    def _typing(self, name):
        self.typing.add(name)
        return name

    def _cpp_type(self, name):
        core = self.module
        py = CPP_TYPES.get(name)
        if py is None:
            m = re.fullmatch(r"(?:\w+::)*(\w+?)(?:View)?", name)
            if m and isinstance(getattr(core, m.group(1), None), type):
                py = m.group(1)
        if py is None:
            self.warn(f"pybind11 showed the C++ type {name} (no Python class registered for it when the "
                      f"signature was made); written Any")
            return self._typing("Any")
        self.warn(f"pybind11 showed the C++ type {name} (its class was registered after this use); written {py}")
        return py

    # -- values --

    def value_type(self, value, scope=()):
        if value is None:
            return "None"
        if isinstance(value, (bool, int, float, complex, str, bytes)):
            return type(value).__name__
        if type(value) is object:
            return "object"
        if isinstance(value, (tuple, list, set, frozenset)):
            inner = sorted({self.value_type(v, scope) for v in value})
            elem = inner[0] if len(inner) == 1 else (" | ".join(inner) if inner else self._typing("Any"))
            if isinstance(value, tuple):
                return f"tuple[{elem}, ...]"
            return f"{type(value).__name__}[{elem}]"
        if isinstance(value, dict):
            keys = sorted({self.value_type(v, scope) for v in value})
            vals = sorted({self.value_type(v, scope) for v in value.values()})
            k = keys[0] if len(keys) == 1 else self._typing("Any")
            v = vals[0] if len(vals) == 1 else self._typing("Any")
            return f"dict[{k}, {v}]"
        if isinstance(value, types.ModuleType):
            self.imports.add("types")
            return "types.ModuleType"
        cls = type(value)
        if getattr(self.module, cls.__name__, None) is cls:
            return cls.__name__
        self.warn(f"a value of type {cls.__module__}.{cls.__qualname__}; written Any")
        return self._typing("Any")

    @staticmethod
    def default(text):
        """A default pybind11 showed -> the stub's: plain literals kept, anything else `...`."""
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            return "..."
        if value is None or isinstance(value, (bool, int, float, str, bytes)):
            shown = repr(value)
            return shown if len(shown) <= 60 else "..."
        return "..."

    # -- output --

    def emit(self, indent, text):
        self.lines.append("    " * indent + text if text else "")

    @staticmethod
    def docstring(doc, indent):
        """A docstring literal, indented for a body at `indent`."""
        doc = inspect.cleandoc(doc)
        doc = doc.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
        if doc.endswith('"'):
            doc = doc[:-1] + '\\"'
        pad = "    " * indent
        body = "\n".join(pad + line if line.strip() else "" for line in doc.split("\n"))
        return '"""' + body[len(pad):] + '"""'

    def body(self, indent, header, doc, suffix=""):
        """`header: ...` or `header:` + docstring."""
        if doc and doc.strip():
            self.emit(indent, header + ":" + suffix)
            self.emit(indent + 1, self.docstring(doc, indent + 1))
        else:
            self.emit(indent, header + ": ..." + suffix)

    def params(self, params, scope, drop_first):
        """Parameters as the stub writes them; the first (self, or the getter's arg0) is replaced by `self`."""
        params = list(params)
        out = []
        if drop_first:
            if not params or params[0].kind != "plain":
                raise StubError("a method without self")
            params = params[1:]
        defaulted = False  # pybind11 allows a parameter without a default after one with; Python does not
        for p in params:
            if p.kind in ("/", "*"):
                out.append(p.kind)
                defaulted = defaulted and p.kind == "/"
            elif p.kind == "*args":
                out.append("*" + p.name)
                defaulted = False
            elif p.kind == "**":
                out.append("**" + p.name)
            else:
                name = p.name + "_" if keyword.iskeyword(p.name) else p.name
                if name != p.name:
                    self.warn(f"a parameter named {p.name!r} (a Python keyword); written {name}")
                text = name
                if p.type:
                    text += ": " + self.type_expr(p.type, scope)
                default = self.default(p.default) if p.default is not None else None
                if default is None and defaulted:
                    self.warn(f"the parameter {p.name} has no default but follows one that has; written = ...")
                    default = "..."
                if default is not None:
                    defaulted = True
                    text += (" = " if p.type else "=") + default
                out.append(text)
        plain = [p for p in params if p.kind == "plain"]
        # pybind11 names the arguments of a function without py::arg arg0, arg1, ...: they cannot be given by keyword.
        if plain and len(plain) == len(params) and all(re.fullmatch(r"arg\d+", p.name) for p in plain):
            out.append("/")
        return out

    def function(self, indent, name, obj, scope=(), kind="function"):
        """A pybind11 function or method (kind: function, method, staticmethod, classmethod)."""
        overloads = parse_pybind_doc(name, obj.__doc__)
        for sig, doc in overloads:
            _, params, ret = parse_signature(sig)
            if len(overloads) > 1:
                self.emit(indent, "@overload")
                self.typing.add("overload")
            if kind in ("staticmethod", "classmethod"):
                self.emit(indent, "@" + kind)
            first = {"method": ["self"], "classmethod": ["cls"]}.get(kind, [])
            plist = first + self.params(params, scope, drop_first=kind in ("method", "classmethod"))
            rtype = self.type_expr(ret, scope) if ret else None
            header = f"def {name}({', '.join(plist)})" + (f" -> {rtype}" if rtype else "")
            suffix = ""
            if name in ("__eq__", "__ne__") and len(params) > 1 and params[1].type not in ("object", None):
                suffix = "  # type: ignore[override]"  # object's takes any object
            self.body(indent, header, doc, suffix)

    @staticmethod
    def accessor_signature(name, fn, what):
        """A property's getter or setter -> parse_signature's (name, params, ret). pybind11 gives a lambda's
        "(arg0: X) -> T", a named function's "name(self: handle) -> T" (py::enum_'s name)."""
        first = ((getattr(fn, "__doc__", None) or "").split("\n")[0]).strip()
        if first.startswith("("):
            return parse_signature(name + first)
        if re.match(r"\w+\(", first):
            return parse_signature(first)
        raise StubError(f"property {name}: its {what} has no pybind11 signature: {first!r}")

    def prop(self, indent, name, p, scope):
        _, _, ret = self.accessor_signature(name, p.fget, "getter")
        rtype = self.type_expr(ret, scope) if ret else self._typing("Any")
        self.emit(indent, "@property")
        doc = p.__doc__ or ""
        sig_line = ((getattr(p.fget, "__doc__", None) or "").split("\n")[0]).strip()
        if sig_line and doc.strip().startswith(sig_line):  # no doc of its own: pybind11 used the getter's
            doc = doc.strip()[len(sig_line):]
        self.body(indent, f"def {name}(self) -> {rtype}", doc)
        if p.fset is not None:
            _, sparams, _ = self.accessor_signature(name, p.fset, "setter")
            if len(sparams) != 2:
                raise StubError(f"property {name}: a setter taking {len(sparams)} arguments")
            vtype = self.type_expr(sparams[1].type, scope) if sparams[1].type else self._typing("Any")
            self.emit(indent, f"@{name}.setter")
            self.emit(indent, f"def {name}(self, value: {vtype}, /) -> None: ...")

    def static_prop(self, indent, name, p, scope):
        """def_readwrite_static and the like: a ClassVar (py::enum_'s __members__ and __doc__ too)."""
        _, _, ret = self.accessor_signature(name, p.fget, "getter")
        rtype = self.type_expr(ret, scope) if ret else self._typing("Any")
        self.typing.add("ClassVar")
        self.emit(indent, f"{name}: ClassVar[{rtype}]")

    # -- classes --

    def klass(self, name, cls):
        doc = cls.__dict__.get("__doc__")
        if not isinstance(doc, str):  # None, or a py::enum_'s __doc__ (a static property)
            doc = cls.__doc__ if isinstance(cls.__doc__, str) and "__doc__" in cls.__dict__ else None
        if issubclass(cls, BaseException):
            bases = [self._base(b) for b in cls.__bases__]
            self.body(0, f"class {name}({', '.join(bases)})", doc)
            return
        if issubclass(cls, tuple) and hasattr(cls, "_fields"):
            self.typing.add("NamedTuple")
            self.emit(0, f"class {name}(NamedTuple):")
            if doc:
                self.emit(1, self.docstring(doc, 1))
            ftype = NAMEDTUPLE_FIELD_TYPES.get(name)
            if ftype is None:
                self.warn(f"the namedtuple {name}: its field types are not in NAMEDTUPLE_FIELD_TYPES; written Any")
                ftype = self._typing("Any")
            for f in cls._fields:
                self.emit(1, f"{f}: {ftype}")
            return
        bases = [self._base(b) for b in cls.__bases__ if b is not object and b.__module__ != "pybind11_builtins"]
        if not cls.__flags__ & Py_TPFLAGS_BASETYPE:  # a type that cannot be subclassed (UserArg, py::is_final)
            self.typing.add("final")
            self.emit(0, "@final")
        self.emit(0, f"class {name}" + (f"({', '.join(bases)})" if bases else "") + ":")
        start = len(self.lines)
        if doc:
            self.emit(1, self.docstring(doc, 1))
        scope = [a for a in cls.__dict__ if not a.startswith("__")]
        pybind = is_pybind_class(cls)
        for attr, v in cls.__dict__.items():
            if attr in SKIP_CLASS_ATTRS:
                continue
            if not attr.isidentifier() or keyword.iskeyword(attr):
                self.warn(f"{name}.{attr}: not a Python identifier; left out")
                continue
            kind = type(v).__name__
            if isinstance(v, types.FunctionType):
                continue  # set by the Python package, not the core's
            if kind == "instancemethod":
                self.function(1, attr, v.__func__, scope, "method")
            elif isinstance(v, (staticmethod, classmethod)):
                if not is_pybind_function(v.__func__):
                    continue  # a Python function
                self.function(1, attr, v.__func__, scope, type(v).__name__)
            elif kind == "pybind11_static_property":
                self.static_prop(1, attr, v, scope)
            elif isinstance(v, property):
                if isinstance(v.fget, types.FunctionType):
                    continue
                self.prop(1, attr, v, scope)
            elif kind in ("getset_descriptor", "member_descriptor"):
                vtype = NATIVE_ATTRIBUTES.get((name, attr))
                if vtype is None:
                    raise StubError(f"{name}.{attr}: a {kind} of a plain CPython type; give its type in NATIVE_ATTRIBUTES")
                self.emit(1, "@property")
                self.body(1, f"def {attr}(self) -> {vtype}", v.__doc__)
            elif kind == "wrapper_descriptor":
                if not pybind and attr in SLOT_SIGNATURES:
                    self.emit(1, f"def {attr}{SLOT_SIGNATURES[attr]}: ...")
                # pybind11 classes: __init__ of a class without a constructor, which raises
            elif v is None:
                self.typing.add("ClassVar")
                self.emit(1, f"{attr}: ClassVar[None]  # type: ignore[assignment]")
            else:
                self.typing.add("ClassVar")
                self.emit(1, f"{attr}: ClassVar[{self.value_type(v, scope)}]")
        if len(self.lines) == start:
            self.lines[-1] += " ..."

    def _base(self, b):
        if b.__module__ == "builtins":
            return b.__name__
        if getattr(self.module, b.__name__, None) is b:
            return b.__name__
        self.imports.add(b.__module__.split(".")[0])
        return f"{b.__module__}.{b.__qualname__}"

    def native_function(self, name, obj):
        spec = NATIVE_FUNCTIONS.get(name)
        doc = obj.__doc__ or ""
        if spec is None:
            if getattr(obj, "__text_signature__", None):
                sig = inspect.signature(obj)
                self.body(0, f"def {name}{sig}", doc)
                return
            raise StubError(f"{name}: a plain CPython function without a signature; give it one in NATIVE_FUNCTIONS")
        prefix, params, ret = spec
        if not doc.startswith(prefix):
            raise StubError(f"{name}: its __doc__ no longer starts with {prefix!r} (it reads {doc[:60]!r}); "
                            f"update NATIVE_FUNCTIONS to match cpp/bindings")
        self.body(0, f"def {name}({params}) -> {ret}", doc)


def generate(module=None):
    """The stub's text for `module` (glasskernel._core by default) and the warnings met: (text, [str])."""
    if module is None:
        import importlib
        module = importlib.import_module(MODULE)
    w = Writer(module)
    constants, exceptions, classes, functions = [], [], [], []
    for name, obj in vars(module).items():
        if name in SKIP_MODULE_ATTRS:
            continue
        if isinstance(obj, type):
            (exceptions if issubclass(obj, BaseException) else classes).append((name, obj))
        elif isinstance(obj, (types.BuiltinFunctionType, types.FunctionType)):
            functions.append((name, obj))
        else:
            constants.append((name, obj))

    for name, obj in constants:
        w.emit(0, f"{name}: {w.value_type(obj)}")
    for group in (exceptions, classes):
        for name, cls in group:
            w.emit(0, "")
            w.klass(name, cls)
    if functions:
        w.emit(0, "")
    for name, fn in functions:
        if is_pybind_function(fn):
            w.function(0, name, fn)
        elif isinstance(fn, types.FunctionType):
            w.body(0, f"def {name}{inspect.signature(fn)}", fn.__doc__)
        else:
            w.native_function(name, fn)

    head = [f"# The typed stub of {module.__name__}, written by tools/gen_core_stub.py from the module itself: do not edit,",
            "# regenerate with `make stub` (tests/python/bindings/test_core_stub.py fails when it is stale)."]
    if module.__doc__:
        head.append(w.docstring(module.__doc__, 0))
    imports = [f"import {m}" for m in sorted(w.imports)]
    if w.typing:
        imports.append(f"from typing import {', '.join(sorted(w.typing))}")
    text = "\n".join(head + [""] + imports + [""] + w.lines) + "\n"
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text, w.warnings


def main(argv):
    out = Path(argv[1]) if len(argv) > 1 and argv[1] != "-" else None
    if len(argv) <= 1:
        out = DEFAULT_OUT
    try:
        text, warnings = generate()
    except StubError as e:
        print(f"gen_core_stub: {e}", file=sys.stderr)
        return 1
    for msg in warnings:
        print(f"gen_core_stub: {msg}", file=sys.stderr)
    compile(text, str(out or "<stub>"), "exec")  # it must be valid Python
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text, encoding="utf-8")
        print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
