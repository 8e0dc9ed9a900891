package ecrops_test

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/ptcdoctor/ptcdoctor/ecrops"
	"github.com/ptcdoctor/ptcdoctor/model"
)

const lifecycle = `{"rules":[{"rulePriority":1,"selection":{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":1},"action":{"type":"expire"}}]}`

func step(kind model.StepKind, op, target string, params, expect map[string]string) model.Step {
	return model.Step{Kind: kind, Operation: op, Target: target, Params: params, Expect: expect}
}

// apply runs one plan and fails the test on an error.
func apply(t *testing.T, acc *ecrops.Account, opts ecrops.ApplyOptions, steps ...model.Step) []ecrops.StepResult {
	t.Helper()
	res, err := acc.Apply(ctx(t), model.Plan{Title: "test", Steps: steps}, opts)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func lastPlan(t *testing.T, acc *ecrops.Account) string {
	t.Helper()
	entries, err := acc.Journal().Entries()
	if err != nil || len(entries) == 0 {
		t.Fatalf("journal: %v", err)
	}
	return entries[len(entries)-1].Plan
}

// undo applies the inverse of the last plan.
func undo(t *testing.T, acc *ecrops.Account) {
	t.Helper()
	undoPlan(t, acc, lastPlan(t, acc))
}

func undoPlan(t *testing.T, acc *ecrops.Account, id string) {
	t.Helper()
	u, err := acc.UndoPlan(ctx(t), id, ecrops.UndoOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := acc.Apply(ctx(t), u.Plan, ecrops.ApplyOptions{}); err != nil {
		t.Fatalf("undo: %v", err)
	}
}

func scan(t *testing.T, acc *ecrops.Account) *model.Snapshot {
	t.Helper()
	snap, err := acc.Scan(ctx(t), ecrops.Scope{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

func TestRuleStepsAndTheirUndo(t *testing.T) {
	s := start(t, "demo")
	acc := s.acc
	apply(t, acc, ecrops.ApplyOptions{}, step(model.StepCreateRule, "ecr:CreatePullThroughCacheRule", "quay-2",
		map[string]string{"upstreamRegistryUrl": "quay.io", "upstreamRegistry": "quay"}, map[string]string{"exists": "false"}))
	if scan(t, acc).Rule("quay-2") == nil {
		t.Fatal("the rule was not created")
	}
	created := lastPlan(t, acc)
	undo(t, acc)
	if scan(t, acc).Rule("quay-2") != nil {
		t.Fatal("undo did not delete the rule")
	}
	// A second undo of the same plan is refused before any call: it was undone.
	if _, err := acc.UndoPlan(ctx(t), created, ecrops.UndoOptions{}); !errors.Is(err, ecrops.ErrNothingToUndo) || !strings.Contains(err.Error(), "undone already") {
		t.Fatalf("a second undo: %v", err)
	}

	hub := scan(t, acc).Rule("docker-hub").CredentialArn
	gh := scan(t, acc).Rule("github").CredentialArn
	apply(t, acc, ecrops.ApplyOptions{}, step(model.StepUpdateRule, "ecr:UpdatePullThroughCacheRule", "github",
		map[string]string{"credentialArn": hub}, map[string]string{"credentialArn": gh}))
	if scan(t, acc).Rule("github").CredentialArn != hub {
		t.Fatal("the rule was not updated")
	}
	undo(t, acc)
	if scan(t, acc).Rule("github").CredentialArn != gh {
		t.Fatal("undo did not put the credentials back")
	}

	apply(t, acc, ecrops.ApplyOptions{}, step(model.StepDeleteRule, "ecr:DeletePullThroughCacheRule", "quay", nil, map[string]string{"exists": "true"}))
	if scan(t, acc).Rule("quay") != nil {
		t.Fatal("the rule was not deleted")
	}
	undo(t, acc)
	if r := scan(t, acc).Rule("quay"); r == nil || r.UpstreamURL != "quay.io" {
		t.Fatalf("undo did not recreate the rule: %+v", r)
	}
}

func TestTemplateStepsAndTheirUndo(t *testing.T) {
	s := start(t, "demo")
	acc := s.acc
	template := func(prefix string) *model.Template {
		for _, tp := range scan(t, acc).Templates {
			if tp.Prefix == prefix {
				return &tp
			}
		}
		return nil
	}
	apply(t, acc, ecrops.ApplyOptions{}, step(model.StepCreateTemplate, "ecr:CreateRepositoryCreationTemplate", "quay",
		map[string]string{"appliedFor": "PULL_THROUGH_CACHE", "imageTagMutability": "MUTABLE", "lifecyclePolicy": lifecycle, "encryptionType": "AES256"},
		map[string]string{"exists": "false"}))
	if tp := template("quay"); tp == nil || tp.LifecyclePolicy != lifecycle {
		t.Fatalf("created: %+v", tp)
	}
	undo(t, acc)
	if template("quay") != nil {
		t.Fatal("undo did not delete the template")
	}

	apply(t, acc, ecrops.ApplyOptions{}, step(model.StepUpdateTemplate, "ecr:UpdateRepositoryCreationTemplate", "kubernetes",
		map[string]string{"imageTagMutability": "MUTABLE", "customRoleArn": "arn:aws:iam::111122223333:role/ecr-template"}, map[string]string{"imageTagMutability": "IMMUTABLE"}))
	if tp := template("kubernetes"); tp.ImageTagMutability != "MUTABLE" || tp.CustomRoleArn == "" {
		t.Fatalf("updated: %+v", tp)
	}
	undo(t, acc)
	if tp := template("kubernetes"); tp.ImageTagMutability != "IMMUTABLE" || tp.CustomRoleArn != "" || tp.ResourceTags["team"] != "platform" {
		t.Fatalf("undo: %+v", tp)
	}

	apply(t, acc, ecrops.ApplyOptions{}, step(model.StepDeleteTemplate, "ecr:DeleteRepositoryCreationTemplate", "kubernetes", nil, map[string]string{"exists": "true"}))
	undo(t, acc)
	if tp := template("kubernetes"); tp == nil || tp.ImageTagMutability != "IMMUTABLE" || tp.ResourceTags["team"] != "platform" || tp.LifecyclePolicy == "" {
		t.Fatalf("recreated: %+v", tp)
	}
}

func TestLifecycleAndRegistryPolicyStepsAndTheirUndo(t *testing.T) {
	s := start(t, "demo")
	acc := s.acc
	repo := "quay/prometheus/node-exporter"
	apply(t, acc, ecrops.ApplyOptions{}, step(model.StepPutLifecyclePolicy, "ecr:PutLifecyclePolicy", repo,
		map[string]string{"lifecyclePolicyText": lifecycle}, map[string]string{"lifecyclePolicy": ""}))
	if scan(t, acc).Repository(repo).LifecyclePolicy != lifecycle {
		t.Fatal("the lifecycle policy was not put")
	}
	undo(t, acc)
	if p := scan(t, acc).Repository(repo); !p.LifecycleKnown || p.LifecyclePolicy != "" {
		t.Fatal("undo did not remove the lifecycle policy")
	}

	first := `{"Sid":"PullThroughCache","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/eks-node"},"Action":["ecr:BatchImportUpstreamImage"],"Resource":"*"}`
	second := `{"Sid":"PullThroughCache","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/ci-builder"},"Action":["ecr:CreateRepository"],"Resource":"*"}`
	apply(t, acc, ecrops.ApplyOptions{}, step(model.StepAddRegistryPolicyStatement, "ecr:PutRegistryPolicy", "registry policy",
		map[string]string{"statement": first}, map[string]string{"policy": ""}))
	apply(t, acc, ecrops.ApplyOptions{}, step(model.StepAddRegistryPolicyStatement, "ecr:PutRegistryPolicy", "registry policy",
		map[string]string{"statement": second}, nil))
	secondPlan := lastPlan(t, acc)
	policy := scan(t, acc).RegistryPolicy
	if !strings.Contains(policy, "eks-node") || !strings.Contains(policy, "ci-builder") || !strings.Contains(policy, `"PullThroughCache2"`) {
		t.Fatalf("the statements were not merged: %s", policy)
	}
	// The same statement again changes nothing.
	apply(t, acc, ecrops.ApplyOptions{}, step(model.StepAddRegistryPolicyStatement, "ecr:PutRegistryPolicy", "registry policy",
		map[string]string{"statement": first}, nil))
	if again := scan(t, acc).RegistryPolicy; strings.Count(again, "eks-node") != 1 {
		t.Fatalf("a statement was added twice: %s", again)
	}
	undoPlan(t, acc, secondPlan) // back to the first statement alone
	if p := scan(t, acc).RegistryPolicy; !strings.Contains(p, "eks-node") || strings.Contains(p, "ci-builder") {
		t.Fatalf("after undoing the second statement: %s", p)
	}
}

func TestRepositoryTagSecretAndWarmSteps(t *testing.T) {
	s := start(t, "demo")
	acc := s.acc
	// An empty repository is deleted; one with images is refused, with nothing written.
	apply(t, acc, ecrops.ApplyOptions{}, step(model.StepDeleteEmptyRepository, "ecr:DeleteRepository", "docker-hub/nginx", nil, map[string]string{"images": "0"}))
	if scan(t, acc).Repository("docker-hub/nginx") != nil {
		t.Fatal("the empty repository is still there")
	}
	writes := s.writes()
	_, err := acc.Apply(ctx(t), model.Plan{Steps: []model.Step{step(model.StepDeleteEmptyRepository, "ecr:DeleteRepository", "kubernetes/pause", nil, nil)}}, ecrops.ApplyOptions{})
	var pe *ecrops.PreconditionError
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), "only empty repositories") || s.writes() != writes {
		t.Fatalf("a repository with images: %v", err)
	}

	before := scan(t, acc).Repository("docker-hub/library/alpine")
	digest := ""
	for _, img := range before.Images {
		if len(img.Tags) > 0 && img.Tags[0] == "latest" {
			digest = img.Digest.String()
		}
	}
	apply(t, acc, ecrops.ApplyOptions{}, step(model.StepDeleteCachedTag, "ecr:BatchDeleteImage", "docker-hub/library/alpine:latest",
		map[string]string{"repositoryName": "docker-hub/library/alpine", "imageTag": "latest"}, map[string]string{"digest": digest}))
	if p := acc.ProbeCache(ctx(t), "docker-hub/library/alpine", "latest"); p.Cached {
		t.Fatal("the tag is still cached")
	}

	// Warming pulls through, every platform.
	apply(t, acc, ecrops.ApplyOptions{}, step(model.StepWarmReference, "registry:GetManifest", "docker-hub/library/alpine:latest",
		map[string]string{"repositoryName": "docker-hub/library/alpine", "imageTag": "latest"}, nil))
	if p := acc.ProbeCache(ctx(t), "docker-hub/library/alpine", "latest"); !p.Cached || p.Digest == digest {
		t.Fatalf("after warming: %+v (old digest %s)", p, digest)
	}

	// A new secret value: given at apply time, tried against the upstream, never journaled.
	const token = "dckr_pat_ptcdemo_valid_token"
	value := `{"username":"ptcdemo","accessToken":"` + token + `"}`
	sec := model.Step{Kind: model.StepPutSecretValue, Operation: "secretsmanager:PutSecretValue", Target: "ecr-pullthroughcache/docker-hub",
		Params: map[string]string{"secretId": "ecr-pullthroughcache/docker-hub"}, NeedsSecretValue: true}
	if _, err := acc.Apply(ctx(t), model.Plan{Steps: []model.Step{sec}}, ecrops.ApplyOptions{}); err == nil {
		t.Fatal("a secret step ran without a value")
	}
	apply(t, acc, ecrops.ApplyOptions{SecretValues: map[string]string{"ecr-pullthroughcache/docker-hub": value}}, sec)
	raw, err := os.ReadFile(acc.Journal().Path())
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), token) {
		t.Fatal("the journal holds a secret value")
	}
	u, err := acc.UndoPlan(ctx(t), lastPlan(t, acc), ecrops.UndoOptions{})
	if !errors.Is(err, ecrops.ErrNothingToUndo) || len(u.Skipped) != 1 || len(u.Plan.Steps) != 0 {
		t.Fatalf("a secret write has no inverse: %v %v", err, u.Skipped)
	}
}

func TestReadOnlyRefusesEveryWriteBeforeAnyTraffic(t *testing.T) {
	s := start(t, "demo")
	cfg := s.cfg
	cfg.ReadOnly = true
	acc := s.open(cfg)
	before := len(s.srv.Events(0))
	for kind := range ecrops.StepKinds() {
		_, err := acc.Apply(ctx(t), model.Plan{Steps: []model.Step{{Kind: kind, Operation: string(kind), Target: "docker-hub"}}}, ecrops.ApplyOptions{})
		if !errors.Is(err, ecrops.ErrReadOnly) {
			t.Fatalf("%s: %v", kind, err)
		}
	}
	if after := len(s.srv.Events(0)); after != before {
		t.Fatalf("read-only mode sent %d calls", after-before)
	}
	if _, err := os.Stat(acc.Journal().Path()); err == nil {
		t.Fatal("read-only mode wrote a journal")
	}
}

func TestAPlanWhosePreconditionsChangedWritesNothing(t *testing.T) {
	s := start(t, "demo")
	plan := model.Plan{Steps: []model.Step{
		step(model.StepPutLifecyclePolicy, "ecr:PutLifecyclePolicy", "quay/prometheus/node-exporter",
			map[string]string{"lifecyclePolicyText": lifecycle}, map[string]string{"lifecyclePolicy": ""}),
		step(model.StepCreateRule, "ecr:CreatePullThroughCacheRule", "quay-2",
			map[string]string{"upstreamRegistryUrl": "quay.io"}, map[string]string{"exists": "false"}),
	}}
	// Someone creates the rule between the plan and its application.
	apply(t, s.acc, ecrops.ApplyOptions{}, plan.Steps[1])
	writes := s.writes()
	_, err := s.acc.Apply(ctx(t), plan, ecrops.ApplyOptions{})
	var pe *ecrops.PreconditionError
	if !errors.As(err, &pe) || pe.Key != "exists" || !strings.Contains(err.Error(), "nothing was written") {
		t.Fatalf("got %v", err)
	}
	if s.writes() != writes {
		t.Fatal("the first step was written though the second's precondition had changed")
	}
	// Applying a finished plan again changes nothing either.
	_, err = s.acc.Apply(ctx(t), model.Plan{Steps: plan.Steps[1:]}, ecrops.ApplyOptions{})
	if !errors.As(err, &pe) || s.writes() != writes {
		t.Fatalf("a second application: %v", err)
	}
}

func TestJournalRecordsIntentOutcomeAndUnfinishedSteps(t *testing.T) {
	s := start(t, "demo")
	apply(t, s.acc, ecrops.ApplyOptions{}, step(model.StepPutLifecyclePolicy, "ecr:PutLifecyclePolicy", "quay/prometheus/node-exporter",
		map[string]string{"lifecyclePolicyText": lifecycle}, nil))
	entries, err := s.acc.Journal().Entries()
	if err != nil || len(entries) != 2 {
		t.Fatalf("%d entries: %v", len(entries), err)
	}
	intent, done := entries[0], entries[1]
	if intent.Phase != "intent" || intent.Before == nil || done.Phase != "done" || done.RequestID == "" || done.Inverse == nil {
		t.Fatalf("intent %+v\ndone %+v", intent, done)
	}
	info, _ := os.Stat(s.acc.Journal().Path())
	if info.Mode().Perm() != 0o600 {
		t.Fatalf("journal mode %v", info.Mode().Perm())
	}
	// A process killed between the intent and the outcome leaves an unfinished step.
	if err := s.acc.Journal().Append(ecrops.JournalEntry{Plan: "p-killed", Step: 0, Phase: "intent", Kind: model.StepDeleteRule, Target: "quay"}); err != nil {
		t.Fatal(err)
	}
	un, err := s.acc.Journal().Unfinished()
	if err != nil || len(un) != 1 || un[0].Plan != "p-killed" {
		t.Fatalf("unfinished: %+v %v", un, err)
	}
	// A failed write is journaled as failed and stops the plan.
	_, err = s.acc.Apply(ctx(t), model.Plan{Steps: []model.Step{
		step(model.StepPutLifecyclePolicy, "ecr:PutLifecyclePolicy", "quay/prometheus/node-exporter", map[string]string{"lifecyclePolicyText": `{"rules":[]}` + strings.Repeat(" ", 100)}, nil),
		step(model.StepDeleteRule, "ecr:DeletePullThroughCacheRule", "quay", nil, nil),
	}}, ecrops.ApplyOptions{})
	if err == nil {
		t.Fatal("an invalid policy was accepted")
	}
	entries, _ = s.acc.Journal().Entries()
	last := entries[len(entries)-1]
	if last.Phase != "failed" || !strings.Contains(last.Error, "InvalidParameterException") {
		t.Fatalf("last entry: %+v", last)
	}
	if scan(t, s.acc).Rule("quay") == nil {
		t.Fatal("the plan went on after a failed step")
	}
}
