"""The route-module protocol (streams/routes/kind_route.py): every module of streams/routes is a
kind's routes or the shared vocabulary, its declarations are typed, its handlers take the
keywords those declarations promise, and the kinds routed are the kinds with a workflow."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import types

import pytest

import streams.routes
from streams.routes.kind_route import KindRoute
from streams.routing import KIND_ROUTES, route_modules
from workflows.registry import KINDS

VOCABULARY = {"commands", "kind_route"}  # what the kinds share; no kind of its own


def test_every_module_of_streams_routes_is_a_kind_or_the_shared_vocabulary() -> None:
    names = {info.name for info in pkgutil.iter_modules(streams.routes.__path__)}
    kinds = {m.__name__.rpartition(".")[2] for m in route_modules()}
    assert kinds | VOCABULARY == names
    assert not kinds & VOCABULARY
    for name in VOCABULARY:
        assert "ROUTES" not in vars(importlib.import_module(f"streams.routes.{name}"))


@pytest.mark.parametrize("module", route_modules(), ids=lambda m: m.__name__)
def test_route_module_satisfies_the_protocol(module: types.ModuleType) -> None:
    kind = KindRoute.of(module)
    assert kind.kind == vars(module)["KIND"]
    # A declaration that names a type the module has no handler for would route nothing.
    assert set(kind.route_facts) <= set(kind.routes)
    assert set(kind.late_facts) <= set(kind.routes)
    for event_type, handler in kind.routes.items():
        extra: dict[str, object] = {}
        if event_type in kind.route_facts:
            extra["facts"] = ()
        if event_type in kind.late_facts:
            extra["listening"] = []
        # Called as streams.routing calls it: (event, open cases, pack, **the promised keywords).
        inspect.signature(handler).bind(None, [], None, **extra)


def probe_module(**declarations: object) -> types.ModuleType:
    module = types.ModuleType("streams.routes.probe")
    vars(module).update(declarations)
    return module


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("KIND", ""),
        ("HOLDS_SHARED_FACTS", "yes"),
        ("ROUTES", {"contract.signed": "not a handler"}),
        ("FACT_TYPES", ["contract.signed"]),  # a list: mutable, not a declaration
        ("FACT_TYPES", "contract.signed"),  # a string, not a tuple of them
        ("ROUTE_FACTS", {"contract.signed": ("enterprise.registered",)}),  # no key kind
        ("LATE_FACTS", ("contract.signed", 1)),
    ],
)
def test_a_mistyped_declaration_fails_at_import(name: str, value: object) -> None:
    module = probe_module(KIND="probe", HOLDS_SHARED_FACTS=False, ROUTES={"contract.signed": lambda event, open_cases, pack: []})
    vars(module)[name] = value
    with pytest.raises(TypeError, match=f"streams.routes.probe.{name}"):
        KindRoute.of(module)


def test_a_module_without_the_optional_declarations_gets_the_defaults() -> None:
    module = probe_module(KIND="probe", HOLDS_SHARED_FACTS=True, ROUTES={})
    assert KindRoute.of(module) == KindRoute(kind="probe", holds_shared_facts=True, routes={})


def test_every_workflow_kind_has_a_route_and_every_route_a_workflow() -> None:
    routed = [k.kind for k in KIND_ROUTES]
    assert len(routed) == len(set(routed)), "two route modules for one kind"
    assert set(routed) == set(KINDS)
