package hub_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/coldserve/coldserve/hub"
)

func TestIsRepoID(t *testing.T) {
	t.Chdir(t.TempDir())
	if err := os.MkdirAll(filepath.Join("models", "tiny"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{"ibm/ColD-Fusion", true},
		{"ibm/ColD-Fusion-itr13-seed0", true},
		{"FacebookAI/roberta-base", true},
		{"user_1/model.v2", true},
		{"models/tiny", false},         // exists locally: a path
		{"roberta-base", false},        // legacy single-segment id: not recognised
		{"./ibm/ColD-Fusion", false},   // explicit relative path
		{"/srv/models/cold", false},    // absolute path
		{"~/models/cold", false},       // home path
		{"ibm/ColD-Fusion/sub", false}, // too many segments
		{"ibm/--x", false},
		{"ibm/a--b", false},
		{"ibm/a..b", false},
		{"ibm/-x", false},
		{"ibm/x.", false},
		{"ibm/", false},
		{"/x", false},
		{"", false},
		{`ibm\ColD`, false},
		{"ibm/a b", false},
	} {
		if got := hub.IsRepoID(tc.in); got != tc.want {
			t.Errorf("IsRepoID(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestValidateRepoID(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"roberta-base", true}, // the Hub still accepts legacy ids
		{"ibm/ColD-Fusion", true},
		{"a/" + string(repeat('x', 96)), true},
		{"a/" + string(repeat('x', 97)), false},
		{"a/b/c", false},
		{"ibm/../etc", false},
		{"ibm/x--y", false},
		{"", false},
	} {
		if err := hub.ValidateRepoID(tc.in); (err == nil) != tc.ok {
			t.Errorf("ValidateRepoID(%q) = %v, want ok=%v", tc.in, err, tc.ok)
		}
	}
}

func repeat(c byte, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = c
	}
	return b
}

func TestNewFromEnv(t *testing.T) {
	home := t.TempDir()
	tokenHome := t.TempDir()
	if err := os.WriteFile(filepath.Join(tokenHome, "token"), []byte("hf_fromfile\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		env  map[string]string
		want hub.Client
	}{
		{"defaults from HF_HOME", map[string]string{"HF_HOME": home},
			hub.Client{Endpoint: hub.DefaultEndpoint, CacheDir: filepath.Join(home, "hub")}},
		{"XDG cache", map[string]string{"XDG_CACHE_HOME": home},
			hub.Client{Endpoint: hub.DefaultEndpoint, CacheDir: filepath.Join(home, "huggingface", "hub")}},
		{"explicit cache, endpoint, token, offline", map[string]string{"HF_HOME": home, "HF_HUB_CACHE": "/data/hf",
			"HF_ENDPOINT": "https://hf-mirror.example/", "HF_TOKEN": " hf_env ", "HF_HUB_OFFLINE": "1"},
			hub.Client{Endpoint: "https://hf-mirror.example", CacheDir: "/data/hf", Token: "hf_env", Offline: true}},
		{"token file and legacy offline", map[string]string{"HF_HOME": tokenHome, "TRANSFORMERS_OFFLINE": "yes"},
			hub.Client{Endpoint: hub.DefaultEndpoint, CacheDir: filepath.Join(tokenHome, "hub"), Token: "hf_fromfile", Offline: true}},
		{"offline=0 is online", map[string]string{"HF_HOME": home, "HF_HUB_OFFLINE": "0"},
			hub.Client{Endpoint: hub.DefaultEndpoint, CacheDir: filepath.Join(home, "hub")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, k := range []string{"HF_HOME", "XDG_CACHE_HOME", "HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_ENDPOINT",
				"HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_TOKEN_PATH", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"} {
				t.Setenv(k, tc.env[k])
			}
			c, err := hub.NewFromEnv()
			if err != nil {
				t.Fatal(err)
			}
			if c.Endpoint != tc.want.Endpoint || c.CacheDir != tc.want.CacheDir || c.Token != tc.want.Token || c.Offline != tc.want.Offline {
				t.Errorf("got endpoint=%q cache=%q token=%q offline=%v, want %q %q %q %v", c.Endpoint, c.CacheDir, c.Token, c.Offline,
					tc.want.Endpoint, tc.want.CacheDir, tc.want.Token, tc.want.Offline)
			}
		})
	}
	t.Run("bad endpoint", func(t *testing.T) {
		t.Setenv("HF_HOME", home)
		t.Setenv("HF_ENDPOINT", "ftp://example")
		if _, err := hub.NewFromEnv(); err == nil {
			t.Error("accepted an ftp endpoint")
		}
	})
}
