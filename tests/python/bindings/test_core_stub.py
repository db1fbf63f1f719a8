"""The typed stub of the compiled core (python/glasskernel/_core.pyi): regenerated from the installed _core, it must be
the committed one (`make stub` rewrites it), name everything _core holds, and ship with the package."""
import ast
import difflib
import importlib.util
import types
from pathlib import Path

import glasskernel
from glasskernel import _core

ROOT = Path(__file__).resolve().parents[3]
STUB = ROOT / "python" / "glasskernel" / "_core.pyi"


def load_generator():
    spec = importlib.util.spec_from_file_location("gen_core_stub", ROOT / "tools" / "gen_core_stub.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def stub_names(tree):
    """Top-level names of a stub, and each class's member names."""
    top, members = set(), {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            top.add(node.name)
            members[node.name] = {n.name for n in node.body if isinstance(n, ast.FunctionDef)} | {
                n.target.id for n in node.body if isinstance(n, ast.AnnAssign)}
        elif isinstance(node, ast.FunctionDef):
            top.add(node.name)
        elif isinstance(node, ast.AnnAssign):
            top.add(node.target.id)
    return top, members


def test_committed_stub_is_what_the_generator_writes():
    """The committed _core.pyi equals the stub regenerated from the installed _core: run `make stub` when this fails."""
    text, _ = load_generator().generate(_core)
    committed = STUB.read_text(encoding="utf-8")
    diff = "".join(difflib.unified_diff(committed.splitlines(True), text.splitlines(True), "committed", "regenerated", n=1))
    assert text == committed, "python/glasskernel/_core.pyi is stale; run `make stub`:\n" + diff[:6000]
    compile(text, str(STUB), "exec")


def test_stub_names_every_public_name_of_core():
    """Every public module attribute of _core, and every public member of its classes, is declared in the stub."""
    top, members = stub_names(ast.parse(STUB.read_text(encoding="utf-8")))
    public = {n for n in dir(_core) if not n.startswith("_")}
    assert not public - top, f"not in the stub: {sorted(public - top)}"
    for name in sorted(public):
        cls = getattr(_core, name)
        if not isinstance(cls, type) or issubclass(cls, BaseException):
            continue
        core_members = {a for a, v in vars(cls).items() if not a.startswith("_") and not isinstance(v, types.FunctionType)}
        if issubclass(cls, tuple):  # the namedtuple: its fields
            core_members = set(cls._fields)
        assert not core_members - members[name], f"{name}: not in the stub: {sorted(core_members - members[name])}"


def test_generator_reads_pybind11_signatures():
    """Overloaded docs, nested typing types, C++ type names and awkward defaults come out as valid stub syntax."""
    gen = load_generator()
    doc = ("f(*args, **kwargs)\nOverloaded function.\n\n1. f(self: glasskernel._core.Kernel, cpu: int) -> int\n\nby cpu\n\n"
           "2. f(self: glasskernel._core.Kernel, name: str = 'a, b') -> Optional[glasskernel._core.Task]\n")
    assert gen.parse_pybind_doc("f", doc) == [
        ("f(self: glasskernel._core.Kernel, cpu: int) -> int", "by cpu"),
        ("f(self: glasskernel._core.Kernel, name: str = 'a, b') -> Optional[glasskernel._core.Task]", "")]
    w = gen.Writer(_core)
    assert w.type_expr("Callable[[int, List[glasskernel._core.Task]], Dict[str, Tuple[int, ...]]]") == \
        "Callable[[int, List[Task]], Dict[str, Tuple[int, ...]]]"
    assert w.type_expr("gk::TaskView") == "Task"
    assert w.type_expr("Set[glasskernel.SigInfo]") == "Set[SigInfo]"
    assert w.type_expr("type", scope=["type"]) == "builtins.type"
    _, params, ret = gen.parse_signature("g(self: object, arg0: int, arg1: object = <object object at 0x7f>) -> None")
    assert w.params(params, (), drop_first=True) == ["arg0: int", "arg1: object = ...", "/"]
    assert {"Callable", "List", "Dict", "Tuple", "Set"} <= w.typing


def test_stub_and_marker_ship_with_the_package():
    """The imported glasskernel package carries _core.pyi and the py.typed marker (pyproject's package-data)."""
    installed = Path(glasskernel.__file__).parent
    assert (installed / "_core.pyi").is_file()
    assert (installed / "py.typed").is_file()
