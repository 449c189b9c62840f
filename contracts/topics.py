"""The Kafka topics of EVENTS.md: which types each carries, and what the system emits."""

from __future__ import annotations

TYPES_BY_TOPIC: dict[str, tuple[str, ...]] = {
    "registration.unemployment": ("unemployment.registered", "unemployment.deregistered"),
    "registration.employment": ("employment.registered", "employment.terminated"),
    "registration.enterprise": ("enterprise.registered", "enterprise.closure_reported"),
    "si.contributions": ("contribution.paid",),
    "si.enrollment": ("insured.enrolled", "insured.left", "si.fee_exemption"),
    "si.benefits": ("ui.claim.filed",),
    "labor.contracts": ("contract.signed", "contract.terminated"),
    "employment.service": (
        "internship.agreement_signed",
        "internship.interrupted",
        "internship.resumed",
        "internship.ended",
        "welfare_post.placed",
        "welfare_post.left",
        "referral.recorded",
        "followup.recorded",
        "application.submitted",
        "training.enrolled",
        "training.completed",
        "training.dropped",
        "service.delivered",
    ),
    "enterprise.hr": (
        "layoff.plan_filed",
        "layoff.union_notified",
        "layoff.executed",
        "layoff.obligations_settled",
    ),
    "civil.affairs": ("dibao.granted", "dibao.ended", "household.updated"),
    "policy.events": (
        "policy.epidemic.declared",
        "policy.epidemic.lifted",
        "policy.price_linkage.triggered",
        "policy.parameter.changed",
        "fund.budget_set",
    ),
    "finance.loans": ("loan.granted", "loan.interest_charged", "loan.extended", "loan.repaid", "loan.defaulted"),
    "entrepreneurship": ("incubator.accredited", "incubator.expenses_reported", "incubator.rent_relief_reported"),
    # Account numbers are personal data (docs/SECURITY.md): the intake logs where a record sits and
    # its outcome, never its data; a bad record's original bytes do go to events.dlq, as every one's.
    "payees.accounts": ("payee.account_registered", "payee.account_updated"),
    "payments.results": ("payment.settled", "payment.returned"),
}

INPUT_TOPICS: tuple[str, ...] = tuple(TYPES_BY_TOPIC)
# The input types no case takes: the intake hands them to the disbursement desk (activities/disbursement_desk.py).
DISBURSEMENT_TYPES: tuple[str, ...] = TYPES_BY_TOPIC["payees.accounts"] + TYPES_BY_TOPIC["payments.results"]
TOPIC_OF_TYPE: dict[str, str] = {t: topic for topic, types in TYPES_BY_TOPIC.items() for t in types}

DEAD_LETTERS = "events.dlq"
LIFECYCLE = "cases.lifecycle"
ALERTS = "alerts"
# payment.instructed and payment.batch_closed, for the treasury or bank (POLICY.md disbursement).
PAYMENT_INSTRUCTIONS = "payments.instructions"
OUTPUT_TOPICS: tuple[str, ...] = (DEAD_LETTERS, LIFECYCLE, ALERTS, PAYMENT_INSTRUCTIONS)

ALL_TOPICS: tuple[str, ...] = INPUT_TOPICS + OUTPUT_TOPICS


class Topics:
    """The physical Kafka names of one deployment: every logical topic above, and every consumer
    group, under the deployment's prefix (`Settings.topic_prefix`, docs/OPERATIONS.md "Topic
    prefix"). The one place a logical name becomes a physical one; the default prefix is empty,
    which leaves every name as EVENTS.md spells it. A test session or benchmark run uses a prefix
    of its own (testkit/run_topics.py) so that nothing it produces reaches the default stack."""

    def __init__(self, prefix: str = ""):
        self.prefix = prefix

    def physical(self, name: str) -> str:
        """The name on the broker of a logical topic, or of a consumer group (also faust's app id,
        which names faust's internal topics and changelogs)."""
        return self.prefix + name

    def logical(self, physical: str) -> str:
        """The logical name of a topic of this deployment (what the ledger and dead letters record)."""
        if not physical.startswith(self.prefix):
            raise ValueError(f"topic {physical!r} is not under the prefix {self.prefix!r}")
        return physical[len(self.prefix):]

    def all(self) -> list[str]:
        """The physical names of the contract's topics (`ALL_TOPICS`)."""
        return [self.physical(t) for t in ALL_TOPICS]

    def __repr__(self) -> str:
        return f"Topics(prefix={self.prefix!r})"
