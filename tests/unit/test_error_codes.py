"""Every error code the broker answers is a named constant of ``broker/errors.py``: no module
of ``broker/`` spells a code out itself (docstrings may mention one)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import broker
from broker import errors

CODE = re.compile(r"E\d{6}")
BROKER = Path(broker.__file__).parent


def _spelled_codes(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), str(path))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        f"{path.relative_to(BROKER)}:{node.lineno} {node.value}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
        and CODE.search(node.value)
    ]


def test_no_module_but_errors_spells_an_error_code() -> None:
    found = [
        code
        for path in sorted(BROKER.rglob("*.py"))
        if path != Path(errors.__file__)
        for code in _spelled_codes(path)
    ]
    assert found == []


def test_every_code_has_one_name() -> None:
    codes = [v for k, v in vars(errors).items() if k.isupper() and isinstance(v, str)]
    assert all(CODE.fullmatch(c) for c in codes)
    assert len(codes) == len(set(codes))
    assert {f"E01100{n}" for n in range(10)} == errors.GENERIC_CODES
