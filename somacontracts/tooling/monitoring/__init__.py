"""Monitoring built from the catalog: Prometheus alerting rules (``somacontracts alerts``)."""

from somacontracts.tooling.monitoring.alerts import alert_rules, render_rules

__all__ = ["alert_rules", "render_rules"]
