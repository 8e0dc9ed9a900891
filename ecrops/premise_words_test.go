package ecrops_test

import (
	"strings"
	"testing"

	"github.com/ptcdoctor/ptcdoctor/ecrops"
	"github.com/ptcdoctor/ptcdoctor/model"
)

// A premise that could not be read (the upstream answered 500, did not answer, or could
// not be asked with the rule's credentials) stops the write as one that could not be
// confirmed, not as "the account changed since the plan was made"; an upstream that
// answered otherwise (404) is a change.
func TestAPremiseNotReadIsNotAChange(t *testing.T) {
	key := model.ExpectUpstreamServes + "docker-hub registry-1.docker.io/library/alpine:latest"
	step := model.Step{Operation: "ecr:BatchDeleteImage", Target: "docker-hub/library/alpine:latest"}
	for _, c := range []struct{ have, want, not string }{
		{"500 UNAVAILABLE: An internal error occurred", "what it rests on could not be confirmed now (the upstream could not be asked whether it serves registry-1.docker.io/library/alpine:latest now (500 UNAVAILABLE", "account changed"},
		{"unreachable: dial tcp 127.0.0.1:1: connect: connection refused", "could not be confirmed now", "account changed"},
		{"not asked with the rule's credentials: its secret could not be read (GetSecretValue: throttled)", "could not be confirmed now", "account changed"},
		{"404 not-found: manifest unknown", "the account changed since the plan was made (the upstream does not serve", "could not be confirmed"},
	} {
		err := &ecrops.PreconditionError{Step: step, Diffs: []ecrops.Difference{{Key: key, Want: model.UpstreamServes, Have: c.have}}}
		if s := err.Error(); !strings.Contains(s, c.want) || strings.Contains(s, c.not) {
			t.Errorf("%s reads %q", c.have, s)
		}
	}
}
