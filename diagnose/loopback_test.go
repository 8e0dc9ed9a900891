package diagnose_test

import (
	"context"
	"errors"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/ptcdoctor/ptcdoctor/diagnose"
	"github.com/ptcdoctor/ptcdoctor/ecrops"
	"github.com/ptcdoctor/ptcdoctor/ecrops/sim"
	"github.com/ptcdoctor/ptcdoctor/model"
)

// No scenario sends the tool beyond loopback: a scan and a diagnosis of every shipped
// scenario (embedded, and the corpus in testdata/scenarios), a generated one for each upstream, and one whose rules name every upstream
// with no upstreams entry at all, look up no host name in DNS (the way to any host beyond
// loopback), and every address the stand-in gives is on loopback. A generated scenario's
// ECR Public rules used to send the tool's probes to the real public.ecr.aws.
func TestNoScenarioLeavesLoopback(t *testing.T) {
	var mu sync.Mutex
	var lookups []string
	saved := net.DefaultResolver
	net.DefaultResolver = &net.Resolver{PreferGo: true, Dial: func(_ context.Context, network, address string) (net.Conn, error) {
		mu.Lock()
		lookups = append(lookups, network+" "+address)
		mu.Unlock()
		return nil, errors.New("the test forbids DNS: every host must be reached through the resolve map")
	}}
	t.Cleanup(func() { net.DefaultResolver = saved })

	scenarios := map[string]string{}
	for _, name := range sim.EmbeddedScenarios() {
		scenarios[name] = name
	}
	files, _ := filepath.Glob("../testdata/scenarios/*.yaml")
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		scenarios[filepath.Base(f)] = string(raw)
	}
	for _, up := range []string{"ecr-public", "quay", "k8s", "docker-hub", "github-container-registry", "gitlab-container-registry", "chainguard"} {
		scenarios["generated "+up] = "generate: {rules: 2, repositoriesPerRule: 2, imagesPerRepository: 2, upstream: " + up + "}\n"
	}
	scenarios["rules without upstreams"] = `
secrets: [{name: ecr-pullthroughcache/x, value: '{"username":"u","accessToken":"t"}'}]
rules:
  - {prefix: pub, upstream: ecr-public}
  - {prefix: quay, upstream: quay}
  - {prefix: k8s, upstream: k8s}
  - {prefix: hub, upstream: docker-hub, credential: ecr-pullthroughcache/x}
  - {prefix: gh, upstream: github-container-registry, credential: ecr-pullthroughcache/x}
  - {prefix: gl, upstream: gitlab-container-registry, credential: ecr-pullthroughcache/x}
  - {prefix: cg, upstream: chainguard, credential: ecr-pullthroughcache/x}
  - {prefix: other, upstream: ecr, url: 444455556666.dkr.ecr.eu-west-1.amazonaws.com}
  - {prefix: az, upstream: azure-container-registry, url: myregistry01.azurecr.io, credential: ecr-pullthroughcache/x}
`
	for name, sc := range scenarios {
		t.Run(name, func(t *testing.T) {
			srv, acc := account(t, sc)
			info := srv.Info()
			for _, addr := range append([]string{info.Endpoint, info.Registry}, values(info.Resolve)...) {
				u, err := url.Parse(addr)
				if err != nil || !sim.IsLoopback(u.Host) {
					t.Fatalf("the stand-in gives an address beyond loopback: %s", addr)
				}
			}
			ctx := context.Background()
			snap, err := acc.Scan(ctx, ecrops.Scope{}, nil)
			if err != nil {
				t.Fatal(err)
			}
			// A reference through every rule, so that each rule's upstream is probed.
			var refs []model.Ref
			for _, r := range snap.Rules {
				if info.Resolve[hostName(r.UpstreamURL)] == "" {
					t.Errorf("rule %s names %s, which the resolve map lacks", r.Prefix, r.UpstreamURL)
				}
				ref, err := model.ParseRef(reg+r.Prefix+"/team/app:1.0", snap.AccountID, snap.Region, snap.Rules)
				if err == nil {
					refs = append(refs, ref)
				}
			}
			diagnose.Run(ctx, snap, acc, diagnose.Options{Refs: refs})
		})
	}
	if len(lookups) > 0 {
		t.Fatalf("the tool looked up host names in DNS, on its way beyond loopback: %v", lookups)
	}
}

func values(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

func hostName(registryURL string) string {
	u, err := url.Parse("https://" + registryURL)
	if err != nil {
		return registryURL
	}
	return u.Hostname()
}
