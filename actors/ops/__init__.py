"""Operating the bot: the ops HTTP endpoint (health, readiness, metrics, the actor tree as
JSON) and ``main.py inspect``, which reads it. docs/operations.md is the user's guide."""

from actors.ops.actor import OpsActor
from actors.ops.inspect import InspectError, inspect, render_detail, render_table
from actors.ops.metrics import BotCollector, metrics_registry
from actors.ops.server import OpsServer, Response, Routes

__all__ = [
    "BotCollector",
    "InspectError",
    "OpsActor",
    "OpsServer",
    "Response",
    "Routes",
    "inspect",
    "metrics_registry",
    "render_detail",
    "render_table",
]
