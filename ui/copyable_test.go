package ui_test

import (
	"regexp"
	"strings"
	"testing"
)

var (
	arnRE    = regexp.MustCompile(`arn:aws:ecr:[a-z0-9-]+:\d{12}:repository/[^"\s]*`)
	wholeARN = regexp.MustCompile(`"arn:aws:ecr:[a-z0-9-]+:\d{12}:repository/[^"\s]*"`)
)

// A manual IAM policy is pretty-printed, and no ARN in it is broken across lines:
// it is copied from the screen.
func TestAManualPolicyIsPrettyAndItsARNsWhole(t *testing.T) {
	app := demoApp(t, 80, 24)
	findingsMatching(app, "eks-node")
	key(app, "f")
	var s string
	for range 4 {
		s = screenText(app)
		if strings.Contains(s, "IAM policy") {
			break
		}
		key(app, "n")
	}
	for range 6 {
		s += screenText(app)
		key(app, " ")
	}
	if !strings.Contains(s, `"Effect": "Allow",`) {
		t.Fatalf("the policy is not pretty-printed:\n%s", s)
	}
	if len(arnRE.FindAllString(s, -1)) == 0 {
		t.Fatalf("no ARN in the policy:\n%s", s)
	}
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, `"arn:`) && !wholeARN.MatchString(l) {
			t.Errorf("an ARN broken across lines: %q", l)
		}
	}
}
