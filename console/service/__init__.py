"""The console's service layer: every query and action of the supervisor console, shared by the
HTTP API (`console.api`) and the `jiuye case|task|alert|ledger|deadletter|token` commands.

Each function takes the `Console` context and the authenticated `Principal`, enforces city
scope and role, masks personal data for roles that should not see it, audits what must be
audited, and raises a `ServiceError` (with an HTTP status and a reason) for what it refuses.
"""

from console.service.actions import export_ledger, hold, list_dead_letters, redrive
from console.service.audit import list_audit
from console.service.cases import list_cases, show_case
from console.service.core import Console
from console.service.dashboard import dashboard, list_alerts
from console.service.errors import BadRequest, Conflict, Forbidden, NotFound, ServiceError, Unauthorized, Unavailable
from console.service.forecast import forecast
from console.service.tasks import decide_task, list_tasks
from console.service.tokens import Principal, issue, verify

__all__ = [
    "BadRequest", "Conflict", "Console", "Forbidden", "NotFound", "Principal", "ServiceError", "Unauthorized",
    "Unavailable", "dashboard", "decide_task", "export_ledger", "forecast", "hold", "issue", "list_alerts", "list_audit", "list_cases",
    "list_dead_letters", "list_tasks", "redrive", "show_case", "verify",
]
