package main

import (
	"bytes"
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/ptcdoctor/ptcdoctor/diagnose"
	"github.com/ptcdoctor/ptcdoctor/model"
)

// fix --dry-run shows the plan in full: the principal and the resource a policy grants,
// pretty-printed under its step, and every line of it in 80 columns.
func TestFixShowsEveryInputWhole(t *testing.T) {
	env := demoEnv(t)
	out, _ := runCLI(t, env, "doctor", "--demo", "--check", "permissions", "--json")
	var r diagnose.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	id := ""
	for _, f := range r.Findings {
		if len(f.Fixes) > 0 && len(f.Fixes[0].Steps) > 0 {
			id = f.ID
		}
	}
	if id == "" {
		t.Fatalf("no permissions finding with a plan: %+v", r.Findings)
	}
	out, code := runCLI(t, env, "fix", "--demo", "--finding", id, "--dry-run")
	if code != 0 || strings.Contains(out, `..."`) ||
		!strings.Contains(out, "\n             \"AWS\": \"arn:aws:iam::111122223333:role/eks-node\"\n") ||
		!regexp.MustCompile(`"arn:aws:ecr:us-east-1:111122223333:repository/[a-z-]+/\*"`).MatchString(out) {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	if wide := wideLines(out, 80, jsonLine); len(wide) > 0 {
		t.Errorf("lines wider than 80 columns:\n%s", strings.Join(wide, "\n"))
	}
}

// jsonLine tells a line of a JSON document, kept whole (its strings cannot be folded).
func jsonLine(l string) bool { return strings.HasPrefix(strings.TrimSpace(l), `"`) }

// explain prints its fixes with the printer fix uses: each step's description, the
// destructive mark, the inputs whole; a policy to attach by hand pretty-printed.
func TestExplainPrintsPlansAsFixDoes(t *testing.T) {
	out, code := runCLI(t, demoEnv(t), "explain", "--demo", "111122223333.dkr.ecr.us-east-1.amazonaws.com/docker-hub/nginx:latest")
	if code != exitFindings {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	for _, want := range []string{
		"1. Delete the empty repository docker-hub/nginx (never one with images)",
		"[destructive]",
		`"AWS": "arn:aws:iam::111122223333:role/eks-node"`,
		"\n    \"Version\": \"2012-10-17\"\n", // the IAM policy, one key a line
		"[ ok ] permissions of arn:aws:iam::111122223333:user/admin\n                                may ",
	} {
		if !strings.Contains(out, want) && !strings.Contains(flat(out), flat(want)) {
			t.Errorf("explain lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, `..."`) {
		t.Errorf("an input cut short:\n%s", out)
	}
	if wide := wideLines(out, 80, func(l string) bool { return jsonLine(l) || strings.HasPrefix(l, "Apply with: ptcdoctor fix") }); len(wide) > 0 {
		t.Errorf("lines wider than 80 columns:\n%s", strings.Join(wide, "\n"))
	}
}

// setup --dry-run shows what the nodes need with the plan, to review before --yes.
func TestSetupDryRunShowsTheNodeSnippets(t *testing.T) {
	out, code := runCLI(t, demoEnv(t), "setup", "--demo", "--upstream", "k8s", "--prefix", "k8s", "--dry-run")
	if code != 0 || !strings.Contains(out, "Once the rule exists (after --yes)") || !strings.Contains(out, "certs.d/registry.k8s.io/hosts.toml") ||
		!strings.Contains(out, "\n    override_path = true\n") || !strings.Contains(out, `- "registry.k8s.io"`) || !strings.Contains(out, "nothing was written") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	// Prose is folded; snippets and commands (indented lines) are kept whole, to be copied.
	if wide := wideLines(out, 80, func(l string) bool { return strings.HasPrefix(l, " ") }); len(wide) > 0 {
		t.Errorf("lines wider than 80 columns:\n%s", strings.Join(wide, "\n"))
	}
}

// nodes: its lines fit, and its counts are English.
func TestNodesOutputFitsAndCounts(t *testing.T) {
	out, code := runCLI(t, os.Environ(), "nodes", "../../testdata/nodes/unmatched-credential-provider")
	if code != exitFindings || !strings.Contains(out, "2 files, 1 error, 0 warnings, 0 not checked") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	// Snippet lines (with their comments) are kept whole.
	if wide := wideLines(out, 80, func(l string) bool { return strings.Contains(l, "   # ") }); len(wide) > 0 {
		t.Errorf("lines wider than 80 columns:\n%s", strings.Join(wide, "\n"))
	}
}

// Five reads refused by one endpoint are one line naming the five, not five messages
// run together.
func TestFailedReadsAreOneCauseALine(t *testing.T) {
	refused := `exceeded maximum number of attempts, 8, https response error StatusCode: 0, RequestID: , request send failed, Post "http://127.0.0.1:1/": dial tcp 127.0.0.1:1: connect: connection refused`
	got := failedReads([]model.PartError{
		{Part: "caller identity", Operation: "GetCallerIdentity", Message: "operation error STS: GetCallerIdentity, " + refused},
		{Part: "pull through cache rules", Operation: "DescribePullThroughCacheRules", Message: "operation error ECR: DescribePullThroughCacheRules, " + refused},
		{Part: "templates", Operation: "DescribeRepositoryCreationTemplates", Code: "AccessDeniedException", Message: "not authorized"},
	})
	want := "- caller identity (GetCallerIdentity), pull through cache rules (DescribePullThroughCacheRules): " + refused +
		"\n- templates (DescribeRepositoryCreationTemplates): AccessDeniedException not authorized"
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

// A message of several lines (no credentials: the cause, then what to do) keeps its
// line breaks: its sentences are not run together.
func TestNotCheckedAgainstTheAccountKeepsItsLines(t *testing.T) {
	var b bytes.Buffer
	printErrorVerdict(&b, diagnose.ErrorVerdict{Verdict: "v"}, "no usable AWS credentials (profile default): access disabled to EC2 IMDS via client option, or \"AWS_EC2_METADATA_DISABLED\" environment variable\nName a profile with --profile or AWS_PROFILE")
	if !strings.Contains(b.String(), "environment variable\n  Name a profile") {
		t.Errorf("got:\n%s", b.String())
	}
}
