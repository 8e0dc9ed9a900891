package main

import (
	"regexp"
	"strings"
	"testing"
)

// explain's "Apply with" names exactly the fix it follows: run as printed, fix plans that
// finding's fix and nothing else of the account (whose demo has a dozen more), with the
// principal explain was given.
func TestExplainApplyWithPlansOnlyItsFixes(t *testing.T) {
	_, env := standIn(t, "demo")
	for _, ref := range []string{"111122223333.dkr.ecr.us-east-1.amazonaws.com/docker-hub/library/redis:7.4",
		"111122223333.dkr.ecr.us-east-1.amazonaws.com/docker-hub/nginx:latest"} {
		out, _ := runCLI(t, env, "explain", "--principal", "arn:aws:iam::111122223333:role/eks-node", ref)
		joined := regexp.MustCompile(` \\\n *`).ReplaceAllString(out, " ") // the command's folded lines, as a shell reads them
		applies := regexp.MustCompile(`(?m)^ +ptcdoctor (fix .*) --dry-run$`).FindAllStringSubmatch(joined, -1)
		if len(applies) == 0 || strings.Contains(out, "fix --image") {
			t.Fatalf("explain %s: no per-fix apply command:\n%s", ref, out)
		}
		for _, a := range applies {
			args := strings.Fields(a[1])
			id := args[2]
			if args[1] != "--finding" || !strings.Contains(a[1], "--principal arn:aws:iam::111122223333:role/eks-node") {
				t.Fatalf("apply command %q lacks the finding or the principal", a[1])
			}
			plan, code := runCLI(t, env, append(args, "--dry-run")...)
			planned := regexp.MustCompile(`(?m)^\[([0-9a-f]{8})\] `).FindAllStringSubmatch(plan, -1)
			if code != 0 || len(planned) != 1 || planned[0][1] != id {
				t.Fatalf("%s --dry-run (exit %d) plans %v, not only %s:\n%s", a[1], code, planned, id, plan)
			}
		}
	}
}
