"""Every code the system defines — kinds, statuses, ledger programs, funds, cities, task types,
task states, timeline entry and ledger entry types, roles — has a Chinese and an English name in
console/service/labels.py, so a code added without its names fails here, not on a supervisor's
screen."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path
from typing import get_args

import pytest

import policy
from console.service import labels
from console.service.tokens import CITIES, ROLES
from contracts import kinds
from contracts.cases import LedgerEntryKind
from contracts.events import APPLICANT_KIND
from contracts.timeline import ENTRY_TYPES
from policy.funds import Fund
from workflows.case_base import OPEN_STATUSES, OVERPAYMENT_RECOVERY

ROOT = Path(__file__).resolve().parents[2]


def _policy_constants(suffix_or_part: str) -> set[str]:
    """The str constants of every policy module whose name carries `suffix_or_part`."""
    found = set()
    for info in pkgutil.iter_modules(policy.__path__):
        module = importlib.import_module(f"policy.{info.name}")
        for attr, value in vars(module).items():
            if attr.isupper() and suffix_or_part in attr.split("_") and isinstance(value, str):
                found.add(value)
    return found


def _programs() -> set[str]:
    """The ledger programs: policy constants named PROGRAM (K6's are named by their group, and
    all start with `hiring_`), and the programs an application names."""
    from policy import hiring

    named = {v for k, v in vars(hiring).items() if k.isupper() and isinstance(v, str) and v.startswith("hiring_")}
    return _policy_constants("PROGRAM") | named | set(APPLICANT_KIND)


# The base's methods that close with a status a kind decided and handed to them
# (`close_once_owed` holds it in `closing` while what is owed falls due): their `close(...)` is a
# pass-through, the literal is where the kind calls `close_once_owed`.
CLOSE_FORWARDERS = {"close_once_owed", "close_if_owed_fell_due"}


def _closing_statuses() -> set[str]:
    """Every status a workflow closes a case with (`self.close("<status>", ...)`, or
    `self.close_once_owed("<status>", ...)`)."""
    statuses = set()
    for path in (ROOT / "workflows").glob("*.py"):
        tree = ast.parse(path.read_text())
        forwarding = {id(call) for fn in ast.walk(tree) if isinstance(fn, ast.AsyncFunctionDef) and fn.name in CLOSE_FORWARDERS
                      for call in ast.walk(fn) if isinstance(call, ast.Call)}
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("close", "close_once_owed")
                    and node.args and id(node) not in forwarding):
                first = node.args[0]
                assert isinstance(first, ast.Constant) and isinstance(first.value, str), \
                    f"{path.name}:{node.lineno}: a status that is not a literal"
                statuses.add(first.value)
    return statuses


def _task_types() -> set[str]:
    return _policy_constants("TASK") | {OVERPAYMENT_RECOVERY}


DEFINED = {
    "kind": lambda: set(kinds.ALL),
    "status": lambda: _closing_statuses() | set(OPEN_STATUSES),
    "program": _programs,
    "fund": lambda: {str(f) for f in Fund},
    "city": lambda: set(CITIES),
    "task_type": _task_types,
    "task_state": lambda: {"open", "decided", "expired", "withdrawn"},
    "entry_type": lambda: set(ENTRY_TYPES),
    "ledger_entry": lambda: set(get_args(LedgerEntryKind)),
    "role": lambda: set(ROLES),
}


@pytest.mark.parametrize("group", sorted(DEFINED))
def test_every_code_the_system_defines_has_both_names(group: str) -> None:
    defined = DEFINED[group]()
    assert defined, f"found no {group} codes: the scan is broken"
    named = labels.GROUPS[group]
    missing = sorted(defined - set(named))
    assert not missing, f"{group} codes without names in console/service/labels.py: {missing}"
    for code in defined:
        zh, en = named[code]
        assert zh.strip() and en.strip(), f"{group} {code}: an empty name"


def test_the_scans_find_what_they_must() -> None:
    # A scan that silently found less would let a new code through: pin a few known ones.
    assert {"provincial_selection", "taper_decision", "overpayment_recovery"} <= _task_types()
    assert {"hiring_epidemic", "incubator_rent_relief", "price_linkage"} <= _programs()
    assert {"ineligible", "settled", "rejected", "active"} <= DEFINED["status"]()


def test_the_chinese_names_are_the_measures_own() -> None:
    assert labels.name("kind", kinds.INTERNSHIP_SUBSIDY) == "就业见习补贴"
    assert labels.name("city", "2101") == "沈阳" and labels.name("city", "2114") == "葫芦岛"
    assert labels.name("fund", "employment_subsidy_fund") == "就业补助资金"
    assert labels.name("city", "2101", "en") == "Shenyang"


def test_a_code_without_a_name_reads_as_itself_and_the_catalog_has_both_languages() -> None:
    assert labels.name("status", "some_new_status") == "some_new_status"
    assert labels.name("kind", None) == ""
    served = labels.catalog()
    assert served["kind"]["dibao_taper"] == {"zh-CN": "低保渐退", "en": "Dibao taper"}
    assert set(served) == set(labels.GROUPS)


def test_yuan_writes_fen_as_people_read_yuan() -> None:
    # As static/i18n.js's I18N.yuan writes zh-CN: integer arithmetic, separators, two decimals.
    assert labels.yuan(28_800_000) == "288,000.00 元"
    assert labels.yuan(946_001) == "9,460.01 元"
    assert labels.yuan(-5) == "-0.05 元"
    assert labels.yuan(0) == "0.00 元"


def test_both_names_a_code_in_chinese_then_by_itself() -> None:
    assert labels.both("kind", kinds.INTERNSHIP_SUBSIDY) == "就业见习补贴 internship_subsidy"
    assert labels.both("city", "2101") == "沈阳 2101"
    assert labels.both("fund", "no_such_fund") == "no_such_fund"
    assert labels.pad("沈阳", 6) == "沈阳  " and labels.pad("ab", 1) == "ab"
