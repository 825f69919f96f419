"""Every implemented MPI function is called by some test program (no compiler, no mpiexec).

A callback that no program calls is a callback no test has ever run on either MPI library.
"""

from __future__ import annotations

import re
from pathlib import Path

from wasmpi.bridge import abi

PROGRAMS = Path(__file__).resolve().parent.parent / "programs"
SOURCES = (".c", ".h", ".cc", ".cpp", ".cxx", ".hpp")

# String and character literals and comments, matched together so that a comment marker inside
# a string (or a quote inside a comment) is not taken for what it is not.
_NOT_CODE = re.compile(r'"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'|/\*.*?\*/|//[^\n]*', re.S)


def program_code() -> str:
    """The C/C++ code of the test programs, with comments and literals blanked out: a function
    named in a message or a comment is not a call."""
    files = sorted(p for p in PROGRAMS.rglob("*") if p.suffix in SOURCES)
    assert files, f"no test programs under {PROGRAMS}"
    return "\n".join(_NOT_CODE.sub(" ", p.read_text(errors="replace")) for p in files)


def uncalled(names: list[str], code: str) -> list[str]:
    return [n for n in names if not re.search(rf"\bP?{n}\s*\(", code)]


def test_blanking_and_matching() -> None:
    code = _NOT_CODE.sub(" ", 'puts("MPI_A(");  /* MPI_B( */ // MPI_C(\n'
                              "x = PMPI_D (1); MPI_E_x(2); XMPI_F(3); c = '\"'; MPI_G(4);")
    assert uncalled(["MPI_A", "MPI_B", "MPI_C", "MPI_D", "MPI_E", "MPI_F", "MPI_G"], code) == [
        "MPI_A", "MPI_B", "MPI_C", "MPI_E", "MPI_F"]


def test_every_implemented_function_is_called_by_a_test_program() -> None:
    implemented = sorted(f.name for f in abi.functions() if f.implemented)
    assert implemented
    missing = uncalled(implemented, program_code())
    assert not missing, (
        f"{len(missing)} implemented MPI function(s) not called by any program under "
        f"tests/programs (as `MPI_Name(` or `PMPI_Name(`): " + ", ".join(missing))
