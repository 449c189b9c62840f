"""Who may post to the HTTP intake (streams/producer_tokens.py, streams/http_intake.py): a signed
producer token scoped to types; no token or a console token is a 401, a type outside the scope
a 403, and neither produces anything nor writes a dead letter (both refuse to be called here)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from activities.store import Origin
from console.service import tokens as console_tokens
from contracts.cloudevents_binding import STRUCTURED_JSON, HttpEvent
from contracts.signed_tokens import InvalidToken
from contracts.topics import TYPES_BY_TOPIC, Topics
from policy.calendar import SHANGHAI
from streams import producer_tokens
from streams.http_intake import EVENTS_PATH, HttpIntake, create_app
from testkit.events import cloud_event, line

SECRET = "test-http-intake-secret"
EVENT = line(cloud_event(source="es/2101", id="reg-P1", type="unemployment.registered", subject="person/P1",
                         on=datetime(2020, 3, 2, 10, tzinfo=SHANGHAI),
                         data={"person_id": "P1", "city": "2101", "registered_on": "2020-03-02",
                               "birth_date": "1990-01-01", "retirement_date": "2050-01-01"}))


class Refuses:
    """Neither Kafka nor the dead letters may be reached by a refused request."""

    async def send_and_wait(self, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a refused request produced a record")


async def no_dead_letter(record: HttpEvent, reason: str, origin: Origin) -> None:
    raise AssertionError(f"a refused request was dead-lettered: {reason}")


async def ready() -> dict[str, bool]:
    return {"checks": True}


def client() -> TestClient:
    return TestClient(create_app(HttpIntake(SECRET, Refuses(), no_dead_letter, Topics()), ready))


def token(types: frozenset[str], **kwargs: Any) -> str:
    return producer_tokens.issue(SECRET, sub="es-online-2101", types=types, **kwargs)


def post(headers: dict[str, str]) -> Any:
    return client().post(EVENTS_PATH, content=EVENT, headers={"content-type": STRUCTURED_JSON, **headers})


def test_a_topic_scope_is_the_types_of_the_topic() -> None:
    assert producer_tokens.scope([], ["registration.unemployment"]) == frozenset(TYPES_BY_TOPIC["registration.unemployment"])
    assert producer_tokens.scope(["application.submitted"], []) == frozenset({"application.submitted"})
    with pytest.raises(ValueError, match="not an input type or topic"):
        producer_tokens.scope(["payment.instructed"], [])


def test_a_token_names_its_producer_and_scope_until_it_expires() -> None:
    issued = token(frozenset({"application.submitted"}), ttl_seconds=60, now=1000)
    producer = producer_tokens.verify(SECRET, issued, now=1059)
    assert (producer.sub, producer.may_send("application.submitted"), producer.may_send("ui.claim.filed")) == (
        "es-online-2101", True, False)
    with pytest.raises(InvalidToken, match="expired"):
        producer_tokens.verify(SECRET, issued, now=1060)
    with pytest.raises(InvalidToken, match="signature"):
        producer_tokens.verify("another-secret", issued, now=1000)


def test_a_console_token_is_no_producer_token_even_signed_with_the_same_secret() -> None:
    console = console_tokens.issue(SECRET, sub="li", role="province")
    with pytest.raises(InvalidToken, match="not a producer token"):
        producer_tokens.verify(SECRET, console)


@pytest.mark.parametrize("headers", [{}, {"authorization": "Basic abc"}, {"authorization": "Bearer nonsense"}])
def test_without_a_valid_token_the_answer_is_401(headers: dict[str, str]) -> None:
    answer = post(headers)
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == "Bearer"


def test_a_type_outside_the_scope_is_403() -> None:
    answer = post({"authorization": f"Bearer {token(frozenset({'application.submitted'}))}"})
    assert answer.status_code == 403
    assert answer.json() == {"status": "forbidden", "id": "reg-P1",
                             "error": "es-online-2101 may not send unemployment.registered"}


def test_the_shared_paths_are_served() -> None:
    c = client()
    assert c.get("/healthz/live").json() == {"live": True}
    assert c.get("/healthz/ready").status_code == 200
    assert "jiuye_http_intake_events" in c.get("/metrics").text
