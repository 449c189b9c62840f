"""The HTTP paths every process serves on its observability port: one home, read by the
servers, the Kubernetes probes in deploy/k8s and the tests that check them."""

METRICS_PATH = "/metrics"
LIVE_PATH = "/healthz/live"
READY_PATH = "/healthz/ready"

PATHS = (METRICS_PATH, LIVE_PATH, READY_PATH)
