"""Monitoring built from the catalog: Prometheus alerting rules (``somacontracts alerts``)."""

from somacontracts.tooling.monitoring.alerts import AlertTimes, alert_rules, render_rules

__all__ = ["AlertTimes", "alert_rules", "render_rules"]
