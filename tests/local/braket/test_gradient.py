"""The adjoint gradient pragma as SV1 reads it, and the gradient as adjoint differentiation computes it."""

from __future__ import annotations

import math

import pytest
from braket.default_simulator import StateVectorSimulator
from braket.ir.openqasm import Program
from hypothesis import given, settings
from hypothesis import strategies as st

from local.braket import gradient
from local.braket.results import qubit_resolver

PROGRAM = """OPENQASM 3.0;
input float a;
input float b;
qubit[3] q;
h q[0];
ctrl @ rx(a * b) q[0], q[1];
U(a, b, 2 * a) q[2];
xy(b) q[1], q[2];
cphaseshift(a - b) q[0], q[2];
#pragma braket result adjoint_gradient expectation(z(q[0]) @ x(q[1]) + 0.5 * y(q[2]) - 2 * h(q[1])) {names}
"""


def expectation_and_gradient(source: str, values: dict[str, float], names: list[str]) -> dict[str, object]:
    (request,) = gradient.requests(source)
    fixed = {k: v for k, v in values.items() if k not in names}
    program = Program(source=gradient.without_gradients(source), inputs=fixed)
    context = StateVectorSimulator().parse_program(program)
    qubit, count = qubit_resolver(context)
    return gradient.compute(
        context.circuit.instructions,
        qubit_count=count,
        request=request,
        qubit=qubit,
        values=values,
        parameters=names,
    )


def test_the_pragma_is_read_as_sv1_writes_it_back() -> None:
    source = (
        "#pragma braket result adjoint_gradient expectation(-6 * y(q[0]) @ i(q[1]) + 0.75 * y(q[2]) @ z(q[3])) theta"
    )

    (request,) = gradient.requests(source)

    assert request.observable == "-6 * y @ i + 0.75 * y @ z"
    assert [term.coefficient for term in request.terms] == [-6.0, 0.75]
    assert gradient.targets(request, lambda name: int(name[2])) == [[0, 1], [2, 3]]
    assert request.parameters == ("theta",)
    assert gradient.without_gradients(source) == ""


@pytest.mark.parametrize(
    "pragma",
    [
        "#pragma braket result adjoint_gradient variance(z(q[0])) all",
        "#pragma braket result adjoint_gradient expectation(hermitian([[0, 1], [1, 0]]) q[0]) all",
        "#pragma braket result adjoint_gradient expectation(z(q[0]) theta",
        "#pragma braket result adjoint_gradient expectation(z(q[0])) 2theta",
    ],
)
def test_a_pragma_it_cannot_read_is_a_gradient_error(pragma: str) -> None:
    with pytest.raises(gradient.GradientError):
        gradient.requests(pragma)


@settings(max_examples=15, deadline=None)
@given(a=st.floats(-math.pi, math.pi), b=st.floats(-math.pi, math.pi))
def test_the_gradient_is_the_derivative_of_the_expectation(a: float, b: float) -> None:
    values, step = {"a": a, "b": b}, 1e-5
    answer = expectation_and_gradient(PROGRAM.format(names="all"), values, ["a", "b"])

    for name in ("a", "b"):
        up = expectation_and_gradient(PROGRAM.format(names="all"), {**values, name: values[name] + step}, [])
        down = expectation_and_gradient(PROGRAM.format(names="all"), {**values, name: values[name] - step}, [])
        slope = (up["expectation"] - down["expectation"]) / (2 * step)  # type: ignore[operator]
        assert answer["gradient"][name] == pytest.approx(slope, abs=1e-6)  # type: ignore[index]
