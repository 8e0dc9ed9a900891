package uiengine_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/ptcdoctor/ptcdoctor/cmd/ptcdoctor/uiengine"
	"github.com/ptcdoctor/ptcdoctor/ecrops"
	"github.com/ptcdoctor/ptcdoctor/ecrops/sim/simtest"
	"github.com/ptcdoctor/ptcdoctor/model"
)

// A target's journal tab: the machine's journal holds every account's writes. A plan
// that ran in another account is marked with where it ran and not offered for undo, and
// its undo is refused by the engine; this account's own plan stays undoable.
func TestTheJournalTabMarksPlansThatRanElsewhere(t *testing.T) {
	srv := simtest.Start(t, "demo")
	info := srv.Info()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	acc, err := ecrops.Open(ctx, ecrops.Config{Region: info.Region, EndpointURL: info.Endpoint, Resolve: info.Resolve,
		StateDir: t.TempDir(), Retryer: ecrops.NoBackoff(3),
		Credentials: credentials.NewStaticCredentialsProvider(info.AccessKeyID, info.SecretAccessKey, "")})
	if err != nil {
		t.Fatal(err)
	}
	eng := uiengine.New(ctx, acc, false)
	here := eng.Header().Account
	inverse := &model.Step{Kind: model.StepDeleteTemplate, Operation: "ecr:DeleteRepositoryCreationTemplate", Target: "quay", Expect: map[string]string{"exists": "true"}}
	for _, e := range []ecrops.JournalEntry{
		{Plan: "elsewhere", Account: "999999999999", Region: info.Region},
		{Plan: "other-region", Account: here, Region: "eu-west-1"},
		{Plan: "here", Account: here, Region: info.Region},
	} {
		e.Time, e.Phase, e.Kind, e.Operation, e.Target, e.Inverse = time.Now(), "done", model.StepCreateTemplate, "ecr:CreateRepositoryCreationTemplate", "quay", inverse
		if err := acc.Journal().Append(e); err != nil {
			t.Fatal(err)
		}
	}
	rows, err := eng.Journal()
	if err != nil || len(rows) != 3 {
		t.Fatalf("%+v %v", rows, err)
	}
	want := map[string]string{"elsewhere": "ran in 999999999999 " + info.Region, "other-region": "ran in " + here + " eu-west-1", "here": ""}
	for _, r := range rows {
		if r.Elsewhere != want[r.Plan] || r.Undoable != (want[r.Plan] == "") {
			t.Errorf("%s: elsewhere %q, undoable %v", r.Plan, r.Elsewhere, r.Undoable)
		}
	}
	for _, plan := range []string{"elsewhere", "other-region"} {
		if _, err := eng.UndoPlan(ctx, plan); err == nil || !strings.Contains(err.Error(), "nothing was written") {
			t.Errorf("undo of %s: %v", plan, err)
		}
	}
	if p, err := eng.UndoPlan(ctx, "here"); err != nil || len(p.Steps) != 1 {
		t.Errorf("undo here: %+v %v", p, err)
	}
}
