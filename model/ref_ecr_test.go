package model

import (
	"strings"
	"testing"
)

// Upstream references in another ECR registry (ECR to ECR) and under nested prefixes map
// through the rules, with the upstream repository prefix as the ECR user guide's table says.
func TestParseRefECRToECRAndNestedPrefixes(t *testing.T) {
	rules := []Rule{
		{Prefix: "central", UpstreamURL: "444455556666.dkr.ecr.us-west-2.amazonaws.com", UpstreamPrefix: "team-a"},
		{Prefix: "team-b", UpstreamURL: "444455556666.dkr.ecr.us-west-2.amazonaws.com", UpstreamPrefix: "team-b"},
		{Prefix: "mirror/docker-hub", UpstreamURL: DockerHubRegistry},
	}
	for in, want := range map[string]string{
		"444455556666.dkr.ecr.us-west-2.amazonaws.com/team-a/app/image1:v1": "central/app/image1",
		"444455556666.dkr.ecr.us-west-2.amazonaws.com/team-b/myapp:v1":      "team-b/myapp",
		"nginx:1.27": "mirror/docker-hub/library/nginx",
	} {
		r, err := ParseRef(in, "111122223333", "us-east-1", rules)
		if err != nil || r.Repository != want {
			t.Errorf("%s: %q %v, want %s", in, r.Repository, err, want)
		}
		back := UpstreamPath(RuleFor(rules, r.Repository), r.Repository)
		if !strings.Contains(r.Upstream, "/"+back+":") {
			t.Errorf("%s: the mapping does not go back: %s vs %s", in, r.Upstream, back)
		}
	}
	// A registry no rule caches from is still refused, with why.
	if _, err := ParseRef("999988887777.dkr.ecr.us-west-2.amazonaws.com/x:v1", "111122223333", "us-east-1", rules); err == nil {
		t.Error("a foreign ECR registry was accepted")
	}
}
