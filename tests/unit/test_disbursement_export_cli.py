"""`jiuye disbursement export` without a payload keyring: one clear line and exit 1, not a
traceback (the file needs the vault to open account numbers; nothing is read before that)."""

from __future__ import annotations

import pytest

from app.cli import build_parser
from console import disbursement_cli
from contracts.settings import get_settings


def test_export_without_a_keyring_says_so_and_exits_1(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("JIUYE_PAYLOAD_ENCRYPTION", "false")
    get_settings.cache_clear()
    try:
        # The handler `jiuye` calls (app.cli.main itself leaves by os._exit).
        args = build_parser().parse_args(["disbursement", "export", "--batch", "2101/employment_subsidy_fund/2020-03-20"])
        rc = disbursement_cli.main(args)
    finally:
        get_settings.cache_clear()
    err = capsys.readouterr().err
    assert rc == 1
    assert err.startswith("jiuye disbursement export: payee accounts need the payload keyring")
    assert "Traceback" not in err
