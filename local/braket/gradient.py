"""SV1's adjoint gradient result type: `#pragma braket result adjoint_gradient expectation(H) p1, p2 | all`.

The default simulator cannot parse this pragma, so it is read here, taken out of the program, and computed
by adjoint differentiation on a state vector: one forward pass, then one backward pass that carries
<H psi| back through the gates. A gate's derivative with respect to its angle is taken by a fourth-order
central difference of its matrix (error about 1e-12); the chain rule through the angle's expression of the
program's `input` parameters is exact (sympy). The answer has SV1's shape:
{"type": {"type": "adjoint_gradient", "observable": "2 * x @ y", "targets": [[0, 1]], "parameters": [..]},
 "value": {"expectation": ..., "gradient": {"theta": ...}}}
(amazon-braket-sdk test/integ_tests/test_adjoint_gradient.py shows SV1's answers).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from braket.default_simulator.operation import GateOperation  # type: ignore[import-untyped]

PRAGMA = re.compile(r"#pragma[ \t]+braket[ \t]+result[ \t]+adjoint_gradient\b(?P<rest>[^\n]*)")
_QUBIT = r"(?:[A-Za-z_][A-Za-z0-9_]*\s*\[\s*\d+\s*\]|[A-Za-z_][A-Za-z0-9_]*|\$\d+)"
_FACTOR = re.compile(rf"\s*(?P<op>[xyzhi])\s*\(\s*(?P<qubit>{_QUBIT})\s*\)\s*")
_COEFFICIENT = re.compile(r"\s*(?P<value>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*\*\s*")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_STEP = 1e-3
_PAULI = {
    "x": np.array([[0, 1], [1, 0]], dtype=complex),
    "y": np.array([[0, -1j], [1j, 0]], dtype=complex),
    "z": np.array([[1, 0], [0, -1]], dtype=complex),
    "h": np.array([[1, 1], [1, -1]], dtype=complex) / np.sqrt(2),
    "i": np.eye(2, dtype=complex),
}


class GradientError(ValueError):
    """An adjoint gradient pragma the service cannot read or compute (answered as a ValidationException)."""


@dataclass(frozen=True)
class Term:
    coefficient: float
    factors: tuple[tuple[str, str], ...]  # (observable, qubit as written: q[0], $1, ...)


@dataclass(frozen=True)
class GradientRequest:
    observable: str  # as SV1 writes it back: the pragma's observable without its qubits
    terms: tuple[Term, ...]
    parameters: tuple[str, ...] | None  # None: all of the program's inputs
    start: int  # where the pragma is in the source (result types keep the source's order)


def requests(source: str) -> list[GradientRequest]:
    """Every adjoint gradient pragma of a program, read; GradientError says what is wrong with one."""
    return [_request(found["rest"], found.start()) for found in PRAGMA.finditer(source)]


def without_gradients(source: str) -> str:
    """The program with its adjoint gradient pragmas taken out (the default simulator cannot parse them)."""
    return PRAGMA.sub("", source)


def _request(rest: str, start: int) -> GradientRequest:
    text = rest.strip()
    if not text.startswith("expectation"):
        raise GradientError("adjoint_gradient takes expectation(<observable>) followed by its parameters or 'all'")
    opening = text.find("(")
    closing = _closing(text, opening)
    observable_text = text[opening + 1 : closing]
    names = text[closing + 1 :].strip()
    terms = _terms(observable_text)
    if names == "all" or not names:
        parameters = None
    else:
        parameters = tuple(name.strip() for name in names.split(","))
        bad = [name for name in parameters if not _NAME.fullmatch(name)]
        if bad:
            raise GradientError(f"adjoint_gradient parameters must be input names or 'all', not {bad}")
    shown = re.sub(r"\s*\(\s*" + _QUBIT + r"\s*\)", "", observable_text).strip()
    return GradientRequest(" ".join(shown.split()), terms, parameters, start)


def _closing(text: str, opening: int) -> int:
    depth = 0
    for index in range(max(opening, 0), len(text)):
        depth += {"(": 1, ")": -1}.get(text[index], 0)
        if depth == 0 and opening >= 0:
            return index
    raise GradientError("adjoint_gradient: unbalanced parentheses in expectation(...)")


def _terms(text: str) -> tuple[Term, ...]:
    """`-6 * y(q[0]) @ i(q[1]) + 0.75 * z(q[2])`: a sum of weighted tensor products of x, y, z, h, i."""
    terms, position, sign = [], 0, 1.0
    stripped = text.strip()
    if stripped.startswith(("-", "+")):
        sign, position = (-1.0 if stripped[0] == "-" else 1.0), text.index(stripped[0]) + 1
    while True:
        coefficient = 1.0
        found = _COEFFICIENT.match(text, position)
        if found:
            coefficient, position = float(found["value"]), found.end()
        factors = []
        while True:
            factor = _FACTOR.match(text, position)
            if factor is None:
                raise GradientError(
                    f"adjoint_gradient: cannot read the observable at {text[position : position + 30]!r} "
                    "(terms are [coefficient *] x|y|z|h|i(qubit) [@ ...], joined by + or -)"
                )
            factors.append((factor["op"], re.sub(r"\s+", "", factor["qubit"])))
            position = factor.end()
            if not text.startswith("@", position):
                break
            position += 1
        terms.append(Term(sign * coefficient, tuple(factors)))
        if position >= len(text):
            return tuple(terms)
        if text[position] not in "+-":
            raise GradientError(f"adjoint_gradient: unexpected {text[position : position + 20]!r} in the observable")
        sign, position = (-1.0 if text[position] == "-" else 1.0), position + 1


def targets(request: GradientRequest, qubit: Callable[[str], int]) -> list[list[int]]:
    return [[qubit(name) for _, name in term.factors] for term in request.terms]


def result_type(request: GradientRequest, qubit: Callable[[str], int], parameters: list[str]) -> dict[str, Any]:
    return {
        "type": "adjoint_gradient",
        "observable": request.observable,
        "targets": targets(request, qubit),
        "parameters": parameters,
    }


def compute(
    instructions: list[Any],
    *,
    qubit_count: int,
    request: GradientRequest,
    qubit: Callable[[str], int],
    values: dict[str, float],
    parameters: list[str],
) -> dict[str, Any]:
    """{"expectation": <H>, "gradient": {parameter: d<H>/dparameter}} for gates whose angles are sympy
    expressions of the parameters (the program parsed with those inputs left symbolic)."""
    import sympy  # type: ignore[import-untyped]  # noqa: PLC0415 (the default simulator's own dependency; only the worker process loads it)

    symbols = {name: sympy.Symbol(name) for name in parameters}
    numeric: dict[Any, float] = {symbols[name]: float(values[name]) for name in parameters}
    gates = [_numeric_gate(op, numeric, symbols) for op in instructions]
    state = np.zeros([2] * qubit_count, dtype=complex)
    state[(0,) * qubit_count] = 1.0
    for op, _ in gates:
        state = _apply(state, op.matrix, op)
    adjoint = np.zeros_like(state)
    for term in request.terms:
        product = state
        for name, target in term.factors:
            product = _apply_on(product, _PAULI[name], (qubit(target),))
        adjoint = adjoint + term.coefficient * product
    expectation = float(np.real(np.vdot(state, adjoint)))
    gradient = dict.fromkeys(parameters, 0.0)
    for op, dependencies in reversed(gates):
        inverse = op.matrix.conj().T
        state = _apply(state, inverse, op)
        for attribute, slopes in dependencies.items():
            derivative = _apply(state, _derivative(op, attribute), op, derivative=True)
            overlap = 2.0 * float(np.real(np.vdot(adjoint, derivative)))
            for name, slope in slopes.items():
                gradient[name] += slope * overlap
        adjoint = _apply(adjoint, inverse, op)
    return {"expectation": expectation, "gradient": gradient}


def _numeric_gate(
    op: Any, numeric: dict[Any, float], symbols: dict[str, Any]
) -> tuple[Any, dict[str, dict[str, float]]]:
    """The gate with its angles evaluated, and for each angle that depends on a parameter, d(angle)/d(parameter)."""
    if not isinstance(op, GateOperation):
        raise GradientError(f"adjoint_gradient: {type(op).__name__} instructions cannot be differentiated")
    gate = copy.copy(op)
    dependencies: dict[str, dict[str, float]] = {}
    for attribute, value in vars(op).items():
        free = getattr(value, "free_symbols", None)
        if not free:
            continue
        unknown = {str(s) for s in free} - set(symbols)
        if unknown:
            raise GradientError(f"adjoint_gradient: inputs {sorted(unknown)} have no value")
        setattr(gate, attribute, float(value.subs(numeric)))
        slopes = {name: float(value.diff(symbol).subs(numeric)) for name, symbol in symbols.items()}
        dependencies[attribute] = {name: slope for name, slope in slopes.items() if slope != 0.0}
    return gate, dependencies


def _derivative(gate: Any, attribute: str) -> np.ndarray:
    """d(matrix)/d(angle), by the five-point central difference."""
    angle = float(getattr(gate, attribute))

    def at(shift: float) -> np.ndarray:
        moved = copy.copy(gate)
        setattr(moved, attribute, angle + shift)
        return np.asarray(moved.matrix, dtype=complex)

    h = _STEP
    return np.asarray((at(-2 * h) - 8 * at(-h) + 8 * at(h) - at(2 * h)) / (12 * h))


def _apply(state: np.ndarray, matrix: np.ndarray, op: Any, *, derivative: bool = False) -> np.ndarray:
    """A gate's matrix on its targets, under its controls. Where the controls are not satisfied a gate acts
    as the identity; its derivative, as zero."""
    controls = len(op.control_state)
    qubits = tuple(op.targets)
    if not controls:
        return _apply_on(state, matrix, qubits)
    size, block = 2 ** len(qubits), 2 ** (len(qubits) - controls)
    full = np.zeros((size, size), dtype=complex) if derivative else np.eye(size, dtype=complex)
    index = int("".join(str(bit) for bit in op.control_state), 2)
    full[index * block : (index + 1) * block, index * block : (index + 1) * block] = matrix
    return _apply_on(state, full, qubits)


def _apply_on(state: np.ndarray, matrix: np.ndarray, qubits: tuple[int, ...]) -> np.ndarray:
    count = len(qubits)
    tensor = np.reshape(matrix, [2] * (2 * count))
    moved = np.tensordot(tensor, state, axes=(list(range(count, 2 * count)), list(qubits)))
    return np.asarray(np.moveaxis(moved, list(range(count)), list(qubits)))
