package deploy_test

import (
	"testing"

	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/lint"
	"helm.sh/helm/v3/pkg/lint/support"
)

// TestHelmLint runs `helm lint` (the SDK's linter, strict: warnings fail too) over the chart with
// its defaults and with every optional object on.
func TestHelmLint(t *testing.T) {
	for name, values := range map[string]string{
		"defaults":     "",
		"all optional": "autoscaling: {enabled: true}\nserviceMonitor: {enabled: true}\ncache: {type: pvc}\nsecret: {adminToken: x, apiKeys: [k]}",
	} {
		t.Run(name, func(t *testing.T) {
			vals, err := chartutil.ReadValues([]byte(values))
			if err != nil {
				t.Fatal(err)
			}
			res := lint.AllWithKubeVersion(chartDir, vals, namespace, &chartutil.KubeVersion{Version: "v1.31.0", Major: "1", Minor: "31"})
			for _, m := range res.Messages {
				if m.Severity > support.InfoSev {
					t.Errorf("helm lint: %s", m)
				} else {
					t.Logf("helm lint: %s", m)
				}
			}
		})
	}
}
