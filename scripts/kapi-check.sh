#!/usr/bin/env bash
# kapi-check.sh - check Stampede's kustomize manifests against a real
# kube-apiserver (started on 127.0.0.1 by kapi-up.sh, stopped at the end):
#
#   1. `kubectl kustomize` renders k8s/ and k8s/overlays/with-target;
#   2. the Namespace is created, then `kubectl apply --dry-run=server
#      --validate=strict` accepts every rendered object with no warning
#      (the namespace enforces and warns on the "restricted" Pod Security
#      Standard, so a pod template that breaks it shows up here);
#   3. a real `kubectl apply` stores them, every object reads back, and the
#      README's `kubectl scale` and tear-down commands work;
#   4. negative controls: a privileged pod template gets a PodSecurity
#      warning and a selector that misses its template is refused, so steps
#      2-3 can fail.
#
#   scripts/kapi-check.sh [REPO_ROOT]      (KAPI_BIN / ETCD_BIN as for kapi-up.sh)
# Ends with "k8s-check: N passed, 0 failed"; exits non-zero on any failure.
set -uo pipefail

root="$(cd "${1:-$(dirname "$0")/..}" && pwd)"
here="$root/scripts"
work="$(mktemp -d "${TMPDIR:-/tmp}/stampede-k8s-check.XXXXXX")"
passed=0 failed=0

pass() { passed=$((passed + 1)); echo "PASS $*"; }
fail() { failed=$((failed + 1)); echo "FAIL $*"; }
cleanup() { "$here/kapi-down.sh" "$work/kapi"; rm -rf -- "$work"; }
trap cleanup EXIT

# render NAME DIR: kubectl kustomize DIR > $work/NAME.yaml
render() {
  if kubectl kustomize "$root/$2" > "$work/$1.yaml" 2> "$work/$1.err"; then
    pass "kubectl kustomize $2 renders $(grep -c '^kind:' "$work/$1.yaml") objects"
  else
    fail "kubectl kustomize $2: $(cat "$work/$1.err")"
  fi
}

# only_kind KIND FILE: the documents of FILE whose kind is KIND
only_kind() { awk -v k="kind: $1" 'BEGIN{RS="\n---\n"} $0 ~ "(^|\n)" k "(\n|$)" {printf "---\n%s\n", $0}' "$2"; }

# apply_clean WHAT ARGS...: kubectl apply ARGS must succeed with no warning
apply_clean() {
  local what="$1"; shift
  if kubectl apply "$@" > "$work/out" 2> "$work/err" && ! grep -qi 'warning' "$work/err"; then
    pass "$what: $(wc -l < "$work/out") objects ($(sed 's/ (server dry run)$/ (dry run)/' "$work/out" | awk '{print $2, $3, $4}' | sort | uniq -c | xargs))"
  else
    fail "$what: $(cat "$work/err" "$work/out")"
  fi
}

echo "== render"
render base k8s
render with-target k8s/overlays/with-target
(( failed == 0 )) || { echo "k8s-check: $passed passed, $failed failed"; exit 1; }

echo "== start kube-apiserver"
if ! KUBECONFIG="$("$here/kapi-up.sh" "$work/kapi")"; then
  echo "k8s-check: $passed passed, 1 failed (kube-apiserver did not start)"; exit 1
fi
export KUBECONFIG
pass "kube-apiserver $(kubectl version -o json 2>/dev/null | sed -n 's/.*"gitVersion": "\(v[^"]*\)".*/\1/p' | tail -1) ready"

echo "== dry-run=server"
only_kind Namespace "$work/base.yaml" > "$work/ns.yaml"
apply_clean "dry-run=server Namespace" --dry-run=server --validate=strict -f "$work/ns.yaml"
apply_clean "apply Namespace" --validate=strict -f "$work/ns.yaml"
apply_clean "dry-run=server k8s/" --dry-run=server --validate=strict -f "$work/base.yaml"
apply_clean "dry-run=server k8s/overlays/with-target" --dry-run=server --validate=strict -f "$work/with-target.yaml"
if [[ "$(kubectl get all -n stampede -o name 2>/dev/null | wc -l)" == 0 ]]; then
  pass "dry-run stored nothing"
else
  fail "dry-run stored objects: $(kubectl get all -n stampede -o name)"
fi

echo "== apply"
apply_clean "apply k8s/" --validate=strict -f "$work/base.yaml"
apply_clean "apply k8s/overlays/with-target" --validate=strict -f "$work/with-target.yaml"
want="$(grep -c '^kind:' "$work/with-target.yaml")"
got="$(kubectl get -f "$work/with-target.yaml" -o name 2>&1 | grep -c /)"
if [[ "$got" == "$want" ]]; then pass "all $want objects read back"; else fail "read back $got of $want objects"; fi

# Stored values, as the API server defaulted and kept them.
expect() { # WHAT WANT COMMAND...
  local what="$1" want="$2" got; shift 2
  got="$("$@" 2>&1)"
  if [[ "$got" == "$want" ]]; then pass "$what = $want"; else fail "$what: got '$got', want '$want'"; fi
}
ns=(-n stampede)
expect "statefulset/zk replicas" 3 kubectl "${ns[@]}" get statefulset zk -o 'jsonpath={.spec.replicas}'
expect "deployment/master replicas" 2 kubectl "${ns[@]}" get deployment master -o 'jsonpath={.spec.replicas}'
expect "deployment/worker replicas" 3 kubectl "${ns[@]}" get deployment worker -o 'jsonpath={.spec.replicas}'
expect "pdb/zk maxUnavailable" 1 kubectl "${ns[@]}" get pdb zk -o 'jsonpath={.spec.maxUnavailable}'
expect "service/zk-hs clusterIP" None kubectl "${ns[@]}" get service zk-hs -o 'jsonpath={.spec.clusterIP}'
kubectl "${ns[@]}" scale deployment/worker --replicas=5 > /dev/null 2>&1
expect "after kubectl scale, deployment/worker replicas" 5 kubectl "${ns[@]}" get deployment worker -o 'jsonpath={.spec.replicas}'

echo "== negative controls"
# A master that may escalate privileges: the namespace's PodSecurity label must warn.
mkdir -p "$work/bad-psa" "$work/bad-selector"
cp "$work/with-target.yaml" "$work/bad-psa/all.yaml"
cat > "$work/bad-psa/kustomization.yaml" <<'K'
resources: [all.yaml]
patches:
  - target: {kind: Deployment, name: master}
    patch: |
      - op: replace
        path: /spec/template/spec/containers/0/securityContext
        value: {allowPrivilegeEscalation: true}
K
kubectl kustomize "$work/bad-psa" > "$work/bad-psa.yaml"
kubectl apply --dry-run=server -f "$work/bad-psa.yaml" > /dev/null 2> "$work/err"
if grep -q 'would violate PodSecurity "restricted' "$work/err"; then
  pass "a master template allowing privilege escalation is flagged: $(grep -o 'would violate PodSecurity[^:]*' "$work/err" | head -1)"
else
  fail "a master template allowing privilege escalation was not flagged: $(cat "$work/err")"
fi
cp "$work/with-target.yaml" "$work/bad-selector/all.yaml"
cat > "$work/bad-selector/kustomization.yaml" <<'K'
resources: [all.yaml]
patches:
  - target: {kind: Deployment, name: worker}
    patch: |
      - op: replace
        path: /spec/template/metadata/labels/app.kubernetes.io~1name
        value: not-a-worker
K
kubectl kustomize "$work/bad-selector" > "$work/bad-selector.yaml"
if kubectl apply --dry-run=server -f "$work/bad-selector.yaml" > /dev/null 2> "$work/err"; then
  fail "a worker template that its selector misses was accepted"
elif grep -q 'selector.* does not match template .*labels' "$work/err"; then
  pass "a worker template that its selector misses is refused"
else
  fail "unexpected error for the selector control: $(cat "$work/err")"
fi

echo "== tear down"
# kubectl delete -k removes every object; with no controller-manager the
# namespace itself would stay Terminating, so only the namespaced objects are
# checked here (the whole server is thrown away next).
if kubectl delete -f <(awk 'BEGIN{RS="\n---\n"} !/(^|\n)kind: Namespace(\n|$)/ {printf "---\n%s\n", $0}' "$work/with-target.yaml") > "$work/out" 2> "$work/err"; then
  left="$(kubectl get -f "$work/with-target.yaml" -o name 2>/dev/null | grep -vc '^namespace/')"
  if [[ "$left" == 0 ]]; then pass "delete removed $(wc -l < "$work/out") objects"; else fail "$left objects left after delete"; fi
else
  fail "delete: $(cat "$work/err")"
fi

echo "k8s-check: $passed passed, $failed failed"
(( failed == 0 ))
