"""The health supervisor: checks with thresholds, an overall state, notices to admins.

docs/operations.md ("Health states") says what each check and state means and what to do.
"""

from actors.health.actor import HealthSupervisor, health_checks
from actors.health.messages import (
    ComponentView,
    GetHealth,
    HealthRequest,
    HealthView,
    ReportHealth,
    RunChecks,
)
from actors.health.monitor import CheckSpec, Debouncer, HealthMonitor, overall_state

__all__ = [
    "CheckSpec",
    "ComponentView",
    "Debouncer",
    "GetHealth",
    "HealthMonitor",
    "HealthRequest",
    "HealthSupervisor",
    "HealthView",
    "ReportHealth",
    "RunChecks",
    "health_checks",
    "overall_state",
]
