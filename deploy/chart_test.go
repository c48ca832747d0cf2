// Package deploy_test renders the Helm chart in helm/coldserve with the Helm Go SDK and checks
// every object it produces: each is decoded strictly (an unknown or misspelt field fails) into
// its k8s.io/api type, then the Deployment's probes, security context, checkpoint mount,
// OMP_NUM_THREADS and Secret wiring, the checkpoint document, the HPA, the PDB and the
// ServiceMonitor are asserted, over a table of value sets. lint_test.go runs the SDK's helm lint.
//
// Run it with `cd deploy && go test ./...` (make test at the repository root does). The module
// is separate from the server's so that the Helm SDK stays out of the server's go.mod. Keep every
// Go file here a _test.go file: the root's TestLayout walks into this directory and would ask for
// any non-test package to be added to its layers.
package deploy_test

import (
	"bytes"
	"fmt"
	"maps"
	"path"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/yaml"
)

const (
	chartDir  = "helm/coldserve"
	release   = "fleet"
	namespace = "ml"
	fullname  = "fleet-coldserve"
)

// serviceMonitor is the part of the Prometheus Operator's ServiceMonitor (monitoring.coreos.com/v1)
// the chart writes; strict decoding makes any other field an error.
type serviceMonitor struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		Selector          metav1.LabelSelector `json:"selector"`
		NamespaceSelector struct {
			MatchNames []string `json:"matchNames"`
		} `json:"namespaceSelector"`
		Endpoints []struct {
			Port          string `json:"port"`
			Path          string `json:"path"`
			Interval      string `json:"interval"`
			ScrapeTimeout string `json:"scrapeTimeout"`
		} `json:"endpoints"`
	} `json:"spec"`
}

// declaredCheckpoint is the --checkpoint-file document (see the server's README).
type declaredCheckpoint struct {
	Source              string   `json:"source"`
	Revision            string   `json:"revision"`
	SHA256              string   `json:"sha256,omitempty"`
	MinCosine           *float64 `json:"min_cosine,omitempty"`
	AllowGeometryChange bool     `json:"allow_geometry_change,omitempty"`
}

// rendered holds the decoded objects of one rendering, at most one of each kind.
type rendered struct {
	deployment     *appsv1.Deployment
	service        *corev1.Service
	configMap      *corev1.ConfigMap
	secret         *corev1.Secret
	serviceAccount *corev1.ServiceAccount
	pvc            *corev1.PersistentVolumeClaim
	pdb            *policyv1.PodDisruptionBudget
	hpa            *autoscalingv2.HorizontalPodAutoscaler
	serviceMonitor *serviceMonitor
	notes          string
	kinds          []string
}

var loadedChart *chart.Chart

func loadChart(t *testing.T) *chart.Chart {
	t.Helper()
	if loadedChart == nil {
		c, err := loader.Load(chartDir)
		if err != nil {
			t.Fatalf("load %s: %v", chartDir, err)
		}
		loadedChart = c
	}
	return loadedChart
}

// capabilities of the cluster the chart is rendered for.
func capabilities(minor int) *chartutil.Capabilities {
	caps := chartutil.DefaultCapabilities.Copy()
	caps.KubeVersion = chartutil.KubeVersion{Version: fmt.Sprintf("v1.%d.0", minor), Major: "1", Minor: fmt.Sprint(minor)}
	return caps
}

// renderChart renders the chart with the given values (YAML, as a -f file) and returns the
// manifests by template path.
func renderChart(t *testing.T, valuesYAML string, kubeMinor int) (map[string]string, error) {
	t.Helper()
	c := loadChart(t)
	vals, err := chartutil.ReadValues([]byte(valuesYAML))
	if err != nil {
		t.Fatalf("values: %v", err)
	}
	caps := capabilities(kubeMinor)
	if !chartutil.IsCompatibleRange(c.Metadata.KubeVersion, caps.KubeVersion.Version) {
		t.Fatalf("chart kubeVersion %q excludes %s", c.Metadata.KubeVersion, caps.KubeVersion.Version)
	}
	top, err := chartutil.ToRenderValues(c, vals, chartutil.ReleaseOptions{Name: release, Namespace: namespace, Revision: 1, IsInstall: true}, caps)
	if err != nil {
		t.Fatalf("render values: %v", err)
	}
	return engine.Render(c, top)
}

// render renders and strictly decodes every object.
func render(t *testing.T, valuesYAML string, kubeMinor int) *rendered {
	t.Helper()
	files, err := renderChart(t, valuesYAML, kubeMinor)
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	r := &rendered{}
	for _, name := range names {
		if path.Base(name) == "NOTES.txt" {
			r.notes = files[name]
			continue
		}
		for i, doc := range splitDocuments(files[name]) {
			decodeObject(t, fmt.Sprintf("%s#%d", name, i), doc, r)
		}
	}
	return r
}

func splitDocuments(s string) [][]byte {
	var docs [][]byte
	for _, d := range strings.Split("\n"+s, "\n---") {
		if d = strings.TrimSpace(d); d != "" && !onlyComments(d) {
			docs = append(docs, []byte(d))
		}
	}
	return docs
}

func onlyComments(doc string) bool {
	for _, line := range strings.Split(doc, "\n") {
		if l := strings.TrimSpace(line); l != "" && !strings.HasPrefix(l, "#") {
			return false
		}
	}
	return true
}

// decodeObject decodes one manifest strictly into the type of its kind and checks its metadata.
func decodeObject(t *testing.T, where string, doc []byte, r *rendered) {
	t.Helper()
	var tm metav1.TypeMeta
	if err := yaml.Unmarshal(doc, &tm); err != nil {
		t.Fatalf("%s: %v\n%s", where, err, doc)
	}
	targets := map[string]struct {
		apiVersion string
		obj        any
	}{
		"Deployment":              {"apps/v1", &r.deployment},
		"Service":                 {"v1", &r.service},
		"ConfigMap":               {"v1", &r.configMap},
		"Secret":                  {"v1", &r.secret},
		"ServiceAccount":          {"v1", &r.serviceAccount},
		"PersistentVolumeClaim":   {"v1", &r.pvc},
		"PodDisruptionBudget":     {"policy/v1", &r.pdb},
		"HorizontalPodAutoscaler": {"autoscaling/v2", &r.hpa},
		"ServiceMonitor":          {"monitoring.coreos.com/v1", &r.serviceMonitor},
	}
	target, ok := targets[tm.Kind]
	if !ok {
		t.Fatalf("%s: unexpected kind %q", where, tm.Kind)
	}
	if tm.APIVersion != target.apiVersion {
		t.Errorf("%s: %s has apiVersion %q, want %q", where, tm.Kind, tm.APIVersion, target.apiVersion)
	}
	if slices.Contains(r.kinds, tm.Kind) {
		t.Fatalf("%s: a second %s", where, tm.Kind)
	}
	r.kinds = append(r.kinds, tm.Kind)
	// target.obj is a **T: allocate the T and decode into it, refusing unknown fields.
	ptr := reflect.ValueOf(target.obj).Elem()
	ptr.Set(reflect.New(ptr.Type().Elem()))
	if err := yaml.UnmarshalStrict(doc, ptr.Interface()); err != nil {
		t.Fatalf("%s: strict decode of %s: %v\n%s", where, tm.Kind, err, doc)
	}
	meta := ptr.Elem().FieldByName("ObjectMeta").Interface().(metav1.ObjectMeta)
	for _, msg := range validation.IsDNS1123Subdomain(meta.Name) {
		t.Errorf("%s: name %q: %s", where, meta.Name, msg)
	}
	checkLabels(t, where, meta.Labels)
	if meta.Labels["app.kubernetes.io/instance"] != release || meta.Labels["app.kubernetes.io/name"] != "coldserve" {
		t.Errorf("%s: labels %v lack this release's name and instance", where, meta.Labels)
	}
}

func checkLabels(t *testing.T, where string, l map[string]string) {
	t.Helper()
	for k, v := range l {
		for _, msg := range validation.IsQualifiedName(k) {
			t.Errorf("%s: label key %q: %s", where, k, msg)
		}
		for _, msg := range validation.IsValidLabelValue(v) {
			t.Errorf("%s: label %s value %q: %s", where, k, v, msg)
		}
	}
}

func container(t *testing.T, d *appsv1.Deployment) corev1.Container {
	t.Helper()
	if d == nil {
		t.Fatal("no Deployment rendered")
	}
	cs := d.Spec.Template.Spec.Containers
	if len(cs) != 1 || cs[0].Name != "coldserve" {
		t.Fatalf("containers %v: want one named coldserve", cs)
	}
	return cs[0]
}

func envVar(c corev1.Container, name string) *corev1.EnvVar {
	for i := range c.Env {
		if c.Env[i].Name == name {
			return &c.Env[i]
		}
	}
	return nil
}

// flagValue returns the value of --name=VALUE in args, and whether it is there.
func flagValue(args []string, name string) (string, bool) {
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, "--"+name+"="); ok {
			return v, true
		}
		if a == "--"+name {
			return "", true
		}
	}
	return "", false
}

func volume(spec corev1.PodSpec, name string) *corev1.Volume {
	for i := range spec.Volumes {
		if spec.Volumes[i].Name == name {
			return &spec.Volumes[i]
		}
	}
	return nil
}

func mount(c corev1.Container, name string) *corev1.VolumeMount {
	for i := range c.VolumeMounts {
		if c.VolumeMounts[i].Name == name {
			return &c.VolumeMounts[i]
		}
	}
	return nil
}

// want is what one value set must render.
type want struct {
	kinds        []string // every kind rendered, sorted
	replicas     *int32   // nil: left to the HPA
	secretName   string   // "" when no Secret is wired
	secretKeys   []string // the keys of the chart's Secret
	omp          string   // OMP_NUM_THREADS value; "downward" for resourceFieldRef limits.cpu
	cacheClaim   string   // "" for the emptyDir cache
	checkpoint   declaredCheckpoint
	bootFromCM   bool
	queueTarget  string // HPA averageValue; "" when there is no HPA
	preStopSleep bool   // native sleep action (else exec sleep)
}

func TestChart(t *testing.T) {
	two := int32(2)
	base := []string{"ConfigMap", "Deployment", "PodDisruptionBudget", "Secret", "Service", "ServiceAccount"}
	with := func(extra ...string) []string { k := append(slices.Clone(base), extra...); sort.Strings(k); return k }
	defaultCheckpoint := declaredCheckpoint{Source: "ibm/ColD-Fusion", Revision: "main"}
	tests := []struct {
		name      string
		values    string
		kubeMinor int
		want      want
	}{
		{"defaults", "", 31, want{kinds: base, replicas: &two, secretName: fullname, omp: "downward",
			checkpoint: defaultCheckpoint, preStopSleep: true}},
		{"hpa", `
autoscaling: {enabled: true, minReplicas: 3, maxReplicas: 12, queue: {averageValue: "24"}}
topologySpreadConstraints: [{maxSkew: 1, topologyKey: topology.kubernetes.io/zone, whenUnsatisfiable: ScheduleAnyway}]
`, 31, want{kinds: with("HorizontalPodAutoscaler"), secretName: fullname, omp: "downward",
			checkpoint: defaultCheckpoint, queueTarget: "24", preStopSleep: true}},
		{"service monitor", `
serviceMonitor: {enabled: true, labels: {release: kube-prometheus-stack}}
`, 31, want{kinds: with("ServiceMonitor"), replicas: &two, secretName: fullname, omp: "downward",
			checkpoint: defaultCheckpoint, preStopSleep: true}},
		{"chart secret with values", `
secret: {hfToken: hf_abc, apiKeys: [k1, k2], adminToken: adm}
`, 31, want{kinds: base, replicas: &two, secretName: fullname, secretKeys: []string{"COLDSERVE_ADMIN_TOKEN", "COLDSERVE_API_KEY", "HF_TOKEN"},
			omp: "downward", checkpoint: defaultCheckpoint, preStopSleep: true}},
		{"existing secret", `
secret: {existingSecret: coldserve-credentials, keys: {hfToken: hf, apiKey: api, adminToken: admin}}
`, 31, want{kinds: without(base, "Secret"), replicas: &two, secretName: "coldserve-credentials", omp: "downward",
			checkpoint: defaultCheckpoint, preStopSleep: true}},
		{"pvc cache", `
cache: {type: pvc, pvc: {size: 20Gi, storageClassName: fast}}
`, 31, want{kinds: with("PersistentVolumeClaim"), replicas: &two, secretName: fullname, omp: "downward",
			cacheClaim: fullname + "-hf-cache", checkpoint: defaultCheckpoint, preStopSleep: true}},
		{"existing claim cache", `
cache: {type: existingClaim, existingClaim: shared-hf}
`, 31, want{kinds: base, replicas: &two, secretName: fullname, omp: "downward",
			cacheClaim: "shared-hf", checkpoint: defaultCheckpoint, preStopSleep: true}},
		{"pinned checkpoint with drift gate", `
checkpoint:
  source: ibm/ColD-Fusion-itr13-seed0
  revision: 0123456789abcdef0123456789abcdef01234567
  sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
  minCosine: 0.985
  allowGeometryChange: true
  poll: 30s
`, 31, want{kinds: base, replicas: &two, secretName: fullname, omp: "downward", preStopSleep: true,
			checkpoint: declaredCheckpoint{Source: "ibm/ColD-Fusion-itr13-seed0", Revision: "0123456789abcdef0123456789abcdef01234567",
				SHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", MinCosine: ptr(0.985), AllowGeometryChange: true}}},
		{"checkpoint id pin and numeric-looking strings", `
checkpoint: {source: ibm/ColD-Fusion-itr14, revision: "1234567", sha256: "012345678901"}
`, 31, want{kinds: base, replicas: &two, secretName: fullname, omp: "downward", preStopSleep: true,
			checkpoint: declaredCheckpoint{Source: "ibm/ColD-Fusion-itr14", Revision: "1234567", SHA256: "012345678901"}}},
		{"boot from checkpoint, two workers, old cluster", `
model: {bootFromCheckpoint: true}
server: {workers: 2}
resources: {requests: {cpu: "4", memory: 3Gi}, limits: {cpu: 4000m, memory: 4Gi}}
`, 29, want{kinds: base, replicas: &two, secretName: fullname, omp: "2", checkpoint: defaultCheckpoint, bootFromCM: true}},
		{"explicit threads, no secret, no PDB", `
ompNumThreads: 3
secret: {create: false}
podDisruptionBudget: {enabled: false}
`, 31, want{kinds: without(base, "Secret", "PodDisruptionBudget"), replicas: &two, omp: "3",
			checkpoint: defaultCheckpoint, preStopSleep: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := render(t, tt.values, tt.kubeMinor)
			kinds := slices.Clone(r.kinds)
			sort.Strings(kinds)
			if !slices.Equal(kinds, tt.want.kinds) {
				t.Errorf("kinds %v, want %v", kinds, tt.want.kinds)
			}
			vals := effectiveValues(t, tt.values)
			checkDeployment(t, r, tt.want, vals)
			checkCheckpoint(t, r, tt.want)
			checkSecret(t, r, tt.want)
			checkService(t, r)
			checkPDB(t, r)
			checkHPA(t, r, tt.want)
			checkServiceMonitor(t, r)
			if r.pvc != nil {
				if got := r.pvc.Spec.Resources.Requests[corev1.ResourceStorage]; got.Cmp(resource.MustParse("20Gi")) != 0 ||
					r.pvc.Spec.StorageClassName == nil || *r.pvc.Spec.StorageClassName != "fast" {
					t.Errorf("PVC %+v: want 20Gi of class fast", r.pvc.Spec)
				}
				if r.pvc.Annotations["helm.sh/resource-policy"] != "keep" {
					t.Error("the cache PVC is not kept on uninstall")
				}
			}
			if r.serviceAccount != nil && (r.serviceAccount.AutomountServiceAccountToken == nil || *r.serviceAccount.AutomountServiceAccountToken) {
				t.Error("the ServiceAccount mounts a token")
			}
			if !strings.Contains(r.notes, "helm upgrade "+release) {
				t.Errorf("NOTES.txt lacks the roll-out command:\n%s", r.notes)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func without(kinds []string, drop ...string) []string {
	return slices.DeleteFunc(slices.Clone(kinds), func(k string) bool { return slices.Contains(drop, k) })
}

// effectiveValues are the chart defaults coalesced with the overrides.
func effectiveValues(t *testing.T, valuesYAML string) chartutil.Values {
	t.Helper()
	over, err := chartutil.ReadValues([]byte(valuesYAML))
	if err != nil {
		t.Fatal(err)
	}
	v, err := chartutil.CoalesceValues(loadChart(t), over)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func checkDeployment(t *testing.T, r *rendered, w want, vals chartutil.Values) {
	t.Helper()
	d := r.deployment
	c := container(t, d)
	spec := d.Spec.Template.Spec
	if d.Name != fullname {
		t.Errorf("Deployment name %q, want %q", d.Name, fullname)
	}
	if !reflect.DeepEqual(d.Spec.Replicas, w.replicas) {
		t.Errorf("replicas %v, want %v", d.Spec.Replicas, w.replicas)
	}
	sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil || !sel.Matches(labels.Set(d.Spec.Template.Labels)) {
		t.Errorf("selector %v does not match the pod labels %v (%v)", d.Spec.Selector, d.Spec.Template.Labels, err)
	}
	checkLabels(t, "pod template", d.Spec.Template.Labels)
	if c.Image != "ghcr.io/coldserve/coldserve:"+loadChart(t).Metadata.AppVersion {
		t.Errorf("image %q", c.Image)
	}
	if len(c.Args) == 0 || c.Args[0] != "serve" {
		t.Errorf("args %v: want the serve command first", c.Args)
	}
	if addr, _ := flagValue(c.Args, "addr"); addr != "0.0.0.0:8080" {
		t.Errorf("--addr %q, want 0.0.0.0:8080", addr)
	}

	// Probes: startup on /readyz with a budget for a Hub download, readiness /readyz, liveness /healthz.
	if len(c.Ports) != 1 || c.Ports[0].Name != "http" || c.Ports[0].ContainerPort != 8080 {
		t.Errorf("ports %v: want http 8080", c.Ports)
	}
	for _, p := range []struct {
		name  string
		probe *corev1.Probe
		path  string
	}{{"startup", c.StartupProbe, "/readyz"}, {"readiness", c.ReadinessProbe, "/readyz"}, {"liveness", c.LivenessProbe, "/healthz"}} {
		if p.probe == nil || p.probe.HTTPGet == nil {
			t.Errorf("%s probe: missing or not an HTTP GET: %+v", p.name, p.probe)
			continue
		}
		if p.probe.HTTPGet.Path != p.path || p.probe.HTTPGet.Port.String() != "http" {
			t.Errorf("%s probe GETs %s on port %s, want %s on http", p.name, p.probe.HTTPGet.Path, p.probe.HTTPGet.Port.String(), p.path)
		}
		if p.probe.TimeoutSeconds < 1 {
			t.Errorf("%s probe: timeoutSeconds %d", p.name, p.probe.TimeoutSeconds)
		}
	}
	if sp := c.StartupProbe; sp != nil {
		budget := time.Duration(sp.PeriodSeconds*sp.FailureThreshold) * time.Second
		if budget < 15*time.Minute {
			t.Errorf("startup budget %v (period %ds × %d failures): want at least 15 min for a 500 MB Hub download", budget, sp.PeriodSeconds, sp.FailureThreshold)
		}
	}

	// Security: non-root, read-only root filesystem, no privilege escalation, no capabilities, seccomp.
	psc := spec.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil || *psc.RunAsUser != 10001 {
		t.Errorf("pod securityContext %+v: want runAsNonRoot and the image's uid 10001", psc)
	}
	if psc == nil || psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Error("pod seccomp profile is not RuntimeDefault")
	}
	sc := c.SecurityContext
	switch {
	case sc == nil:
		t.Fatal("no container securityContext")
	case sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem:
		t.Error("root filesystem is writable")
	case sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation:
		t.Error("privilege escalation allowed")
	case sc.Privileged != nil && *sc.Privileged:
		t.Error("privileged container")
	case sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot:
		t.Error("container runAsNonRoot not set")
	case sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) > 0:
		t.Errorf("capabilities %+v: want drop [ALL], add none", sc.Capabilities)
	case sc.SeccompProfile == nil || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault:
		t.Error("container seccomp profile is not RuntimeDefault")
	}
	if spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken {
		t.Error("a service account token is mounted")
	}

	// Writable places: /tmp and the HF cache, both volumes.
	tmp := volume(spec, "tmp")
	if m := mount(c, "tmp"); m == nil || m.MountPath != "/tmp" || tmp == nil || tmp.EmptyDir == nil {
		t.Errorf("/tmp: mount %+v, volume %+v: want an emptyDir", m, tmp)
	}
	home := envVar(c, "HF_HOME")
	cacheMount := mount(c, "hf-cache")
	if home == nil || cacheMount == nil || home.Value != cacheMount.MountPath || cacheMount.ReadOnly {
		t.Errorf("HF_HOME %+v is not the writable cache mount %+v", home, cacheMount)
	}
	cache := volume(spec, "hf-cache")
	switch {
	case cache == nil:
		t.Error("no hf-cache volume")
	case w.cacheClaim == "" && (cache.EmptyDir == nil || cache.EmptyDir.SizeLimit == nil):
		t.Errorf("cache volume %+v: want an emptyDir with a size limit", cache.VolumeSource)
	case w.cacheClaim != "" && (cache.PersistentVolumeClaim == nil || cache.PersistentVolumeClaim.ClaimName != w.cacheClaim):
		t.Errorf("cache volume %+v: want the claim %s", cache.VolumeSource, w.cacheClaim)
	}
	if w.cacheClaim != "" && r.pvc != nil && r.pvc.Name != w.cacheClaim {
		t.Errorf("created PVC %s, the pods use %s", r.pvc.Name, w.cacheClaim)
	}

	// The checkpoint ConfigMap: a directory mount (no subPath, or updates never arrive), and the
	// flag and the env pointing at the file inside it.
	cm := mount(c, "checkpoint")
	cv := volume(spec, "checkpoint")
	if cm == nil || cv == nil || cv.ConfigMap == nil {
		t.Fatalf("checkpoint mount %+v, volume %+v: want a ConfigMap volume", cm, cv)
	}
	if cm.SubPath != "" || cm.SubPathExpr != "" {
		t.Errorf("checkpoint mounted with subPath %q (subPathExpr %q): ConfigMap updates would never reach the pod", cm.SubPath, cm.SubPathExpr)
	}
	if !cm.ReadOnly {
		t.Error("checkpoint mount is writable")
	}
	if r.configMap == nil || cv.ConfigMap.Name != r.configMap.Name {
		t.Fatalf("checkpoint volume names ConfigMap %q, rendered %v", cv.ConfigMap.Name, r.configMap)
	}
	file, ok := flagValue(c.Args, "checkpoint-file")
	if !ok || path.Dir(file) != path.Clean(cm.MountPath) {
		t.Errorf("--checkpoint-file %q is not inside the mount %s", file, cm.MountPath)
	}
	if e := envVar(c, "COLDSERVE_CHECKPOINT_FILE"); e == nil || e.Value != file {
		t.Errorf("COLDSERVE_CHECKPOINT_FILE %+v, want %q", e, file)
	}
	if len(cv.ConfigMap.Items) != 1 || cv.ConfigMap.Items[0].Path != path.Base(file) || r.configMap.Data[cv.ConfigMap.Items[0].Key] == "" {
		t.Errorf("volume items %+v do not put a ConfigMap key at %s", cv.ConfigMap.Items, path.Base(file))
	}
	if poll, ok := flagValue(c.Args, "checkpoint-poll"); !ok {
		t.Error("no --checkpoint-poll")
	} else if _, err := time.ParseDuration(poll); err != nil {
		t.Errorf("--checkpoint-poll %q: %v", poll, err)
	}
	for k := range d.Spec.Template.Annotations {
		if strings.Contains(k, "checkpoint") || (strings.HasPrefix(k, "checksum/") && k != "checksum/secret") {
			t.Errorf("pod annotation %s: a checkpoint change must not restart the pods", k)
		}
	}

	// The boot model: flags from model.*, or env from the ConfigMap.
	model, hasModel := flagValue(c.Args, "model")
	if w.bootFromCM {
		for _, name := range []string{"COLDSERVE_MODEL", "COLDSERVE_REVISION"} {
			e := envVar(c, name)
			if e == nil || e.ValueFrom == nil || e.ValueFrom.ConfigMapKeyRef == nil || e.ValueFrom.ConfigMapKeyRef.Name != r.configMap.Name ||
				r.configMap.Data[e.ValueFrom.ConfigMapKeyRef.Key] == "" {
				t.Errorf("%s %+v: want a configMapKeyRef into %s", name, e, r.configMap.Name)
			}
		}
		if hasModel {
			t.Errorf("--model=%s would override the ConfigMap", model)
		}
		if r.configMap.Data["source"] != w.checkpoint.Source || r.configMap.Data["revision"] != w.checkpoint.Revision {
			t.Errorf("ConfigMap boot keys %v disagree with %+v", r.configMap.Data, w.checkpoint)
		}
	} else if model != vals["model"].(map[string]any)["source"] {
		t.Errorf("--model=%q, want model.source", model)
	}

	// OMP_NUM_THREADS from the CPU limit.
	omp := envVar(c, "OMP_NUM_THREADS")
	switch {
	case omp == nil:
		t.Error("no OMP_NUM_THREADS")
	case w.omp == "downward":
		rf := omp.ValueFrom
		if rf == nil || rf.ResourceFieldRef == nil || rf.ResourceFieldRef.Resource != "limits.cpu" ||
			rf.ResourceFieldRef.ContainerName != c.Name || rf.ResourceFieldRef.Divisor.Cmp(resource.MustParse("1")) != 0 {
			t.Errorf("OMP_NUM_THREADS %+v: want resourceFieldRef limits.cpu, divisor 1", omp)
		}
	case omp.Value != w.omp || omp.ValueFrom != nil:
		t.Errorf("OMP_NUM_THREADS %+v, want %s", omp, w.omp)
	}
	lim := c.Resources.Limits
	if lim.Cpu().IsZero() || lim.Memory().IsZero() || c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() {
		t.Errorf("resources %+v: want CPU and memory requests and limits", c.Resources)
	}
	if lim.Memory().Cmp(*c.Resources.Requests.Memory()) < 0 {
		t.Error("memory limit below the request")
	}

	// Env names unique.
	seen := map[string]bool{}
	for _, e := range c.Env {
		if seen[e.Name] {
			t.Errorf("env %s twice", e.Name)
		}
		seen[e.Name] = true
	}

	// Shutdown: the kubelet waits longer than the preStop sleep plus --shutdown-grace.
	g, _ := flagValue(c.Args, "shutdown-grace")
	grace, err := time.ParseDuration(g)
	if err != nil {
		t.Fatalf("--shutdown-grace %q: %v", g, err)
	}
	var sleep time.Duration
	if c.Lifecycle != nil && c.Lifecycle.PreStop != nil {
		switch ps := c.Lifecycle.PreStop; {
		case ps.Sleep != nil:
			sleep = time.Duration(ps.Sleep.Seconds) * time.Second
			if !w.preStopSleep {
				t.Error("native preStop sleep on a cluster older than 1.30")
			}
		case ps.Exec != nil && len(ps.Exec.Command) == 2 && ps.Exec.Command[0] == "sleep":
			n, err := time.ParseDuration(ps.Exec.Command[1] + "s")
			if err != nil {
				t.Fatal(err)
			}
			sleep = n
			if w.preStopSleep {
				t.Error("exec preStop sleep where the native sleep action exists")
			}
		default:
			t.Errorf("preStop %+v", ps)
		}
	}
	if spec.TerminationGracePeriodSeconds == nil || time.Duration(*spec.TerminationGracePeriodSeconds)*time.Second <= grace+sleep {
		t.Errorf("terminationGracePeriodSeconds %v does not exceed --shutdown-grace %v + preStop %v", spec.TerminationGracePeriodSeconds, grace, sleep)
	}
	for _, c := range spec.TopologySpreadConstraints {
		if c.LabelSelector == nil || !reflect.DeepEqual(c.LabelSelector.MatchLabels, d.Spec.Selector.MatchLabels) {
			t.Errorf("topology spread constraint %+v: want this release's selector filled in", c)
		}
	}
	if d.Spec.Strategy.RollingUpdate == nil || d.Spec.Strategy.RollingUpdate.MaxUnavailable.IntValue() != 0 {
		t.Error("a rolling update may take a ready pod away before its replacement loaded")
	}
}

func checkCheckpoint(t *testing.T, r *rendered, w want) {
	t.Helper()
	doc := r.configMap.Data["checkpoint.yaml"]
	var got declaredCheckpoint
	if err := yaml.UnmarshalStrict([]byte(doc), &got); err != nil {
		t.Fatalf("checkpoint.yaml does not parse as the declared-checkpoint document: %v\n%s", err, doc)
	}
	if !reflect.DeepEqual(got, w.checkpoint) {
		t.Errorf("checkpoint.yaml = %+v, want %+v\n%s", got, w.checkpoint, doc)
	}
	// The document also reads as JSON-compatible YAML with no field beyond the five.
	var raw map[string]any
	if err := yaml.Unmarshal([]byte(doc), &raw); err != nil {
		t.Fatal(err)
	}
	for k, v := range raw {
		if !slices.Contains([]string{"source", "revision", "sha256", "min_cosine", "allow_geometry_change"}, k) {
			t.Errorf("checkpoint.yaml field %q", k)
		}
		// coldserve refuses a number where it wants a string (an unquoted 0123456 reads as octal).
		if _, isString := v.(string); slices.Contains([]string{"source", "revision", "sha256"}, k) && !isString {
			t.Errorf("checkpoint.yaml %s is %T %v, not a string:\n%s", k, v, v, doc)
		}
	}
}

func checkSecret(t *testing.T, r *rendered, w want) {
	t.Helper()
	c := container(t, r.deployment)
	refs := map[string]string{} // env name → Secret key
	for _, e := range c.Env {
		if e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil {
			continue
		}
		ref := e.ValueFrom.SecretKeyRef
		if ref.Name != w.secretName {
			t.Errorf("env %s reads Secret %q, want %q", e.Name, ref.Name, w.secretName)
		}
		if ref.Optional == nil || !*ref.Optional {
			t.Errorf("env %s: secretKeyRef not optional", e.Name)
		}
		refs[e.Name] = ref.Key
	}
	for _, e := range c.Env {
		if e.Value != "" && (strings.Contains(e.Name, "TOKEN") || strings.Contains(e.Name, "KEY")) {
			t.Errorf("env %s carries a secret as a plain value", e.Name)
		}
	}
	if w.secretName == "" {
		if len(refs) > 0 || r.secret != nil {
			t.Errorf("secret refs %v without a Secret", refs)
		}
		return
	}
	for _, name := range []string{"HF_TOKEN", "COLDSERVE_API_KEY", "COLDSERVE_ADMIN_TOKEN"} {
		if _, ok := refs[name]; !ok {
			t.Errorf("env %s is not wired from the Secret", name)
		}
	}
	checksum := r.deployment.Spec.Template.Annotations["checksum/secret"]
	if r.secret == nil {
		if checksum != "" {
			t.Error("checksum/secret on pods that read an existing Secret")
		}
		if refs["HF_TOKEN"] != "hf" || refs["COLDSERVE_API_KEY"] != "api" || refs["COLDSERVE_ADMIN_TOKEN"] != "admin" {
			t.Errorf("existing Secret keys %v, want secret.keys", refs)
		}
		return
	}
	if r.secret.Name != w.secretName || checksum == "" {
		t.Errorf("Secret %q, checksum %q", r.secret.Name, checksum)
	}
	keys := make([]string, 0, len(r.secret.Data))
	for k := range r.secret.Data {
		keys = append(keys, k)
		if !slices.Contains(slices.Collect(maps.Values(refs)), k) {
			t.Errorf("Secret key %s is read by no env", k)
		}
	}
	sort.Strings(keys)
	if !slices.Equal(keys, w.secretKeys) && !(len(keys) == 0 && len(w.secretKeys) == 0) {
		t.Errorf("Secret keys %v, want %v", keys, w.secretKeys)
	}
	if v, ok := r.secret.Data["COLDSERVE_API_KEY"]; ok && !bytes.Equal(v, []byte("k1,k2")) {
		t.Errorf("COLDSERVE_API_KEY = %q, want the keys joined with commas", v)
	}
}

func checkService(t *testing.T, r *rendered) {
	t.Helper()
	s := r.service
	if s == nil {
		return
	}
	if len(s.Spec.Ports) != 1 || s.Spec.Ports[0].TargetPort.String() != "http" || s.Spec.Ports[0].Name != "http" {
		t.Errorf("Service ports %+v: want http → http", s.Spec.Ports)
	}
	if !labels.SelectorFromSet(s.Spec.Selector).Matches(labels.Set(r.deployment.Spec.Template.Labels)) {
		t.Errorf("Service selector %v misses the pods %v", s.Spec.Selector, r.deployment.Spec.Template.Labels)
	}
}

func checkPDB(t *testing.T, r *rendered) {
	t.Helper()
	p := r.pdb
	if p == nil {
		return
	}
	sel, err := metav1.LabelSelectorAsSelector(p.Spec.Selector)
	if err != nil || !sel.Matches(labels.Set(r.deployment.Spec.Template.Labels)) {
		t.Errorf("PDB selector %v misses the pods (%v)", p.Spec.Selector, err)
	}
	if !reflect.DeepEqual(p.Spec.Selector.MatchLabels, r.deployment.Spec.Selector.MatchLabels) {
		t.Errorf("PDB selector %v is not this release's %v", p.Spec.Selector.MatchLabels, r.deployment.Spec.Selector.MatchLabels)
	}
	if p.Spec.MaxUnavailable == nil || p.Spec.MaxUnavailable.IntValue() != 1 || p.Spec.MinAvailable != nil {
		t.Errorf("PDB maxUnavailable %v minAvailable %v: want maxUnavailable 1", p.Spec.MaxUnavailable, p.Spec.MinAvailable)
	}
}

func checkHPA(t *testing.T, r *rendered, w want) {
	t.Helper()
	h := r.hpa
	if (h != nil) != (w.queueTarget != "") {
		t.Fatalf("HPA %v, want one: %v", h != nil, w.queueTarget != "")
	}
	if h == nil {
		return
	}
	ref := h.Spec.ScaleTargetRef
	if ref.Kind != "Deployment" || ref.APIVersion != "apps/v1" || ref.Name != r.deployment.Name {
		t.Errorf("HPA targets %+v", ref)
	}
	if h.Spec.MinReplicas == nil || *h.Spec.MinReplicas != 3 || h.Spec.MaxReplicas != 12 {
		t.Errorf("HPA replicas %v..%d, want 3..12", h.Spec.MinReplicas, h.Spec.MaxReplicas)
	}
	if len(h.Spec.Metrics) != 2 {
		t.Fatalf("HPA metrics %+v: want the queue and CPU", h.Spec.Metrics)
	}
	q := h.Spec.Metrics[0]
	if q.Type != autoscalingv2.PodsMetricSourceType || q.Pods == nil || q.Pods.Metric.Name != "te_queue_size" ||
		q.Pods.Target.Type != autoscalingv2.AverageValueMetricType || q.Pods.Target.AverageValue == nil ||
		q.Pods.Target.AverageValue.Cmp(resource.MustParse(w.queueTarget)) != 0 {
		t.Errorf("queue metric %+v: want Pods te_queue_size averageValue %s", q, w.queueTarget)
	}
	cpu := h.Spec.Metrics[1]
	if cpu.Type != autoscalingv2.ResourceMetricSourceType || cpu.Resource == nil || cpu.Resource.Name != corev1.ResourceCPU ||
		cpu.Resource.Target.Type != autoscalingv2.UtilizationMetricType || cpu.Resource.Target.AverageUtilization == nil {
		t.Errorf("CPU fallback %+v", cpu)
	}
	if h.Spec.Behavior == nil || h.Spec.Behavior.ScaleDown == nil || h.Spec.Behavior.ScaleDown.StabilizationWindowSeconds == nil {
		t.Error("no scale-down stabilization")
	}
}

func checkServiceMonitor(t *testing.T, r *rendered) {
	t.Helper()
	m := r.serviceMonitor
	if m == nil {
		return
	}
	if !labels.SelectorFromSet(m.Spec.Selector.MatchLabels).Matches(labels.Set(r.service.Labels)) {
		t.Errorf("ServiceMonitor selector %v misses the Service labels %v", m.Spec.Selector.MatchLabels, r.service.Labels)
	}
	if m.Labels["release"] != "kube-prometheus-stack" {
		t.Errorf("ServiceMonitor labels %v lack serviceMonitor.labels", m.Labels)
	}
	if !slices.Equal(m.Spec.NamespaceSelector.MatchNames, []string{namespace}) {
		t.Errorf("namespaceSelector %v", m.Spec.NamespaceSelector.MatchNames)
	}
	if len(m.Spec.Endpoints) != 1 || m.Spec.Endpoints[0].Port != "http" || m.Spec.Endpoints[0].Path != "/metrics" {
		t.Errorf("endpoints %+v: want http /metrics", m.Spec.Endpoints)
	}
	for _, d := range []string{m.Spec.Endpoints[0].Interval, m.Spec.Endpoints[0].ScrapeTimeout} {
		if _, err := time.ParseDuration(d); err != nil {
			t.Errorf("duration %q: %v", d, err)
		}
	}
}

// A checkpoint change must roll weights in place: the pod template (and so every pod) stays the
// same, only the ConfigMap changes. A Secret change restarts the pods through its checksum.
func TestCheckpointChangeKeepsPods(t *testing.T) {
	a := render(t, "", 31)
	b := render(t, "checkpoint: {source: ibm/ColD-Fusion-itr13-seed0, revision: v2, minCosine: 0.99}", 31)
	if !reflect.DeepEqual(a.deployment.Spec.Template, b.deployment.Spec.Template) {
		ya, _ := yaml.Marshal(a.deployment.Spec.Template)
		yb, _ := yaml.Marshal(b.deployment.Spec.Template)
		t.Errorf("a checkpoint change alters the pod template (pods would restart):\n%s\n---\n%s", ya, yb)
	}
	if reflect.DeepEqual(a.configMap.Data, b.configMap.Data) {
		t.Error("the checkpoint change did not reach the ConfigMap")
	}
	boot := render(t, "model: {bootFromCheckpoint: true}", 31)
	bootNext := render(t, "model: {bootFromCheckpoint: true}\ncheckpoint: {source: ibm/ColD-Fusion-itr13-seed0}", 31)
	if !reflect.DeepEqual(boot.deployment.Spec.Template, bootNext.deployment.Spec.Template) {
		t.Error("with bootFromCheckpoint, a checkpoint change alters the pod template")
	}
	s := render(t, "secret: {adminToken: rotated}", 31)
	if a.deployment.Spec.Template.Annotations["checksum/secret"] == s.deployment.Spec.Template.Annotations["checksum/secret"] {
		t.Error("a Secret change does not change checksum/secret")
	}
}

// The canary recipe: a second release joins the stable release's fleet, so the stable Service
// selects its pods, while its Deployment, PDB and checkpoint ConfigMap stay its own.
func TestCanaryJoinsStableService(t *testing.T) {
	stable := render(t, "", 31)
	canary := render(t, `
fullnameOverride: canary-coldserve
fleet: fleet-coldserve
replicaCount: 1
service: {enabled: false}
checkpoint: {source: ibm/ColD-Fusion-itr13-seed0}
`, 31)
	if canary.service != nil {
		t.Error("the canary renders its own Service")
	}
	if !labels.SelectorFromSet(stable.service.Spec.Selector).Matches(labels.Set(canary.deployment.Spec.Template.Labels)) {
		t.Errorf("stable Service selector %v misses the canary pods %v", stable.service.Spec.Selector, canary.deployment.Spec.Template.Labels)
	}
	// Release-scoped selectors: neither Deployment nor PDB may adopt the other release's pods.
	// (Both renderings use the release name "fleet"; a real canary is another release, which
	// changes app.kubernetes.io/instance as well as the names.)
	if canary.configMap.Name == stable.configMap.Name || canary.deployment.Name == stable.deployment.Name {
		t.Error("the canary shares the stable release's objects")
	}
	if got := canary.configMap.Data["source"]; got != "ibm/ColD-Fusion-itr13-seed0" {
		t.Errorf("canary checkpoint %q", got)
	}
}

// Value sets the chart must refuse, with the reason in the error.
func TestChartRejects(t *testing.T) {
	tests := []struct{ name, values, errPart string }{
		{"grace too short", "terminationGracePeriodSeconds: 30", "must exceed server.shutdownGraceSeconds"},
		{"grace too short with preStop", "terminationGracePeriodSeconds: 35\nserver: {shutdownGraceSeconds: 30}", "preStopSleepSeconds"},
		{"workers with fractional CPU", "server: {workers: 2}\nresources: {limits: {cpu: 1500m}}", "set ompNumThreads explicitly"},
		{"min cosine out of range", "checkpoint: {minCosine: 1.5}", "checkpoint.minCosine"},
		{"bad sha256", "checkpoint: {sha256: abc}", "checkpoint.sha256"},
		{"sha256 too long", "checkpoint: {sha256: " + strings.Repeat("a", 65) + "}", "checkpoint.sha256"},
		{"declaration with no allowed source", "server: {allowHub: false}", "neither is allowed"},
		{"no source", `checkpoint: {source: ""}`, "checkpoint.source is required"},
		{"both PDB bounds", "podDisruptionBudget: {minAvailable: 1}", "not both"},
		{"unknown cache type", "cache: {type: hostPath}", "cache.type"},
		{"existing claim without a name", "cache: {type: existingClaim}", "needs cache.existingClaim"},
		{"api key with a comma", "secret: {apiKeys: [\"a,b\"]}", "free of commas"},
		{"monitor without service", "serviceMonitor: {enabled: true}\nservice: {enabled: false}", "needs service.enabled"},
		{"hpa bounds", "autoscaling: {enabled: true, minReplicas: 5, maxReplicas: 2}", "must not exceed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := renderChart(t, tt.values, 31)
			if err == nil || !strings.Contains(err.Error(), tt.errPart) {
				t.Errorf("render error %v, want one containing %q", err, tt.errPart)
			}
		})
	}
}

// values.yaml documents every key: each leaf has a comment on the lines above it or on its parent.
func TestValuesDocumented(t *testing.T) {
	c := loadChart(t)
	var raw []byte
	for _, f := range c.Raw {
		if f.Name == "values.yaml" {
			raw = f.Data
		}
	}
	if raw == nil {
		t.Fatal("no values.yaml")
	}
	lines := strings.Split(string(raw), "\n")
	commented := 0
	for i, line := range lines {
		trim := strings.TrimSpace(line)
		if trim == "" || strings.HasPrefix(trim, "#") || strings.HasPrefix(trim, "- ") || !strings.Contains(trim, ":") {
			continue
		}
		// A top-level key carries a comment right above it or as its first child line.
		if line[0] != ' ' {
			above := i > 0 && strings.HasPrefix(strings.TrimSpace(lines[i-1]), "#")
			below := i+1 < len(lines) && strings.HasPrefix(lines[i+1], " ") && strings.HasPrefix(strings.TrimSpace(lines[i+1]), "#")
			if !above && !below {
				t.Errorf("values.yaml:%d: top-level key %q has no comment", i+1, trim)
			}
			commented++
		}
	}
	if commented < 20 {
		t.Errorf("only %d top-level keys found", commented)
	}
}
