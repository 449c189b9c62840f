"""Physical Kafka names under a deployment's topic prefix (contracts/topics.py `Topics`), and which
run prefixes the sweeper treats as over (testkit/run_topics.py)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from pydantic import ValidationError

from contracts.settings import Settings
from contracts.topics import ALL_TOPICS, DEAD_LETTERS, Topics
from streams.app import monitoring_app_id, monitoring_topic
from testkit.run_topics import STALE_SECONDS, new_run_prefix, stale_runs


def test_the_default_prefix_leaves_every_name_as_events_md_spells_it() -> None:
    settings = Settings(_env_file=None)
    assert settings.topic_prefix == ""
    assert settings.topics.all() == list(ALL_TOPICS)
    assert settings.intake_group == settings.consumer_group == "jiuye-intake"
    assert monitoring_topic(settings) == monitoring_app_id(settings) == "jiuye-intake-monitoring"


def test_a_prefix_comes_before_every_topic_and_group_including_fausts() -> None:
    settings = Settings(_env_file=None, topic_prefix="t1x2.")
    assert settings.topics.all() == [f"t1x2.{t}" for t in ALL_TOPICS]
    assert settings.topics.physical(DEAD_LETTERS) == "t1x2.events.dlq"
    assert settings.intake_group == "t1x2.jiuye-intake"
    # faust names its tables' changelogs `<app id>-<table>-changelog`: under the prefix too.
    assert monitoring_app_id(settings).startswith("t1x2.")
    assert monitoring_topic(settings) == "t1x2.jiuye-intake-monitoring"


def test_logical_undoes_physical_and_refuses_a_foreign_topic() -> None:
    names = Topics("t1x2.")
    assert all(names.logical(names.physical(t)) == t for t in ALL_TOPICS)
    with pytest.raises(ValueError, match="not under the prefix"):
        names.logical("si.contributions")


def test_the_prefix_is_read_from_the_environment_and_must_be_a_legal_topic_name_start(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JIUYE_TOPIC_PREFIX", "t9x9.")
    assert Settings(_env_file=None).topics.physical("alerts") == "t9x9.alerts"
    with pytest.raises(ValidationError):
        Settings(_env_file=None, topic_prefix="has space/")


def test_a_run_prefix_names_this_process_and_follows_the_configured_prefix() -> None:
    prefix = new_run_prefix("ci.")
    assert prefix.startswith(f"ci.t{os.getpid()}x") and prefix.endswith(".")
    assert new_run_prefix("ci.") != prefix  # two runs of one process in the same second


def test_the_sweeper_takes_only_runs_that_are_over() -> None:
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          check=True)
    dead = int(gone.stdout)  # exited: its pid is free (reuse within this test is vanishingly rare)
    now = 2_000_000_000
    alive = os.getppid()
    topics = [
        f"t{dead}x{now - 60}n1.si.contributions",   # its process is gone
        f"t{alive}x{now - 60}n1.alerts",            # a run still going
        f"t{alive}x{now - STALE_SECONDS - 1}n1.alerts",  # alive, but a day old: a hung or reused pid
        f"t{os.getpid()}x{now - STALE_SECONDS - 1}n1.alerts",  # this very run: never
        "si.contributions",                       # the default topics: never
        "jiuye-intake-monitoring-monitoring_counts-changelog",
    ]
    assert stale_runs(topics, now=now) == {f"t{dead}x{now - 60}n1.", f"t{alive}x{now - STALE_SECONDS - 1}n1."}
    # Under a configured prefix, only runs beneath it.
    assert stale_runs([f"ci.t{dead}x{now}n1.alerts", f"t{dead}x{now}n1.alerts"], base="ci.", now=now) == {
        f"ci.t{dead}x{now}n1."}
