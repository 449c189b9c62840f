"""The route-module protocol (streams/routes/kind_route.py): every module of streams/routes is a
kind's routes or the shared vocabulary, its declarations are typed, its handlers take the
keywords those declarations promise, and the kinds routed are the kinds with a workflow, both
named from contracts/kinds.py."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import types

import pytest

import streams.routes
from contracts import kinds
from streams.routes.kind_route import KindRoute
from streams.routing import KIND_ROUTES, route_modules
from workflows.registry import KINDS, WORKFLOWS

VOCABULARY = {"commands", "kind_route"}  # what the kinds share; no kind of its own


def test_every_module_of_streams_routes_is_a_kind_or_the_shared_vocabulary() -> None:
    names = {info.name for info in pkgutil.iter_modules(streams.routes.__path__)}
    kind_modules = {m.__name__.rpartition(".")[2] for m in route_modules()}
    assert kind_modules | VOCABULARY == names
    assert not kind_modules & VOCABULARY
    for name in VOCABULARY:
        assert "ROUTES" not in vars(importlib.import_module(f"streams.routes.{name}"))


@pytest.mark.parametrize("module", route_modules(), ids=lambda m: m.__name__)
def test_route_module_satisfies_the_protocol(module: types.ModuleType) -> None:
    kind = KindRoute.of(module)
    assert kind.kind == vars(module)["KIND"]
    # A declaration that names a type the module has no handler for would route nothing.
    assert set(kind.route_facts) <= set(kind.routes)
    assert set(kind.late_facts) <= set(kind.routes)
    assert set(kind.employer_cases) <= set(kind.routes)
    for event_type, handler in kind.routes.items():
        extra: dict[str, object] = {}
        if event_type in kind.route_facts:
            extra["facts"] = ()
        if event_type in kind.late_facts:
            extra["listening"] = []
        if event_type in kind.employer_cases:
            extra["employer_cases"] = []
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
        ("EMPLOYER_CASES", ["si.fee_exemption"]),
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


def test_every_kind_named_in_contracts_has_one_workflow_and_one_route() -> None:
    """contracts/kinds.py is the one list of kind names: each has a workflow (whose type name and
    `kind` are that name) and a route module, and nothing is routed or run under another name."""
    assert len(kinds.ALL) == len(set(kinds.ALL))
    assert sorted(w.kind for w in WORKFLOWS) == sorted(kinds.ALL)
    assert sorted(k.kind for k in KIND_ROUTES) == sorted(kinds.ALL)
    for cls in WORKFLOWS:
        assert getattr(cls, "__temporal_workflow_definition").name == cls.kind


@pytest.mark.parametrize(
    "module", [*route_modules(), *(inspect.getmodule(w) for w in WORKFLOWS)], ids=lambda m: m.__name__
)
def test_a_route_or_workflow_module_takes_its_kind_name_from_contracts(module: types.ModuleType) -> None:
    """No route or workflow module spells a kind name of its own: its `KIND` is one of contracts.kinds."""
    source = inspect.getsource(module)
    assert vars(module)["KIND"] in kinds.ALL
    assert f'KIND = "{vars(module)["KIND"]}"' not in source
