"""Telemetry: logging set-up and the process's metrics."""
