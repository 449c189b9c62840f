"""The deployment of deploy/k8s, deploy/helm and deploy/Containerfile, offline: every manifest
valid for a pinned Kubernetes version, every JIUYE_* name in them a real setting and every
setting decided, each probe on a path the processes serve and on the process's own port, the
Kafka topics exactly those of contracts/topics.py, the search attributes those the stack
registers (issue 12, part 7; deploy/k8s/README.md)."""

from __future__ import annotations

import importlib.util
import os
import re
import sys
import tomllib
from pathlib import Path, PurePosixPath
from typing import Any

import kubernetes_validate
import pytest
import yaml
from pydantic import SecretStr

from contracts.settings import REPO_ROOT, Settings
from contracts.topics import ALL_TOPICS
from deploy.stack.temporal import SEARCH_ATTRIBUTES
from observability.paths import LIVE_PATH, METRICS_PATH, PATHS, READY_PATH

# The oldest Kubernetes release the manifests promise to work on, and the newest whose schemas
# the pinned kubernetes-validate ships (deploy/k8s/README.md): an API removed since fails too.
KUBERNETES_VERSIONS = ("1.35.0", "1.37.0")

K8S = REPO_ROOT / "deploy" / "k8s"
HELM_VALUES = REPO_ROOT / "deploy" / "helm" / "temporal-values.yaml"
CONTAINERFILE = REPO_ROOT / "deploy" / "Containerfile"
KUSTOMIZATION = K8S / "kustomization.yaml"
SECRETS_EXAMPLE = K8S / "secrets.example.yaml"
UNSET_ANNOTATION = "jiuye.settings/unset"
STRIMZI_GROUP = "kafka.strimzi.io/"
WORKLOAD_KINDS = ("Deployment", "StatefulSet")
CLUSTER_SCOPED = ("Namespace",)

# Which setting names the HTTP port of each process (/metrics, /healthz/*; docs/OPERATIONS.md).
PORT_SETTING = {"worker": "worker_http_port", "streams": "streams_web_port", "api": "console_port"}
# And which the interface it listens on: the console has its own (console_host).
HOST_SETTING = {"worker": "observability_host", "streams": "observability_host", "api": "console_host"}

PREFIX = Settings.model_config["env_prefix"]
SETTING_OF_ENV = {f"{PREFIX}{name}".upper(): name for name in Settings.model_fields}
JIUYE_NAME = re.compile(rf"\b{PREFIX}[A-Z0-9_]+\b")


def _documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc is not None]


MANIFEST_FILES = sorted(p for p in K8S.glob("*.yaml") if p != KUSTOMIZATION)
DOCS: list[tuple[str, dict[str, Any]]] = [(p.name, d) for p in MANIFEST_FILES for d in _documents(p)]
DEPLOYED = [(name, d) for name, d in DOCS if name != SECRETS_EXAMPLE.name]


def _label(name: str, doc: dict[str, Any]) -> str:
    return f"{name}:{doc['kind']}/{doc['metadata']['name']}"


def _of_kind(kind: str, docs: list[tuple[str, dict[str, Any]]] = DEPLOYED) -> list[dict[str, Any]]:
    return [d for _, d in docs if d["kind"] == kind]


def _one(kind: str) -> dict[str, Any]:
    found = _of_kind(kind)
    assert len(found) == 1, f"expected one {kind}, found {len(found)}"
    return found[0]


CONFIG = _one("ConfigMap")
SECRETS = _of_kind("Secret", DOCS)
WORKLOADS = [d for _, d in DEPLOYED if d["kind"] in WORKLOAD_KINDS]
KAFKA = _one("Kafka")


def _pod(workload: dict[str, Any]) -> dict[str, Any]:
    return workload["spec"]["template"]["spec"]


def _containers(workload: dict[str, Any]) -> list[dict[str, Any]]:
    pod = _pod(workload)
    return pod.get("initContainers", []) + pod["containers"]


def _main_container(workload: dict[str, Any]) -> dict[str, Any]:
    (container,) = _pod(workload)["containers"]
    return container


def _command(workload: dict[str, Any]) -> str:
    return _main_container(workload)["args"][0]


def _unset() -> set[str]:
    return set(CONFIG["metadata"]["annotations"][UNSET_ANNOTATION].split())


def _secret_keys() -> dict[str, set[str]]:
    return {s["metadata"]["name"]: set(s.get("stringData", {})) | set(s.get("data", {})) for s in SECRETS}


def _environment(container: dict[str, Any]) -> dict[str, str]:
    """The JIUYE_* variables the container sees: its ConfigMap and Secret (the example's values)
    through envFrom, then its own env (a value taken from another Secret or from the downward API
    stands in as `by-reference`)."""
    env: dict[str, str] = {}
    by_name = {s["metadata"]["name"]: {**s.get("stringData", {}), **s.get("data", {})} for s in SECRETS}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            assert source["configMapRef"]["name"] == CONFIG["metadata"]["name"]
            env.update(CONFIG["data"])
        else:
            env.update(by_name[source["secretRef"]["name"]])
    for var in container.get("env", []):
        env[var["name"]] = var["value"] if "value" in var else "by-reference"
    return env


def _settings(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> Settings:
    """Settings as the process in the pod reads them (the real environment parsing)."""
    for name in list(os.environ):
        if name.startswith(PREFIX):
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return Settings()


def _cluster_settings(monkeypatch: pytest.MonkeyPatch) -> Settings:
    return _settings(monkeypatch, _environment(_main_container(WORKLOADS[0])))


# --- schemas -----------------------------------------------------------------------------------

@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize(
    "doc", [d for _, d in DOCS if not d["apiVersion"].startswith(STRIMZI_GROUP)],
    ids=[_label(n, d) for n, d in DOCS if not d["apiVersion"].startswith(STRIMZI_GROUP)])
def test_each_manifest_is_valid_for_the_pinned_kubernetes(doc: dict[str, Any], version: str) -> None:
    # Strict: a field the API does not know (a typo) is an error, not silently dropped.
    kubernetes_validate.validate(doc, version, strict=True)


def test_the_kustomization_applies_every_manifest_but_the_secrets_example() -> None:
    kustomization = yaml.safe_load(KUSTOMIZATION.read_text(encoding="utf-8"))
    assert sorted(kustomization["resources"]) == sorted(p.name for p in MANIFEST_FILES if p != SECRETS_EXAMPLE)
    namespace = kustomization["namespace"]
    assert _one("Namespace")["metadata"]["name"] == namespace
    for name, doc in DOCS:
        if doc["kind"] not in CLUSTER_SCOPED:
            assert doc["metadata"].get("namespace") == namespace, _label(name, doc)


def test_images_are_the_containerfile_image_at_the_project_version() -> None:
    version = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    kustomization = yaml.safe_load(KUSTOMIZATION.read_text(encoding="utf-8"))
    (image,) = kustomization["images"]
    assert image["newTag"] == version
    for workload in WORKLOADS:
        for container in _containers(workload):
            assert container["image"] == f"{image['name']}:{version}", container["name"]


# --- settings ----------------------------------------------------------------------------------

def test_every_jiuye_name_in_deploy_k8s_is_a_setting() -> None:
    mentioned: dict[str, set[str]] = {}
    for path in sorted(p for p in K8S.iterdir() if p.suffix in (".yaml", ".md", ".py")):
        for name in JIUYE_NAME.findall(path.read_text(encoding="utf-8")):
            mentioned.setdefault(name, set()).add(path.name)
    assert mentioned, "the manifests configure nothing"
    unknown = {name: sorted(files) for name, files in mentioned.items() if name not in SETTING_OF_ENV}
    assert not unknown, f"not fields of contracts.settings.Settings: {unknown}"


def test_every_setting_is_decided_exactly_once() -> None:
    config = set(CONFIG["data"])
    secret = set().union(*_secret_keys().values()) & set(SETTING_OF_ENV)
    own_env = {var["name"] for w in WORKLOADS for c in _containers(w) for var in c.get("env", [])}
    unset = _unset()
    assert not config & secret, "a setting both in the ConfigMap and in a Secret"
    assert not (config | secret) & own_env, "a pod's own env shadows the ConfigMap or a Secret"
    assert not unset & (config | secret | own_env), f"set and declared unset: {unset & (config | secret | own_env)}"
    undecided = set(SETTING_OF_ENV) - (config | secret | own_env | unset)
    assert not undecided, (f"settings the deployment does not decide on: {sorted(undecided)} — set them in "
                           f"deploy/k8s/config.yaml (or secrets.example.yaml), or name them in its "
                           f"{UNSET_ANNOTATION} annotation and say why in deploy/k8s/README.md")


def test_secret_settings_are_not_in_the_configmap() -> None:
    secret_fields = {env for env, name in SETTING_OF_ENV.items()
                     if "SecretStr" in str(Settings.model_fields[name].annotation)
                     or re.search(r"(password|secret|keys|api_key|database_url)$", name)}
    assert secret_fields, "no secret settings found"
    assert not secret_fields & set(CONFIG["data"]), sorted(secret_fields & set(CONFIG["data"]))


@pytest.mark.parametrize("workload", WORKLOADS, ids=[w["metadata"]["name"] for w in WORKLOADS])
def test_each_process_reads_its_settings_for_production(workload: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    for container in _containers(workload):
        settings = _settings(monkeypatch, _environment(container))
        assert settings.env == "production", container["name"]
        assert settings.payload_encryption and settings.payload_keys is not None and settings.console_secret
        assert not settings.console_dev_login
        assert "sslmode=verify-full" in settings.database_url


def test_the_example_keyring_is_refused_and_a_real_one_fits_the_key_id(monkeypatch: pytest.MonkeyPatch) -> None:
    from contracts.codec import KeyringError, format_entry, generate_key, keyring_from_settings

    settings = _cluster_settings(monkeypatch)
    with pytest.raises(KeyringError):  # an applied placeholder fails loudly, never encrypts
        keyring_from_settings(settings)
    real = settings.model_copy(update={"payload_keys": SecretStr(format_entry(settings.payload_key_id or "", generate_key()))})
    keyring = keyring_from_settings(real)
    assert keyring is not None and keyring.current_id == settings.payload_key_id


@pytest.mark.parametrize("workload", WORKLOADS, ids=[w["metadata"]["name"] for w in WORKLOADS])
def test_each_file_a_setting_names_is_mounted(workload: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    volumes = {v["name"]: v for v in _pod(workload)["volumes"]}
    for container in _containers(workload):
        env = _environment(container)
        mounts = {PurePosixPath(m["mountPath"]): volumes[m["name"]] for m in container.get("volumeMounts", [])}
        for env_name, value in env.items():
            name = SETTING_OF_ENV.get(env_name)  # an unknown name fails the test of names above
            if name is None or "Path" not in str(Settings.model_fields[name].annotation) or name == "state_dir":
                continue
            path = PurePosixPath(value)
            under = [(root, v) for root, v in mounts.items() if path.is_relative_to(root)]
            assert under, f"{container['name']}: {env_name}={value} is not under a volume mount"
            root, volume = max(under, key=lambda rv: len(rv[0].parts))
            items = volume.get("secret", {}).get("items") or volume.get("configMap", {}).get("items")
            if items:
                assert str(path.relative_to(root)) in {i["path"] for i in items}, f"{env_name}: not in {volume['name']}"
        # The root filesystem is read-only: the state dir must be a writable volume.
        state = PurePosixPath(env["JIUYE_STATE_DIR"])
        assert "emptyDir" in mounts[state], f"{container['name']}: the state dir is not an emptyDir"
        assert container["securityContext"]["readOnlyRootFilesystem"] is True


def test_secrets_the_pods_name_exist() -> None:
    keys = _secret_keys()
    kafka_user = _one("KafkaUser")["metadata"]["name"]  # Strimzi's User Operator writes this Secret
    keys.setdefault(kafka_user, set()).add("password")
    keys.setdefault(f"{KAFKA['metadata']['name']}-cluster-ca-cert", set()).add("ca.crt")  # Strimzi's CA
    for workload in WORKLOADS:
        for volume in _pod(workload)["volumes"]:
            if "secret" in volume:
                secret = volume["secret"]
                assert secret["secretName"] in keys, secret["secretName"]
                for item in secret.get("items", []):
                    assert item["key"] in keys[secret["secretName"]], (secret["secretName"], item["key"])
        for container in _containers(workload):
            for source in container.get("envFrom", []):
                if "secretRef" in source:
                    assert source["secretRef"]["name"] in keys
            for var in container.get("env", []):
                ref = var.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    assert ref["key"] in keys.get(ref["name"], set()), (var["name"], ref)


# --- processes, probes, availability ------------------------------------------------------------

def test_worker_streams_and_api_are_deployed() -> None:
    assert sorted(_command(w) for w in WORKLOADS) == sorted(PORT_SETTING)


@pytest.mark.parametrize("workload", WORKLOADS, ids=[w["metadata"]["name"] for w in WORKLOADS])
def test_containers_run_real_commands(workload: dict[str, Any]) -> None:
    from app.cli import build_parser

    main = _main_container(workload)
    assert "command" not in main, "the image's entrypoint (jiuye) runs the process"
    build_parser().parse_args(main["args"])  # exits on a command jiuye does not have
    for init in _pod(workload).get("initContainers", []):
        python, flag, module = init["command"]
        assert (python, flag) == ("python", "-m") and importlib.util.find_spec(module) is not None, init["command"]
        assert callable((sys.modules.get(module) or importlib.import_module(module)).main)


@pytest.mark.parametrize("workload", WORKLOADS, ids=[w["metadata"]["name"] for w in WORKLOADS])
def test_probes_ask_served_paths_on_the_process_port(workload: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    main = _main_container(workload)
    command = _command(workload)
    settings = _settings(monkeypatch, _environment(main))
    ports = {p["name"]: p["containerPort"] for p in main["ports"]}
    expected = {"startupProbe": LIVE_PATH, "livenessProbe": LIVE_PATH, "readinessProbe": READY_PATH}
    for probe, path in expected.items():
        get = main[probe]["httpGet"]
        assert get["path"] in PATHS and get["path"] == path, (probe, get["path"])
        assert ports[get["port"]] == getattr(settings, PORT_SETTING[command]), (probe, get["port"])
    # Probes and scrapers come from other hosts: the process must listen beyond loopback.
    assert getattr(settings, HOST_SETTING[command]) == "0.0.0.0"
    annotations = workload["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/path"] == METRICS_PATH
    assert int(annotations["prometheus.io/port"]) == getattr(settings, PORT_SETTING[command])
    if command == "worker":
        assert ports["sdk-metrics"] == settings.worker_sdk_metrics_port != 0


async def test_the_probe_paths_are_served_by_the_processes_http_servers() -> None:
    """What the probes and scrapers ask for is answered: the worker's and the streams process's
    server (observability.http) on a real socket, and the api's own routes."""
    import httpx

    from console.api.app import create_app
    from observability.http import start_http

    async def all_ready() -> dict[str, bool]:
        return {"postgres": True}

    server = await start_http("127.0.0.1", 0, all_ready)
    try:
        async with httpx.AsyncClient(base_url=server.url) as http:
            for path in PATHS:
                assert (await http.get(path)).status_code == 200, path
    finally:
        await server.stop()
    # The api's routes answer through the app itself (its routers are included, not listed in
    # app.routes); without a database it is live but not ready.
    from console.service import Console

    settings = Settings(console_secret="unit-secret")
    app = create_app(settings, Console(settings=settings, pool=None, secret="unit-secret"))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as api:
        answers = {path: (await api.get(path)).status_code for path in PATHS}
    assert answers == {**{path: 200 for path in PATHS}, READY_PATH: 503}, answers


def _selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector["matchLabels"].items())


@pytest.mark.parametrize("workload", WORKLOADS, ids=[w["metadata"]["name"] for w in WORKLOADS])
def test_each_workload_has_resources_a_budget_and_no_privileges(workload: dict[str, Any]) -> None:
    labels = workload["spec"]["template"]["metadata"]["labels"]
    assert _selects(workload["spec"]["selector"], labels)
    budgets = [p for p in _of_kind("PodDisruptionBudget") if _selects(p["spec"]["selector"], labels)]
    assert len(budgets) == 1, f"{workload['metadata']['name']}: {len(budgets)} PodDisruptionBudgets"
    others = [w for w in WORKLOADS if w is not workload]
    assert not any(_selects(budgets[0]["spec"]["selector"], w["spec"]["template"]["metadata"]["labels"]) for w in others)
    pod = _pod(workload)
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["automountServiceAccountToken"] is False
    for container in _containers(workload):
        resources = container["resources"]
        assert {"cpu", "memory"} <= set(resources["requests"]) and "memory" in resources["limits"], container["name"]
        assert container["securityContext"]["allowPrivilegeEscalation"] is False
        assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]


def test_workers_scale_by_a_horizontal_autoscaler() -> None:
    (worker,) = [w for w in WORKLOADS if _command(w) == "worker"]
    assert worker["kind"] == "Deployment"
    assert "replicas" not in worker["spec"], "the HPA owns the replica count; an apply must not reset it"
    (hpa,) = _of_kind("HorizontalPodAutoscaler")
    target = hpa["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", worker["metadata"]["name"])
    (budget,) = [p for p in _of_kind("PodDisruptionBudget")
                 if _selects(p["spec"]["selector"], worker["spec"]["template"]["metadata"]["labels"])]
    assert budget["spec"]["minAvailable"] < hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]


def test_streams_members_have_stable_names_and_fit_the_partitions(monkeypatch: pytest.MonkeyPatch) -> None:
    (streams,) = [w for w in WORKLOADS if _command(w) == "streams"]
    assert streams["kind"] == "StatefulSet"
    governing = [s for s in _of_kind("Service") if s["metadata"]["name"] == streams["spec"]["serviceName"]]
    assert governing and governing[0]["spec"]["clusterIP"] == "None"
    settings = _settings(monkeypatch, _environment(_main_container(streams)))
    assert 1 <= streams["spec"]["replicas"] <= settings.kafka_partitions


# --- Kafka (Strimzi) -----------------------------------------------------------------------------
# Custom resources: kubernetes-validate has no schema for them and no PyPI package ships
# Strimzi's CRDs, so their required fields and our invariants are checked here
# (deploy/k8s/README.md says how they were checked against the CRDs themselves).

STRIMZI_REQUIRED = {
    "Kafka": ("kafka",),
    "KafkaNodePool": ("replicas", "roles", "storage"),
    "KafkaTopic": ("partitions", "replicas"),
    "KafkaUser": ("authentication",),
}


def test_strimzi_resources_have_their_required_fields() -> None:
    strimzi = [d for _, d in DEPLOYED if d["apiVersion"].startswith(STRIMZI_GROUP)]
    assert {d["kind"] for d in strimzi} == set(STRIMZI_REQUIRED)
    for doc in strimzi:
        assert doc["apiVersion"] == f"{STRIMZI_GROUP}v1", doc["metadata"]["name"]
        assert re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", doc["metadata"]["name"])
        missing = [f for f in STRIMZI_REQUIRED[doc["kind"]] if f not in doc["spec"]]
        assert not missing, (doc["kind"], doc["metadata"]["name"], missing)
        if doc["kind"] != "Kafka":
            assert doc["metadata"]["labels"]["strimzi.io/cluster"] == KAFKA["metadata"]["name"]
    listeners = KAFKA["spec"]["kafka"]["listeners"]
    assert listeners and all({"name", "port", "type", "tls"} <= set(listener) for listener in listeners)


def test_kafka_is_kraft_with_three_brokers_and_two_in_sync(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _cluster_settings(monkeypatch)
    pools = _of_kind("KafkaNodePool")
    brokers = sum(p["spec"]["replicas"] for p in pools if "broker" in p["spec"]["roles"])
    controllers = sum(p["spec"]["replicas"] for p in pools if "controller" in p["spec"]["roles"])
    assert brokers == 3 and controllers == 3
    config = KAFKA["spec"]["kafka"]["config"]
    assert config["min.insync.replicas"] == 2 and config["default.replication.factor"] == 3
    assert config["auto.create.topics.enable"] is False
    assert KAFKA["spec"]["kafka"]["version"] == settings.kafka_version


def test_the_processes_reach_kafka_as_it_is_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _cluster_settings(monkeypatch)
    host, port = settings.kafka_bootstrap.rsplit(":", 1)
    assert host == f"{KAFKA['metadata']['name']}-kafka-bootstrap"
    (listener,) = [li for li in KAFKA["spec"]["kafka"]["listeners"] if li["port"] == int(port)]
    assert listener["tls"] == settings.kafka_security_protocol.endswith("SSL")
    mechanism = (settings.kafka_sasl_mechanism or "").lower()
    assert listener["authentication"]["type"] == mechanism
    user = _one("KafkaUser")
    assert user["metadata"]["name"] == settings.kafka_sasl_username
    assert user["spec"]["authentication"]["type"] == mechanism


def test_kafka_topics_yaml_is_what_its_generator_writes() -> None:
    spec = importlib.util.spec_from_file_location("kafka_topics", K8S / "kafka_topics.py")
    assert spec and spec.loader
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    assert (K8S / "kafka-topics.yaml").read_text(encoding="utf-8") == generator.render(), (
        "deploy/k8s/kafka-topics.yaml is out of date: run .venv/bin/python deploy/k8s/kafka_topics.py")


def test_kafka_topics_are_those_of_contracts_topics(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _cluster_settings(monkeypatch)
    topics = _of_kind("KafkaTopic")
    names = [t["spec"].get("topicName", t["metadata"]["name"]) for t in topics]
    assert sorted(names) == sorted(ALL_TOPICS)
    for topic in topics:
        assert topic["spec"]["partitions"] == settings.kafka_partitions, topic["metadata"]["name"]
        assert topic["spec"]["replicas"] == 3, topic["metadata"]["name"]


# --- Temporal (Helm values) ----------------------------------------------------------------------

HELM = yaml.safe_load(HELM_VALUES.read_text(encoding="utf-8"))


def test_temporal_runs_on_postgresql_with_its_schema_jobs() -> None:
    persistence = HELM["server"]["config"]["persistence"]
    assert isinstance(persistence["numHistoryShards"], int) and persistence["numHistoryShards"] > 0
    stores = persistence["datastores"]
    assert {persistence["defaultStore"], persistence["visibilityStore"]} == set(stores) == {"default", "visibility"}
    names = {}
    for store, config in stores.items():
        sql = config["sql"]
        assert sql["pluginName"] == "postgres12", store
        assert sql["manageSchema"] is True and "createDatabase" in sql, store
        assert sql["existingSecret"] and "password" not in sql, f"{store}: the password belongs in a Secret"
        names[store] = sql["databaseName"]
    assert names == {"default": "temporal", "visibility": "temporal_visibility"}


def _rendered_extra_objects() -> list[dict[str, Any]]:
    # Helm renders these strings with `tpl`; a placeholder stands in for each action.
    return [yaml.safe_load(re.sub(r"\{\{.*?\}\}", "x", text)) for text in HELM["extraObjects"]]


def test_temporal_has_our_namespace_and_search_attributes(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _cluster_settings(monkeypatch)
    namespaces = HELM["server"]["config"]["namespaces"]
    assert namespaces["create"] is True
    assert settings.temporal_namespace in [n["name"] for n in namespaces["namespace"]]
    (job,) = [o for o in _rendered_extra_objects() if o["kind"] == "Job"]
    for version in KUBERNETES_VERSIONS:
        kubernetes_validate.validate(job, version, strict=True)
    (container,) = job["spec"]["template"]["spec"]["containers"]
    argv = container["command"]
    assert argv[:4] == ["temporal", "operator", "search-attribute", "create"]
    options = list(zip(argv[4::2], argv[5::2], strict=True))
    assert ("--namespace", settings.temporal_namespace) in options
    names = [v for k, v in options if k == "--name"]
    kinds = [v for k, v in options if k == "--type"]
    assert dict(zip(names, kinds, strict=True)) == SEARCH_ATTRIBUTES and len(names) == len(kinds) == len(SEARCH_ATTRIBUTES)


def test_the_helm_values_checker_finds_unknown_keys() -> None:
    spec = importlib.util.spec_from_file_location("check_values", REPO_ROOT / "deploy" / "helm" / "check_values.py")
    assert spec and spec.loader
    checker = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(checker)
    chart = {"server": {"replicaCount": 1, "resources": {}, "config": {"persistence": {"datastores": {"default": None}}}}}
    ours = {"server": {"replicaCont": 2, "resources": {"requests": {"cpu": 1}},
                       "config": {"persistence": {"datastores": {"default": {"sql": {}}}}}}}
    assert checker.unknown_keys(ours, chart) == ["server.replicaCont"]


# --- the image -----------------------------------------------------------------------------------

def _instructions() -> list[tuple[str, str]]:
    text = CONTAINERFILE.read_text(encoding="utf-8")
    logical = re.sub(r"\\\n", " ", text)
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1].strip())
            for line in logical.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def test_the_containerfile_installs_the_pinned_project_as_a_non_root_jiuye() -> None:
    instructions = _instructions()
    bases = [arg.split()[0] for op, arg in instructions if op == "FROM"]
    assert bases and all(b.startswith("python:3.11-slim") for b in bases), bases
    runs = [arg for op, arg in instructions if op == "RUN"]
    assert any(re.search(r"\bpip install\b.*-c constraints\.txt", r) for r in runs), "not installed with constraints.txt"
    copies = [arg.split() for op, arg in instructions if op == "COPY" and not arg.startswith("--from")]
    copied = {PurePosixPath(src).parts[0] for args in copies for src in args[:-1]}
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    packages = {p.split(".")[0] for p in pyproject["tool"]["setuptools"]["packages"]}
    assert packages | {"pyproject.toml", "constraints.txt"} <= copied, packages - copied
    (user,) = [arg for op, arg in instructions if op == "USER"]
    uid = user.split(":")[0]
    assert uid not in ("0", "root")
    for workload in WORKLOADS:
        assert str(_pod(workload)["securityContext"]["runAsUser"]) == uid
    (entrypoint,) = [arg for op, arg in instructions if op == "ENTRYPOINT"]
    assert yaml.safe_load(entrypoint) == ["jiuye"] and "jiuye" in pyproject["project"]["scripts"]
