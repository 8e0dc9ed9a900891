package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// explain --error agrees with doctor on a link it could not read (trial 16): with the
// rule's secret deleted, the pull budget is not checked, shown [ ?? ], the JSON is not
// complete, and the exit is 3 whatever cause the chain confirmed.
func TestExplainErrorWithALinkNotReadIsIncomplete(t *testing.T) {
	_, env := standIn(t, filepath.Join("..", "..", "testdata", "scenarios", "deleted-secret.yaml"))
	const ref = "111122223333.dkr.ecr.us-east-1.amazonaws.com/docker-hub/library/nginx:1.27"
	line := `failed to resolve reference "` + ref + `": pulling from host 111122223333.dkr.ecr.us-east-1.amazonaws.com failed with status code [manifests 1.27]: 403 Forbidden`
	out, code := runCLI(t, env, "explain", "--error", line)
	if code != 3 || !strings.Contains(out, "[ ?? ] pull budget") || strings.Contains(out, "no pull limit") {
		t.Errorf("exit %d, want 3 with the pull budget not checked:\n%s", code, out)
	}
	out, code = runCLI(t, env, "explain", "--json", "--error", line)
	var rep struct {
		Complete *bool `json:"complete"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || rep.Complete == nil || *rep.Complete || code != 3 {
		t.Errorf("--json: exit %d, complete %v (%v):\n%s", code, rep.Complete, err, out)
	}
}
