package model

import (
	"strings"
	"testing"
	"unicode/utf8"
)

var rules = []Rule{
	{Prefix: "docker-hub", UpstreamRegistry: "docker-hub", UpstreamURL: "registry-1.docker.io"},
	{Prefix: "github", UpstreamRegistry: "github-container-registry", UpstreamURL: "ghcr.io"},
	{Prefix: "team", UpstreamRegistry: "quay", UpstreamURL: "quay.io", UpstreamPrefix: "org"},
	{Prefix: "ROOT", UpstreamRegistry: "ecr-public", UpstreamURL: "public.ecr.aws"},
}

func TestParseRef(t *testing.T) {
	const reg = "111122223333.dkr.ecr.us-east-1.amazonaws.com"
	cases := []struct {
		in                                string
		repo, tag, digest, rule, upstream string
		fromUpstream                      bool
	}{
		{reg + "/docker-hub/library/nginx:1.27", "docker-hub/library/nginx", "1.27", "", "docker-hub", "registry-1.docker.io/library/nginx:1.27", false},
		{reg + "/docker-hub/nginx", "docker-hub/nginx", "latest", "", "docker-hub", "registry-1.docker.io/nginx:latest", false},
		{"nginx:1.27", "docker-hub/library/nginx", "1.27", "", "docker-hub", "registry-1.docker.io/library/nginx:1.27", true},
		{"docker.io/bitnami/postgresql:16", "docker-hub/bitnami/postgresql", "16", "", "docker-hub", "registry-1.docker.io/bitnami/postgresql:16", true},
		{"registry-1.docker.io/library/redis:7.4", "docker-hub/library/redis", "7.4", "", "docker-hub", "registry-1.docker.io/library/redis:7.4", true},
		{"ghcr.io/org/app:v1", "github/org/app", "v1", "", "github", "ghcr.io/org/app:v1", true},
		{"quay.io/org/app:v2", "team/app", "v2", "", "team", "quay.io/org/app:v2", true},
		{reg + "/team/app:v2", "team/app", "v2", "", "team", "quay.io/org/app:v2", false},
		{reg + "/docker/library/busybox:latest", "docker/library/busybox", "latest", "", "ROOT", "public.ecr.aws/docker/library/busybox:latest", false},
		{"public.ecr.aws/docker/library/busybox:1.36", "docker/library/busybox", "1.36", "", "ROOT", "public.ecr.aws/docker/library/busybox:1.36", true},
		{reg + "/docker-hub/library/nginx@sha256:" + strings.Repeat("a", 64), "docker-hub/library/nginx", "", "sha256:" + strings.Repeat("a", 64), "docker-hub", "registry-1.docker.io/library/nginx@sha256:" + strings.Repeat("a", 64), false},
		{reg + "/docker-hub/library/nginx:1.27@sha256:" + strings.Repeat("b", 64), "docker-hub/library/nginx", "1.27", "sha256:" + strings.Repeat("b", 64), "docker-hub", "registry-1.docker.io/library/nginx:1.27@sha256:" + strings.Repeat("b", 64), false},
		{reg + "/my-proxy:latest", "my-proxy", "latest", "", "ROOT", "public.ecr.aws/my-proxy:latest", false},
		// The cache path copied without the host is the account's rule prefix, not a Docker Hub user.
		{"docker-hub/nginx:latest", "docker-hub/nginx", "latest", "", "docker-hub", "registry-1.docker.io/nginx:latest", false},
		{"docker-hub/library/nginx:1.27", "docker-hub/library/nginx", "1.27", "", "docker-hub", "registry-1.docker.io/library/nginx:1.27", false},
		{"team/app:v2", "team/app", "v2", "", "team", "quay.io/org/app:v2", false},
		// A name whose first segment is no rule's prefix stays a Docker Hub name.
		{"bitnami/redis:7", "docker-hub/bitnami/redis", "7", "", "docker-hub", "registry-1.docker.io/bitnami/redis:7", true},
		{"docker.io/docker-hub/nginx:1", "docker-hub/docker-hub/nginx", "1", "", "docker-hub", "registry-1.docker.io/docker-hub/nginx:1", true},
	}
	for _, c := range cases {
		r, err := ParseRef(c.in, "111122223333", "us-east-1", rules)
		if err != nil {
			t.Errorf("%s: %v", c.in, err)
			continue
		}
		if r.Repository != c.repo || r.Tag != c.tag || r.Digest != c.digest || r.RulePrefix != c.rule || r.Upstream != c.upstream || r.FromUpstream != c.fromUpstream {
			t.Errorf("%s:\n got %+v\nwant repo=%s tag=%s digest=%s rule=%s upstream=%s", c.in, r, c.repo, c.tag, c.digest, c.rule, c.upstream)
		}
	}
}

func TestParseRefErrors(t *testing.T) {
	for in, want := range map[string]string{
		"":                                 "empty",
		"   ":                              "empty",
		"UPPER/Case:1":                     "not an image reference",
		"nginx:bad tag":                    "not an image reference",
		"gcr.io/distroless/static:nonroot": "no pull through cache rule has the upstream gcr.io",
		"444455556666.dkr.ecr.us-east-1.amazonaws.com/x:1": "is in the registry 444455556666",
		"111122223333.dkr.ecr.eu-west-1.amazonaws.com/x:1": "is in region eu-west-1",
		"a\x1b[31mb:1": `\x1b`,
	} {
		_, err := ParseRef(in, "111122223333", "us-east-1", rules[:3])
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: got %v, want %q", in, err, want)
		}
	}
}

func TestPrintable(t *testing.T) {
	for in, want := range map[string]string{
		"plain":       "plain",
		"red\x1b[31m": `red\x1b[31m`,
		"bell\a":      `bell\x07`,
		"line\nbreak": "line break",
		"\u202eevil":  `\u202eevil`,
		"csi\u009b2J": `csi\x9b2J`,
	} {
		if got := Printable(in); got != want {
			t.Errorf("Printable(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzParseRef(f *testing.F) {
	for _, s := range []string{"nginx:1.27", "111122223333.dkr.ecr.us-east-1.amazonaws.com/docker-hub/library/nginx:1.27",
		"ghcr.io/org/app@sha256:" + strings.Repeat("a", 64), "quay.io/org/app:v2", "a\x1b[2J"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		r, err := ParseRef(in, "111122223333", "us-east-1", rules)
		if err != nil {
			if strings.ContainsRune(err.Error(), 0x1b) {
				t.Fatalf("an error carries a raw escape: %q", err.Error())
			}
			return
		}
		if r.Repository == "" && r.RulePrefix != "" {
			t.Fatalf("a rule without a repository: %+v", r)
		}
		if !utf8.ValidString(r.CacheURI()) {
			t.Fatalf("invalid cache URI %q", r.CacheURI())
		}
	})
}

func FuzzImagesFromFile(f *testing.F) {
	for _, s := range []string{"nginx:1.27\n# comment\nghcr.io/org/app:v1\n", `{"items":[{"spec":{"containers":[{"image":"nginx:1.27"}]}}]}`,
		"apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - image: redis:7.4\n---\napiVersion: apps/v1\n", "a b c", "image: &a [*a]"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		refs, err := ImagesFromFile(data)
		if err != nil {
			return
		}
		for _, r := range refs {
			if r == "" {
				t.Fatal("an empty reference came out")
			}
		}
	})
}

func FuzzPrintable(f *testing.F) {
	for _, s := range []string{"plain", "\x1b[2J\x1b[H", "\u009b31m", "\u202e", "a\x00b", "caf\u00e9 \ufffd", "bad \xff utf-8", "\u00a0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := Printable(s)
		if plain(s) && len(s) <= 4096 && out != s {
			t.Fatalf("Printable(%q) = %q: the copy it skips would differ", s, out)
		}
		for _, r := range out {
			if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == '\u202e' {
				t.Fatalf("Printable(%q) kept %U", s, r)
			}
		}
	})
}
