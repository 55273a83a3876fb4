"""The scheduler actor: APScheduler jobs that survive restarts, delivered as messages."""
