package diagnose

import (
	"strings"
	"testing"

	"github.com/ptcdoctor/ptcdoctor/diagnose/nodes"
	"github.com/ptcdoctor/ptcdoctor/model"
)

// snippet takes the indented block printed under a header line ending in suffix.
func snippet(text, suffix string) string {
	var b strings.Builder
	in := false
	for _, line := range strings.Split(text, "\n") {
		switch {
		case strings.HasSuffix(line, suffix):
			in = true
		case in && strings.HasPrefix(line, "  "):
			b.WriteString(strings.TrimPrefix(line, "  ") + "\n")
		case in:
			return b.String()
		}
	}
	return b.String()
}

// The node snippets setup prints pass ptcdoctor nodes, for every upstream: the mirror
// reaches the prefix, and the credential provider covers the images pods name.
func TestSetupSnippetsPassTheNodesCheck(t *testing.T) {
	snap := &model.Snapshot{AccountID: "111122223333", Region: "eu-west-1"}
	for _, u := range Upstreams {
		r := SetupRequest{Upstream: u.ID, Prefix: u.DefaultPrefix, AzureRegistry: "myregistry", ECRAccount: "444455556666", ECRRegion: "us-west-2"}
		text := NextSteps(snap, r)
		ns := hostsTomlDir(r.URL())
		hosts := snippet(text, "/"+ns+"/hosts.toml):")
		provider := snippet(text, "config.json):")
		if hosts == "" || provider == "" {
			t.Fatalf("%s: no snippets in\n%s", u.ID, text)
		}
		rep, err := nodes.Check([]nodes.Input{
			{Name: "certs.d/" + ns + "/hosts.toml", Data: []byte(hosts), Explicit: true},
			{Name: "config.yaml", Data: []byte(provider), Explicit: true},
		}, nodes.Options{})
		if err != nil {
			t.Fatalf("%s: %v\n%s\n%s", u.ID, err, hosts, provider)
		}
		if len(rep.Findings) > 0 || len(rep.NotChecked) > 0 {
			t.Errorf("%s: %+v %v", u.ID, rep.Findings, rep.NotChecked)
		}
		reached := false
		for _, rt := range rep.Files[0].Routes {
			if rt.Cache != nil && !reached {
				reached = rt.Reaches && rt.Credentials == "yes" && rt.Cache.Prefix == u.DefaultPrefix && rt.Cache.Region == "eu-west-1"
			}
		}
		if !reached {
			t.Errorf("%s: the printed mirror does not reach %s/ with credentials: %+v", u.ID, u.DefaultPrefix, rep.Files[0].Routes)
		}
	}
}
