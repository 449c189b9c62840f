"""What every jiuye process exposes to the cluster around it: Prometheus metrics, liveness and
readiness over HTTP, and OpenTelemetry traces (docs/OPERATIONS.md)."""
