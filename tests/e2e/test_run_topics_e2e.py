"""A test session's records stay on its own topics (testkit/run_topics.py, issue 16): a flow run
under the session's prefix moves no end offset of the default topics — the ones a plain `jiuye
streams` reads — and a run's topics are deleted when it ends, also when it fails."""

from __future__ import annotations

import pytest

from contracts.settings import Settings
from contracts.topics import ALL_TOPICS, DEAD_LETTERS, LIFECYCLE
from streams.app import monitoring_app_id
from testkit.events import line
from testkit.kafka import KafkaProbe
from testkit.run_topics import run_topics
from tests.e2e.conftest import System
from tests.e2e.helpers import assert_eventually
from tests.e2e.test_intake_e2e import Internship, case_closed

pytestmark = pytest.mark.e2e


async def test_a_flow_under_the_run_prefix_leaves_the_default_topics_untouched(
        system: System, stack_settings: Settings) -> None:
    prefix = system.settings.topic_prefix
    assert prefix.startswith(stack_settings.topic_prefix) and prefix != stack_settings.topic_prefix
    default = KafkaProbe(stack_settings)  # what a `jiuye streams` of the configured stack reads
    await default.start()
    try:
        before = await default.ends(ALL_TOPICS)
        internship = Internship(system)
        report = await system.emit([line(internship.signed()), line(internship.ended()), b"not a CloudEvent"])
        assert report.per_topic["employment.service"] == 3

        await assert_eventually(lambda: case_closed(system, internship), timeout=90)
        await system.settled()

        async def published() -> None:
            lifecycle = [r for r in system.tail.of(LIFECYCLE) if r.key == internship.case_id.encode()]
            assert any(b'"case.closed"' in r.value for r in lifecycle), "case.closed not on the run's lifecycle yet"
            assert any(r.value == b"not a CloudEvent" for r in system.tail.of(DEAD_LETTERS)), "no dead letter yet"

        await assert_eventually(published, timeout=30)
        assert await system.pool.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL") == 0

        # Input, dead letter, lifecycle: all on the run's topics, none on the default ones.
        assert await default.ends(ALL_TOPICS) == before
        # faust's internal topic and its tables' changelogs are named after the app id: under the prefix.
        listed = set(await system.kafka.admin.list_topics())
        faust_topics = {t for t in listed if t.startswith(monitoring_app_id(system.settings))}
        assert any(t.endswith("-changelog") for t in faust_topics), sorted(faust_topics)
        assert not [t for t in listed if t.startswith(f"{system.settings.consumer_group}-")]
    finally:
        await default.stop()


async def test_a_runs_topics_are_deleted_when_it_fails(stack_settings: Settings, kafka: KafkaProbe) -> None:
    with pytest.raises(RuntimeError, match="the run fails"):
        async with run_topics(stack_settings) as run:
            prefix = run.topic_prefix
            assert set(run.topics.all()) <= set(await kafka.admin.list_topics())
            raise RuntimeError("the run fails")

    async def gone() -> None:
        left = [t for t in await kafka.admin.list_topics() if t.startswith(prefix)]
        assert not left, f"still there: {left}"

    await assert_eventually(gone, timeout=60, interval=0.5)
