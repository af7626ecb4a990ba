package k8s_test

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/stampede-load/stampede/internal/testcluster"
)

// userSecrets are the Secrets a user creates before the pods can start, as
// docs/kubernetes.md shows (they are not part of the manifests, so no
// secret is ever committed): the API tokens and the ZooKeeper secret.
func userSecrets() map[string]map[string]string {
	return map[string]map[string]string{
		"stampede-tokens":  {"tokens": testcluster.TokensFileContent()},
		"stampede-zk-auth": {"zk-auth": testcluster.ZKAuth + "\n"},
	}
}

// mountSecrets plays the kubelet for a pod's Secret volumes: each mounted
// one is written into a directory of its own (its items, or every key),
// with the volume's file mode, and the mountPath is mapped to it. A Secret
// the user did not create fails the test (the kubelet would keep the pod
// waiting).
func (lc *localCluster) mountSecrets(pod *localPod) map[string]string {
	lc.t.Helper()
	volumes := map[string]Volume{}
	for _, v := range lc.template(pod).Spec.Volumes {
		volumes[v.Name] = v
	}
	secrets := userSecrets()
	out := map[string]string{}
	for _, m := range pod.container.VolumeMounts {
		v, ok := volumes[m.Name]
		if !ok || v.Secret == nil {
			continue
		}
		data, ok := secrets[v.Secret.SecretName]
		if !ok {
			lc.t.Fatalf("pod %s mounts Secret %s, which docs/kubernetes.md does not have users create", pod.name, v.Secret.SecretName)
		}
		dir := filepath.Join(lc.dir, pod.name, strings.Trim(m.MountPath, "/"))
		if err := os.MkdirAll(dir, 0o700); err != nil {
			lc.t.Fatal(err)
		}
		mode := os.FileMode(0o644)
		if v.Secret.DefaultMode != nil {
			mode = os.FileMode(*v.Secret.DefaultMode)
		}
		files := map[string]string{}
		for k := range data {
			files[k] = k
		}
		if len(v.Secret.Items) > 0 {
			files = map[string]string{}
			for _, it := range v.Secret.Items {
				files[it.Key] = it.Path
			}
		}
		for key, p := range files {
			val, ok := data[key]
			if !ok {
				lc.t.Fatalf("pod %s: Secret %s has no key %q", pod.name, v.Secret.SecretName, key)
			}
			if err := os.WriteFile(filepath.Join(dir, p), []byte(val), mode); err != nil {
				lc.t.Fatal(err)
			}
		}
		out[m.MountPath] = dir
	}
	return out
}
