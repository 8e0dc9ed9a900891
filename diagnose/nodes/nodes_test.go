package nodes

import (
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/ptcdoctor/ptcdoctor/model"
)

// The kubelet's matchImages semantics (kubelet-config.v1, CredentialProvider.matchImages),
// with the documentation's own examples.
func TestMatchImage(t *testing.T) {
	for _, c := range []struct {
		pattern, image string
		want           bool
	}{
		{"123456789.dkr.ecr.us-east-1.amazonaws.com", "123456789.dkr.ecr.us-east-1.amazonaws.com/docker-hub/library/nginx", true},
		{"*.dkr.ecr.*.amazonaws.com", "111122223333.dkr.ecr.eu-west-1.amazonaws.com/docker-hub/library/nginx", true},
		{"*.dkr.ecr.*.amazonaws.com", "111122223333.dkr.ecr.cn-north-1.amazonaws.com.cn/x", false}, // one more label
		{"*.dkr.ecr.*.amazonaws.com", "docker.io/library/nginx", false},
		{"*.azurecr.io", "myreg.azurecr.io/app", true},
		{"gcr.io", "gcr.io/project/app", true},
		{"*.*.registry.io", "a.b.registry.io/x", true},
		{"*.*.registry.io", "a.registry.io/x", false},
		{"*.io", "quay.io/prometheus/node-exporter", true},
		{"*.io", "registry.k8s.io/pause", false}, // each glob matches one label
		{"k8s.*.io", "k8s.gcr.io/pause", true},
		{"k8s.*", "k8s.io/x", true},
		{"app*.k8s.io", "app1.k8s.io/x", true},
		{"registry.io:8080/path", "registry.io:8080/path/app", true},
		{"registry.io:8080/path", "registry.io/path/app", false},   // the port must match
		{"registry.io:8080/path", "registry.io:8080/other", false}, // the path must be a prefix
		{"registry.io/path", "registry.io/pathology/x", true},      // a string prefix, as the kubelet's
		{"docker.io", "docker.io/library/nginx", true},
		{"[", "docker.io/library/nginx", false}, // a malformed glob matches nothing
		{"", "docker.io/library/nginx", false},
	} {
		if got := MatchImage(c.pattern, c.image); got != c.want {
			t.Errorf("MatchImage(%q, %q) = %t, want %t", c.pattern, c.image, got, c.want)
		}
	}
}

// containerd's API root for a host (remotes/docker/config/hosts.go).
func TestContainerdRoot(t *testing.T) {
	for _, c := range []struct {
		path     string
		override bool
		want     string
	}{
		{"", false, "/v2"},
		{"/v2", false, "/v2"},
		{"/v2/docker-hub", false, "/v2/docker-hub/v2"},
		{"/v2/docker-hub", true, "/v2/docker-hub"},
		{"/docker-hub", false, "/docker-hub/v2"},
		{"/docker-hub", true, "/docker-hub"},
	} {
		if got := containerdRoot(c.path, c.override); got != c.want {
			t.Errorf("containerdRoot(%q, %t) = %q, want %q", c.path, c.override, got, c.want)
		}
	}
	e := parseEndpoint("https://111122223333.dkr.ecr.us-east-1.amazonaws.com/v2/mirror/docker-hub")
	if c, ok := cacheOf(e, containerdRoot(e.path, true)); !ok || c.Prefix != "mirror/docker-hub" || c.Region != "us-east-1" {
		t.Errorf("a nested prefix: %+v %t", c, ok)
	}
}

func readDir(t testing.TB, dir string) []Input {
	var in []Input
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		in = append(in, Input{Name: p, Data: data})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return in
}

func checksOf(r Report, sev model.Severity) []string {
	var out []string
	for _, f := range r.Findings {
		if f.Severity == sev {
			out = append(out, f.Check)
		}
	}
	sort.Strings(out)
	return out
}

// Each example under testdata/nodes, with the errors it must lead to.
func TestExamples(t *testing.T) {
	want := map[string]string{
		"healthy-containerd":              "",
		"healthy-bottlerocket":            "",
		"healthy-kops":                    "",
		"missing-override-path":           "mirror-path",
		"unmatched-credential-provider":   "mirror-credentials",
		"docker-daemon-mirror":            "docker-daemon-mirror",
		"bottlerocket-no-credentials":     "mirror-credentials mirror-path",
		"kops-no-ecr-credentials":         "mirror-credentials",
		"containerd-config-mirror-path":   "mirror-path",
		"containerd-config-path-conflict": "containerd-config",
	}
	dirs, _ := filepath.Glob("../../testdata/nodes/*")
	if len(dirs) != len(want) {
		t.Errorf("%d examples, %d expected: name each one's verdict here", len(dirs), len(want))
	}
	for _, dir := range dirs {
		name := filepath.Base(dir)
		r, err := Check(readDir(t, dir), Options{})
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if got := strings.Join(checksOf(r, model.SeverityError), " "); got != want[name] {
			t.Errorf("%s: errors %q, want %q", name, got, want[name])
		}
		if strings.HasPrefix(name, "healthy") {
			if len(r.Findings) > 0 || len(r.NotChecked) > 0 {
				t.Errorf("%s: %d findings, not checked %v", name, len(r.Findings), r.NotChecked)
			}
			for _, f := range r.Files {
				for _, rt := range f.Routes {
					if rt.Cache != nil && (!rt.Reaches || rt.Credentials != "yes") {
						t.Errorf("%s: %s → %s: reaches %t, credentials %s", name, rt.Upstream, rt.Endpoint, rt.Reaches, rt.Credentials)
					}
				}
			}
		}
		for _, f := range r.Findings {
			if f.Severity == model.SeverityError && (len(f.Fixes) == 0 || f.Fixes[0].Manual == "") {
				t.Errorf("%s: %s has no snippet to write", name, f.Check)
			}
		}
	}
}

// A route whose credentials cannot be judged (no CredentialProviderConfig given) is not
// checked, never a finding; with the account, a prefix no rule has is one.
func TestNotCheckedAndTheAccount(t *testing.T) {
	hosts := readDir(t, "../../testdata/nodes/healthy-containerd/certs.d")
	r, err := Check(hosts, Options{})
	if err != nil || len(r.Findings) != 0 || len(r.NotChecked) != 2 {
		t.Fatalf("without the provider config: %v, %d findings, not checked %v", err, len(r.Findings), r.NotChecked)
	}
	all := readDir(t, "../../testdata/nodes/healthy-containerd")
	snap := &model.Snapshot{AccountID: "111122223333", Region: "us-east-1", Rules: []model.Rule{{Prefix: "docker-hub", UpstreamURL: "registry-1.docker.io"}, {Prefix: "github", UpstreamURL: "quay.io"}}}
	r, _ = Check(all, Options{Snapshot: snap})
	if got := checksOf(r, model.SeverityError); strings.Join(got, " ") != "mirror-rule" {
		t.Errorf("github/ caches quay.io: errors %v", got)
	}
	snap.Rules = snap.Rules[:1]
	r, _ = Check(all, Options{Snapshot: snap})
	if len(r.Findings) != 1 || !strings.Contains(r.Findings[0].Title, "No pull through cache rule has the prefix github/") {
		t.Errorf("no github/ rule: %+v", r.Findings)
	}
	snap.Errors = []model.PartError{{Part: "pull through cache rules", Operation: "DescribePullThroughCacheRules", Code: "AccessDeniedException"}}
	r, _ = Check(all, Options{Snapshot: snap})
	if len(r.Findings) != 0 || len(r.NotChecked) != 2 {
		t.Errorf("rules unread: %d findings, not checked %v", len(r.Findings), r.NotChecked)
	}
	other := &model.Snapshot{AccountID: "444455556666", Region: "us-east-1"}
	r, _ = Check(all, Options{Snapshot: other})
	if len(r.Findings) != 0 || len(r.NotChecked) != 2 {
		t.Errorf("another account: %d findings, not checked %v", len(r.Findings), r.NotChecked)
	}
}

// Hostile or broken files are bad input with a message, never a panic or a finding.
func TestBadInput(t *testing.T) {
	for _, c := range []Input{
		{Name: "certs.d/docker.io/hosts.toml", Data: []byte("server = [1, 2]\n")},
		{Name: "certs.d/docker.io/hosts.toml", Data: []byte("[host.\"https://x\"\n")},
		{Name: "certs.d/docker.io/hosts.toml", Data: []byte("[host.\"https://x\"]\noverride_path = \"yes\"\n")},
		{Name: "daemon.json", Data: []byte(`{"registry-mirrors": "https://x"}`)},
		{Name: "-", Data: []byte("just text")},
		{Name: "config.yaml", Data: []byte("kind: CredentialProviderConfig\nproviders: 3\n")},
		{Name: "user-data.toml", Data: []byte("[settings.container-registry]\nmirrors = 3\n")},
		{Name: "empty.toml", Data: nil},
	} {
		c.Explicit = true
		if _, err := Check([]Input{c}, Options{}); err == nil {
			t.Errorf("%s %q: accepted", c.Name, c.Data)
		}
	}
	// Found in a directory, a file that is no node configuration is skipped, said so.
	r, err := Check([]Input{{Name: "dir/notes.yaml", Data: []byte("a: b\n")}}, Options{})
	if err != nil || len(r.Skipped) != 1 {
		t.Errorf("skipped: %v %v", err, r.Skipped)
	}
}

func FuzzCheck(f *testing.F) {
	names := []string{"certs.d/docker.io/hosts.toml", "daemon.json", "config.yaml", "user-data.toml", "cluster.yaml", "-"}
	dirs, _ := filepath.Glob("../../testdata/nodes/*")
	for _, d := range dirs {
		for _, in := range readDir(f, d) {
			f.Add(0, in.Data)
		}
	}
	f.Fuzz(func(t *testing.T, which int, data []byte) {
		in := Input{Name: names[(which%len(names)+len(names))%len(names)], Data: data, Explicit: true}
		r, err := Check([]Input{in}, Options{Snapshot: &model.Snapshot{AccountID: "111122223333", Region: "us-east-1"}})
		if err == nil {
			for _, fd := range r.Findings {
				_ = model.Printable(fd.Title + fd.Explanation)
			}
		}
	})
}

func provider(match []string, env string) Input {
	y := "apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders:\n  - name: ecr-credential-provider\n    apiVersion: credentialprovider.kubelet.k8s.io/v1\n    defaultCacheDuration: 12h\n    matchImages: [" + `"` + strings.Join(match, `", "`) + `"` + "]\n"
	if env != "" {
		y += "    env:\n      - name: AWS_REGION\n        value: " + env + "\n"
	}
	return Input{Name: "config.yaml", Data: []byte(y), Explicit: true}
}

func hostsFor(ns, url string) Input {
	return Input{Name: "certs.d/" + ns + "/hosts.toml", Data: []byte("[host.\"" + url + "\"]\n  override_path = true\n"), Explicit: true}
}

// The region the provider asks a token in, for an image outside ECR; _default mirrors;
// a provider config the kubelet refuses.
func TestCredentialCases(t *testing.T) {
	cache := "https://111122223333.dkr.ecr.us-east-1.amazonaws.com/v2/docker-hub"
	for _, c := range []struct {
		name   string
		inputs []Input
		want   string // the checks found, errors then warnings
		creds  string
	}{
		{"the right region", []Input{hostsFor("docker.io", cache), provider([]string{"docker.io"}, "us-east-1")}, "", "yes"},
		{"another region", []Input{hostsFor("docker.io", cache), provider([]string{"docker.io"}, "eu-west-1")}, "mirror-credentials", "yes"},
		{"no region", []Input{hostsFor("docker.io", cache), provider([]string{"docker.io"}, "")}, "mirror-credentials", "yes"},
		{"a glob one label wide", []Input{hostsFor("docker.io", cache), provider([]string{"*.io"}, "us-east-1")}, "", "yes"},
		{"a glob too narrow", []Input{hostsFor("registry.k8s.io", cache), provider([]string{"*.io"}, "us-east-1")}, "mirror-credentials", "no"},
		{"a _default mirror, partly covered", []Input{hostsFor("_default", "https://111122223333.dkr.ecr.us-east-1.amazonaws.com/v2"), provider([]string{"docker.io", "*.io"}, "us-east-1")}, "mirror-credentials", "partly"},
		{"not the ECR provider", []Input{hostsFor("docker.io", cache), {Name: "c.yaml", Explicit: true, Data: []byte("apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders:\n  - name: gcp-auth\n    apiVersion: credentialprovider.kubelet.k8s.io/v1\n    defaultCacheDuration: 1h\n    matchImages: [docker.io]\n")}}, "mirror-credentials", "no"},
		{"refused by the kubelet", []Input{hostsFor("docker.io", cache), {Name: "c.yaml", Explicit: true, Data: []byte("apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders:\n  - name: ecr-credential-provider\n    matchImages: [docker.io]\n    env: [{name: AWS_REGION, value: us-east-1}]\n")}}, "credential-provider-config credential-provider-config", "yes"},
	} {
		r, err := Check(c.inputs, Options{})
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		var got []string
		for _, f := range r.Findings {
			got = append(got, f.Check)
		}
		if strings.Join(got, " ") != c.want {
			t.Errorf("%s: findings %v, want %q", c.name, got, c.want)
		}
		if rt := r.Files[0].Routes[0]; rt.Credentials != c.creds {
			t.Errorf("%s: credentials %q, want %q (%s)", c.name, rt.Credentials, c.creds, rt.Why)
		}
	}
	// A hosts.toml with no registry directory (standard input, a copy in /tmp) takes its
	// registry from the server, Docker Hub by its image name.
	for _, name := range []string{"-", "/tmp/hosts.toml"} {
		r, err := Check([]Input{{Name: name, Explicit: true, Data: []byte("server = \"https://registry-1.docker.io\"\n[host.\"" + cache + "\"]\n  override_path = true\n")}, provider([]string{"docker.io"}, "us-east-1")}, Options{})
		if err != nil || r.Files[0].Routes[0].Upstream != "docker.io" || r.Files[0].Routes[0].Credentials != "yes" {
			t.Errorf("%s: %v %+v", name, err, r.Files)
		}
	}
	// kops' "*" is containerd's _default.
	r, err := Check([]Input{{Name: "cluster.yaml", Explicit: true, Data: []byte("apiVersion: kops.k8s.io/v1alpha2\nkind: Cluster\nspec:\n  containerd:\n    useECRCredentialsForMirrors: true\n    registryMirrors:\n      \"*\": [\"https://111122223333.dkr.ecr.us-east-1.amazonaws.com/v2\"]\n")}}, Options{})
	if err != nil || r.Files[0].Routes[0].Upstream != "_default" || r.Files[0].Routes[0].Cache.Prefix != "ROOT" {
		t.Errorf("kops *: %v %+v", err, r.Files)
	}
}

// The matchImages snippet replaces the provider's list: copied, it keeps every pattern
// already there (docker.io here) and covers the registry it was missing.
func TestTheMatchImagesFixKeepsThePatternsThere(t *testing.T) {
	k8s := hostsFor("registry.k8s.io", "https://111122223333.dkr.ecr.us-east-1.amazonaws.com/v2/kubernetes")
	r, err := Check([]Input{k8s, provider([]string{"*.dkr.ecr.*.amazonaws.com", "docker.io", "*.io"}, "us-east-1")}, Options{})
	if err != nil || len(r.Findings) != 1 || len(r.Findings[0].Fixes) != 1 {
		t.Fatalf("%v %+v", err, r.Findings)
	}
	snippet := r.Findings[0].Fixes[0].Manual
	for _, want := range []string{`"docker.io"`, `"*.io"`, `"registry.k8s.io"`, `"*.dkr.ecr.*.amazonaws.com"`} {
		if strings.Count(snippet, want) != 1 {
			t.Errorf("the snippet has %q %d times:\n%s", want, strings.Count(snippet, want), snippet)
		}
	}
	// Applied, it leaves nothing to fix, for registry.k8s.io nor for docker.io.
	hub := hostsFor("docker.io", "https://111122223333.dkr.ecr.us-east-1.amazonaws.com/v2/docker-hub")
	r, err = Check([]Input{k8s, hub, {Name: "config.yaml", Explicit: true, Data: []byte(snippet)}}, Options{})
	if err != nil || len(r.Findings) != 0 {
		t.Errorf("with the snippet: %v %+v", err, r.Findings)
	}
}

// A _default hosts.toml pointed at one rule's prefix sends quay.io and ghcr.io images
// to a cache of another upstream: a warning, with one hosts.toml a registry as the fix.
func TestADefaultMirrorAtOnePrefixIsWarned(t *testing.T) {
	r, err := Check([]Input{hostsFor("_default", "https://111122223333.dkr.ecr.us-east-1.amazonaws.com/v2/docker-hub"), provider([]string{"*"}, "us-east-1")}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var found *model.Finding
	for i, f := range r.Findings {
		if f.Check == "mirror-path" {
			found = &r.Findings[i]
		}
	}
	if found == nil || found.Severity != model.SeverityWarning || !strings.Contains(found.Title, "docker-hub/") ||
		!strings.Contains(found.Explanation, "quay.io") || !strings.Contains(found.Fixes[0].Manual, "certs.d/docker.io/hosts.toml") {
		t.Fatalf("%+v", r.Findings)
	}
	// The fix's snippet is one this package accepts.
	fixed, err := Check([]Input{{Name: "certs.d/docker.io/hosts.toml", Explicit: true, Data: []byte(found.Fixes[0].Manual)}, provider([]string{"docker.io"}, "us-east-1")}, Options{})
	if err != nil || len(fixed.Findings) != 0 {
		t.Errorf("the fix: %v %+v", err, fixed.Findings)
	}
}

// A provider config of the wrong shape is refused in its own terms: the field, what it
// holds and what it should, never a Go type.
func TestDecodingErrorsNameTheField(t *testing.T) {
	head := "apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders:\n"
	for in, want := range map[string]string{
		head + "  - \"ecr-credential-provider\"\n":                                                                   "line 4: providers[0] is a string; want a mapping",
		head + "  - name: ecr\n    matchImages: docker.io\n":                                                         "line 5: providers[0].matchImages is a string; want a list",
		`{"apiVersion": "kubelet.config.k8s.io/v1", "kind": "CredentialProviderConfig", "providers": [{"name": 3}]}`: "providers.name is a number; want a string",
	} {
		_, err := Check([]Input{{Name: "config.yaml", Explicit: true, Data: []byte(in)}}, Options{})
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "struct") {
			t.Errorf("%q: %v, want %q", in, err, want)
		}
	}
}

// containerd ignores keys it does not know: a misspelled override_path is said, with
// the key it was likely meant to be.
func TestAnUnknownHostsKeyIsNamed(t *testing.T) {
	in := Input{Name: "certs.d/docker.io/hosts.toml", Explicit: true, Data: []byte("server = \"https://registry-1.docker.io\"\n[host.\"https://111122223333.dkr.ecr.us-east-1.amazonaws.com/v2/docker-hub\"]\n  capabilities = [\"pull\", \"resolve\"]\n  overide_path = true\n  mirrors = 1\n")}
	r, err := Check([]Input{in}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var titles []string
	for _, f := range r.Findings {
		if f.Check == "containerd-config" {
			titles = append(titles, f.Title)
		}
	}
	if len(titles) != 2 || !strings.Contains(titles[1], "overide_path (did you mean override_path?)") || !strings.Contains(titles[0], "mirrors (containerd reads ") {
		t.Errorf("%q", titles)
	}
}
