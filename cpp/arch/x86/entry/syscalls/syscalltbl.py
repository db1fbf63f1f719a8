#!/usr/bin/env python3
"""Generates the C++ headers of the system call table from syscall_64.tbl, as Linux's
scripts/syscalltbl.sh and syscallhdr.sh do: glasskernel/asm/syscalls_64.h (one __SYSCALL(nr, name, entry)
line per number, holes as sys_ni_syscall) and glasskernel/asm/unistd_64.h (the __NR_* numbers).

usage: syscalltbl.py syscall_64.tbl OUTDIR
"""
import sys
from pathlib import Path


def parse(path: Path) -> list[tuple[int, str, str, str]]:
    rows = []
    for lineno, line in enumerate(path.read_text().splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        fields = line.split()
        if len(fields) not in (3, 4) or not fields[0].isdigit() or fields[1] not in ("common", "64"):
            sys.exit(f"{path}:{lineno}: expected '<number> <abi> <name> [<entry point>]'")
        nr, abi, name = int(fields[0]), fields[1], fields[2]
        entry = fields[3] if len(fields) == 4 else "sys_ni_syscall"
        rows.append((nr, abi, name, entry))
    nrs = [r[0] for r in rows]
    if nrs != sorted(set(nrs)):
        sys.exit(f"{path}: numbers must be unique and sorted")
    return rows


def write_if_changed(path: Path, text: str) -> None:
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


def main() -> None:
    tbl, outdir = Path(sys.argv[1]), Path(sys.argv[2])
    rows = parse(tbl)
    asm = outdir / "glasskernel" / "asm"
    asm.mkdir(parents=True, exist_ok=True)
    head = f"// Generated from {tbl.name} by {Path(__file__).name}; edit the table, not this file.\n"
    table = [head, "// __SYSCALL(nr, name, entry point): the x86_64 system call table.\n"]
    table += [f"__SYSCALL({nr}, {name}, {entry})\n" for nr, _, name, entry in rows]
    write_if_changed(asm / "syscalls_64.h", "".join(table))
    # Macros, as Linux's asm/unistd_64.h: the same names and values as the host's header, so
    # that a file including both sees identical definitions.
    numbers = [head, "#pragma once\n\n"]
    numbers += [f"#define __NR_{name} {nr}\n" for nr, _, name, _ in rows]
    numbers.append(f"\n#define __NR_syscalls {rows[-1][0] + 1}\n")
    write_if_changed(asm / "unistd_64.h", "".join(numbers))


if __name__ == "__main__":
    main()
