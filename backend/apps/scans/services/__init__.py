"""Scan services: configurations and schedules, launching, execution on workers, cancelling."""
