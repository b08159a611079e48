"""Real AWS errors on demand: point one call at a resource that does not exist."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def missing_resource(
    owner: Any, method: str, attribute: str, missing: str, when: Callable[..., bool] = lambda *_: True
) -> Iterator[None]:
    """While active, `owner.method(...)` runs with `owner.attribute` set to `missing` for the calls
    where `when(*args)` holds, so moto answers with its real error (no mock in between)."""
    real_method, real_value = getattr(owner, method), getattr(owner, attribute)

    def call(*args: Any, **kwargs: Any) -> Any:
        if not when(*args):
            return real_method(*args, **kwargs)
        setattr(owner, attribute, missing)
        try:
            return real_method(*args, **kwargs)
        finally:
            setattr(owner, attribute, real_value)

    setattr(owner, method, call)
    try:
        yield
    finally:
        delattr(owner, method)
