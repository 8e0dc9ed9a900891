package ecrops_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/ptcdoctor/ptcdoctor/ecrops"
	"github.com/ptcdoctor/ptcdoctor/ecrops/sim/simtest"
	"github.com/ptcdoctor/ptcdoctor/model"
)

func statementFor(sid, role string) string {
	return fmt.Sprintf(`{"Sid":%q,"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/%s"},"Action":["ecr:BatchImportUpstreamImage"],"Resource":"*"}`, sid, role)
}

func addStatementStep(statement string) model.Step {
	return step(model.StepAddRegistryPolicyStatement, "ecr:PutRegistryPolicy", "registry policy", map[string]string{"statement": statement}, nil)
}

// elsewhere opens the same account as another machine would: its own journal.
func (s *standIn) elsewhere() *ecrops.Account {
	cfg := s.cfg
	cfg.StateDir = s.t.TempDir()
	return s.open(cfg)
}

// A statement merged into the registry policy is merged again when the policy moved
// between the read and the put: another team's statement written meanwhile stays.
func TestAStatementMergeRetriesWhenThePolicyMovedMeanwhile(t *testing.T) {
	s := start(t, "demo")
	other := s.elsewhere()
	ecrops.SetTestHookPolicyRead(func() {
		ecrops.SetTestHookPolicyRead(nil) // once
		apply(t, other, ecrops.ApplyOptions{}, addStatementStep(statementFor("OtherTeam", "other-team")))
	})
	t.Cleanup(func() { ecrops.SetTestHookPolicyRead(nil) })
	apply(t, s.acc, ecrops.ApplyOptions{}, addStatementStep(statementFor("Ours", "eks-node")))
	policy := scan(t, s.acc).RegistryPolicy
	if !strings.Contains(policy, "other-team") || !strings.Contains(policy, "eks-node") {
		t.Fatalf("a statement was lost: %s", policy)
	}
}

// Another machine's put that lands after a step's own check, dropping the statement an
// earlier step of the plan added, is caught at the end of the plan and merged again.
func TestAPlanKeepsEveryStatementItAdded(t *testing.T) {
	s := start(t, "demo")
	other := s.elsewhere()
	first, second := statementFor("First", "first-role"), statementFor("Second", "second-role")
	var once sync.Once
	ecrops.SetTestHookWritten(func(st model.Step) {
		if st.Param("statement") == second {
			once.Do(func() {
				remove := step(model.StepRemoveRegistryPolicyStatement, "ecr:PutRegistryPolicy", "registry policy", map[string]string{"statement": first}, nil)
				apply(t, other, ecrops.ApplyOptions{}, remove)
			})
		}
	})
	t.Cleanup(func() { ecrops.SetTestHookWritten(nil) })
	apply(t, s.acc, ecrops.ApplyOptions{}, addStatementStep(first), addStatementStep(second))
	policy := scan(t, s.acc).RegistryPolicy
	if !strings.Contains(policy, "first-role") || !strings.Contains(policy, "second-role") {
		t.Fatalf("a statement the plan added was lost: %s", policy)
	}
}

// Two fix runs at once on one machine, each merging statements, lose none of them.
func TestTwoConcurrentRunsKeepEachOthersStatements(t *testing.T) {
	s := start(t, "demo")
	runs := []*ecrops.Account{s.acc, s.open(s.cfg)} // two processes, one journal
	const each = 4
	var wg sync.WaitGroup
	errs := make(chan error, len(runs)*each)
	for r, acc := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				role := fmt.Sprintf("run%d-role%d", r, i)
				if _, err := acc.Apply(ctx(t), model.Plan{Title: role, Steps: []model.Step{addStatementStep(statementFor("Grant", role))}}, ecrops.ApplyOptions{}); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	policy := scan(t, s.acc).RegistryPolicy
	for r := range runs {
		for i := range each {
			if role := fmt.Sprintf("run%d-role%d", r, i); !strings.Contains(policy, role+`"`) {
				t.Errorf("%s's statement was lost", role)
			}
		}
	}
}

// An undo step refuses when its target is no longer as the plan left it, and says what
// changed; forced, the undo of a statement takes out that statement alone.
func TestUndoRefusesOverChangesMadeSince(t *testing.T) {
	s := start(t, "demo")
	other := s.elsewhere()
	apply(t, s.acc, ecrops.ApplyOptions{}, addStatementStep(statementFor("Ours", "eks-node")))
	ours := lastPlan(t, s.acc)
	apply(t, other, ecrops.ApplyOptions{}, addStatementStep(statementFor("OtherTeam", "other-team")))

	u, err := s.acc.UndoPlan(ctx(t), ours, ecrops.UndoOptions{})
	if err != nil {
		t.Fatal(err)
	}
	diff := s.acc.Check(ctx(t), u.Plan)
	if len(diff) != 1 || diff[0] == nil || !strings.Contains(diff[0].Error(), "+ ") || !strings.Contains(diff[0].Error(), "other-team") {
		t.Fatalf("the difference shown: %v", diff)
	}
	writes := s.writes()
	_, err = s.acc.Apply(ctx(t), u.Plan, ecrops.ApplyOptions{})
	var pe *ecrops.PreconditionError
	if !errors.As(err, &pe) || s.writes() != writes {
		t.Fatalf("an undo over another team's statement: %v", err)
	}
	if _, err := s.acc.Apply(ctx(t), u.Plan, ecrops.ApplyOptions{Force: true}); err != nil {
		t.Fatal(err)
	}
	if p := scan(t, s.acc).RegistryPolicy; strings.Contains(p, "eks-node") || !strings.Contains(p, "other-team") {
		t.Fatalf("forced, the undo took out more or less than its statement: %s", p)
	}

	// A template changed by someone else since the fix: its tags are not put back over it.
	apply(t, s.acc, ecrops.ApplyOptions{}, step(model.StepUpdateTemplate, "ecr:UpdateRepositoryCreationTemplate", "kubernetes",
		map[string]string{"resourceTags": ""}, map[string]string{"exists": "true"}))
	fixed := lastPlan(t, s.acc)
	apply(t, other, ecrops.ApplyOptions{}, step(model.StepUpdateTemplate, "ecr:UpdateRepositoryCreationTemplate", "kubernetes",
		map[string]string{"description": "owned by the platform team now"}, nil))
	u, err = s.acc.UndoPlan(ctx(t), fixed, ecrops.UndoOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.acc.Apply(ctx(t), u.Plan, ecrops.ApplyOptions{})
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), "description") {
		t.Fatalf("an undo over a changed template: %v", err)
	}
	for _, tp := range scan(t, s.acc).Templates {
		if tp.Prefix == "kubernetes" && len(tp.ResourceTags) > 0 {
			t.Fatalf("the tags were put back: %+v", tp)
		}
	}
}

// The child half of the kill test: it applies a plan and stops, for good, right after
// the call took effect and before its outcome is journaled; the parent kills it there.
func TestKilledDuringAStepHelper(t *testing.T) {
	if os.Getenv("PTCDOCTOR_KILL_HELPER") == "" {
		t.Skip("run by TestAPlanKilledMidStepCanBeUndone")
	}
	acc, err := ecrops.Open(context.Background(), ecrops.Config{Region: "us-east-1", EndpointURL: os.Getenv("PTCDOCTOR_KILL_ENDPOINT"),
		StateDir: os.Getenv("PTCDOCTOR_KILL_STATE"), Retryer: ecrops.NoBackoff(3),
		Credentials: credentials.NewStaticCredentialsProvider(os.Getenv("PTCDOCTOR_KILL_KEY"), os.Getenv("PTCDOCTOR_KILL_SECRET"), "")})
	if err != nil {
		t.Fatal(err)
	}
	ecrops.SetTestHookWritten(func(model.Step) {
		fmt.Println("written")
		select {} // blocks until killed
	})
	acc.Apply(ctx(t), model.Plan{Title: "Lifecycle for node-exporter", Steps: []model.Step{
		step(model.StepPutLifecyclePolicy, "ecr:PutLifecyclePolicy", "quay/prometheus/node-exporter",
			map[string]string{"lifecyclePolicyText": lifecycle}, map[string]string{"lifecyclePolicy": ""})}}, ecrops.ApplyOptions{})
	t.Fatal("the hook did not stop the plan")
}

// A plan killed (SIGKILL) after its call took effect and before its outcome was
// journaled can be undone: undo reads the account, sees the call took effect, and
// restores the before-image journaled with the intent; the warning then ends.
func TestAPlanKilledMidStepCanBeUndone(t *testing.T) {
	s := start(t, "demo")
	repo := "quay/prometheus/node-exporter"
	child := exec.Command(os.Args[0], "-test.run=^TestKilledDuringAStepHelper$", "-test.count=1")
	info := s.srv.Info()
	child.Env = append(os.Environ(), "PTCDOCTOR_KILL_HELPER=1", "PTCDOCTOR_KILL_ENDPOINT="+info.Endpoint,
		"PTCDOCTOR_KILL_STATE="+s.cfg.StateDir, "PTCDOCTOR_KILL_KEY="+info.AccessKeyID, "PTCDOCTOR_KILL_SECRET="+info.SecretAccessKey)
	var stderr bytes.Buffer
	child.Stderr = &stderr
	stdout, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(stdout)
	var said []string
	for lines.Scan() && lines.Text() != "written" {
		said = append(said, lines.Text())
	}
	child.Process.Kill() // SIGKILL: no deferred code, no journal line after this
	child.Wait()
	if scan(t, s.acc).Repository(repo).LifecyclePolicy != lifecycle {
		t.Fatalf("the child did not write before it was killed:\n%s\n%s", strings.Join(said, "\n"), stderr.String())
	}
	un, _ := s.acc.Journal().Unfinished()
	if len(un) != 1 {
		t.Fatalf("unfinished: %+v", un)
	}
	u, err := s.acc.UndoPlan(ctx(t), un[0].Plan, ecrops.UndoOptions{})
	if err != nil || len(u.Unknown) != 1 || len(u.Plan.Steps) != 1 || u.Plan.Steps[0].Kind != model.StepDeleteLifecyclePolicy {
		t.Fatalf("undo of the killed plan: %+v %v", u, err)
	}
	if _, err := s.acc.Apply(ctx(t), u.Plan, ecrops.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	if p := scan(t, s.acc).Repository(repo); p.LifecyclePolicy != "" {
		t.Fatalf("the lifecycle policy is still there: %s", p.LifecyclePolicy)
	}
	if un, _ := s.acc.Journal().Unfinished(); len(un) != 0 {
		t.Fatalf("still warned about after its undo: %+v", un)
	}
}

// A plan killed before its call took effect: undo finds nothing to undo, and the plan
// is no longer warned about once that undo ran, or once a person acknowledged it.
func TestAPlanKilledBeforeItsCallIsSeenTo(t *testing.T) {
	s := start(t, "demo")
	j := s.acc.Journal()
	intent := func(plan string) {
		if err := j.Append(ecrops.JournalEntry{Plan: plan, Step: 0, Phase: "intent", Kind: model.StepDeleteRule, Operation: "ecr:DeletePullThroughCacheRule",
			Target: "quay", Account: "111122223333", Region: "us-east-1", Before: map[string]string{"exists": "true", "upstreamRegistryUrl": "quay.io", "upstreamRegistry": "quay",
				"credentialArn": "", "customRoleArn": "", "upstreamRepositoryPrefix": ""}}); err != nil {
			t.Fatal(err)
		}
	}
	intent("killed-early")
	intent("killed-again")
	u, err := s.acc.UndoPlan(ctx(t), "killed-early", ecrops.UndoOptions{})
	if err != nil || len(u.NoEffect) != 1 || len(u.Plan.Steps) != 0 {
		t.Fatalf("%+v %v", u, err)
	}
	if _, err := s.acc.Apply(ctx(t), u.Plan, ecrops.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := j.Ack("killed-again", "acknowledged"); err != nil {
		t.Fatal(err)
	}
	if un, _ := j.Unfinished(); len(un) != 0 {
		t.Fatalf("still unfinished: %+v", un)
	}
	if err := j.Ack("killed-again", "twice"); !errors.Is(err, ecrops.ErrNotUnfinished) {
		t.Fatalf("a second ack: %v", err)
	}
	if scan(t, s.acc).Rule("quay") == nil {
		t.Fatal("the rule is gone")
	}
}

// Credentials are tried against their upstream, with their user name, before they are
// stored; a refused token, or one that cannot be tried, writes nothing. A token goes
// into one secret only.
func TestCredentialsAreTriedBeforeTheyAreStored(t *testing.T) {
	s := start(t, "demo")
	put := func(secret string) model.Step {
		return model.Step{Kind: model.StepPutSecretValue, Operation: "secretsmanager:PutSecretValue", Target: secret,
			Params: map[string]string{"secretId": secret}, NeedsSecretValue: true}
	}
	value := func(user, token string) string {
		return `{"username":"` + user + `","accessToken":"` + token + `"}`
	}
	hub, gh := "ecr-pullthroughcache/docker-hub", "ecr-pullthroughcache/github"
	writes := s.writes()
	refused := []struct {
		name   string
		plan   model.Plan
		values map[string]string
		want   string
	}{
		{"a token Docker Hub refuses", model.Plan{Steps: []model.Step{put(hub)}}, map[string]string{hub: value("ptcdemo", "wrong-token")}, "registry-1.docker.io refused"},
		{"the right token, the wrong user", model.Plan{Steps: []model.Step{put(hub)}}, map[string]string{hub: value("someone", "dckr_pat_ptcdemo_valid_token")}, "refused"},
		{"an expired GitHub token", model.Plan{Steps: []model.Step{put(gh)}}, map[string]string{gh: value("ptcdemo-gh", "ghp_ptcdemo_expired_token")}, "ghcr.io refused"},
		{"a secret no rule uses", model.Plan{Steps: []model.Step{{Kind: model.StepCreateSecret, Operation: "secretsmanager:CreateSecret",
			Target: "ecr-pullthroughcache/spare", Params: map[string]string{"name": "ecr-pullthroughcache/spare"}, NeedsSecretValue: true,
			Expect: map[string]string{"exists": "false"}}}}, map[string]string{"ecr-pullthroughcache/spare": value("ptcdemo", "dckr_pat_ptcdemo_valid_token")}, "no upstream to try"},
		{"one token for two secrets", model.Plan{Steps: []model.Step{put(hub), put(gh)}},
			map[string]string{hub: value("ptcdemo", "dckr_pat_ptcdemo_valid_token"), gh: value("ptcdemo", "dckr_pat_ptcdemo_valid_token")}, "one token was given for two secrets"},
	}
	for _, c := range refused {
		_, err := s.acc.Apply(ctx(t), c.plan, ecrops.ApplyOptions{SecretValues: c.values})
		var ce *ecrops.CredentialsError
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "nothing was written") {
			t.Errorf("%s: %v", c.name, err)
		}
		if strings.Contains(fmt.Sprint(err), "wrong-token") || strings.Contains(fmt.Sprint(err), "dckr_pat") {
			t.Errorf("%s: the error holds the token: %v", c.name, err)
		}
	}
	if s.writes() != writes {
		t.Fatal("refused credentials were written")
	}
	// A new secret for a rule the same plan creates is tried against that rule's upstream.
	create := model.Plan{Steps: []model.Step{
		{Kind: model.StepCreateSecret, Operation: "secretsmanager:CreateSecret", Target: "ecr-pullthroughcache/hub2",
			Params: map[string]string{"name": "ecr-pullthroughcache/hub2"}, NeedsSecretValue: true, Expect: map[string]string{"exists": "false"}},
		step(model.StepCreateRule, "ecr:CreatePullThroughCacheRule", "hub2", map[string]string{"upstreamRegistryUrl": "registry-1.docker.io",
			"upstreamRegistry": "docker-hub", "credentialSecretName": "ecr-pullthroughcache/hub2"}, map[string]string{"exists": "false"}),
	}}
	apply(t, s.acc, ecrops.ApplyOptions{SecretValues: map[string]string{"ecr-pullthroughcache/hub2": value("ptcdemo", "dckr_pat_ptcdemo_valid_token")}}, create.Steps...)
	if r := scan(t, s.acc).Rule("hub2"); r == nil || r.CredentialArn == "" {
		t.Fatalf("the rule with tried credentials: %+v", r)
	}
}

// A write whose resulting state could not be read leaves an undo that refuses (the state
// it left was never seen, so a later change could not be told from it) until forced.
func TestAnUndoRefusesWhenTheStateAWriteLeftWasNotRead(t *testing.T) {
	s := start(t, "demo")
	repo := "quay/prometheus/node-exporter"
	ecrops.SetTestHookWritten(func(model.Step) {
		simtest.Admin(t, s.srv, "PUT", "faults", `[{"operation":"GetLifecyclePolicy","errorRate":1}]`, nil)
	})
	t.Cleanup(func() { ecrops.SetTestHookWritten(nil) })
	res, err := s.acc.Apply(ctx(t), model.Plan{Title: "Lifecycle", Steps: []model.Step{
		step(model.StepPutLifecyclePolicy, "ecr:PutLifecyclePolicy", repo,
			map[string]string{"lifecyclePolicyText": lifecycle}, map[string]string{"lifecyclePolicy": ""})}}, ecrops.ApplyOptions{})
	if err != nil || res[0].Status != "done" {
		t.Fatalf("apply: %v %+v", err, res)
	}
	ecrops.SetTestHookWritten(nil)
	simtest.Admin(t, s.srv, "PUT", "faults", `[]`, nil)
	entries, _ := s.acc.Journal().Entries()
	last := entries[len(entries)-1]
	if !strings.Contains(last.Note, "could not be read") {
		t.Fatalf("journal: %+v", last)
	}
	u, err := s.acc.UndoPlan(ctx(t), last.Plan, ecrops.UndoOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var pe *ecrops.PreconditionError
	if _, err := s.acc.Apply(ctx(t), u.Plan, ecrops.ApplyOptions{}); !errors.As(err, &pe) {
		t.Fatalf("the undo ran over a state never seen: %v", err)
	}
	if _, err := s.acc.Apply(ctx(t), u.Plan, ecrops.ApplyOptions{Force: true}); err != nil {
		t.Fatalf("forced: %v", err)
	}
}

// A plan stopped (ApplyOptions.Stop) while a step runs finishes that step, starts no
// other, and the journal says where it stopped; what was done stays undoable.
func TestAStoppedPlanStopsBetweenSteps(t *testing.T) {
	s := start(t, "demo")
	stop, cancel := context.WithCancel(context.Background())
	defer cancel()
	repos := []string{"quay/prometheus/node-exporter", "docker-hub/library/nginx"}
	var steps []model.Step
	for _, r := range repos {
		steps = append(steps, step(model.StepPutLifecyclePolicy, "ecr:PutLifecyclePolicy", r,
			map[string]string{"lifecyclePolicyText": lifecycle}, nil))
	}
	writes := s.writes()
	res, err := s.acc.Apply(ctx(t), model.Plan{Title: "Two lifecycles", Steps: steps}, ecrops.ApplyOptions{Stop: stop,
		Progress: func(r ecrops.StepResult) {
			if r.Status == "running" {
				cancel() // asked during the first step's call
			}
		}})
	if !errors.Is(err, ecrops.ErrStopped) || res[0].Status != "done" || res[1].Status != "not-run" || s.writes() != writes+1 {
		t.Fatalf("err %v, results %+v, %d writes", err, res, s.writes()-writes)
	}
	entries, _ := s.acc.Journal().Entries()
	last := entries[len(entries)-1]
	if last.Phase != "stopped" || last.Step != 1 || last.Target != repos[1] || !ecrops.UndoablePlans(entries)[last.Plan] {
		t.Fatalf("the journal's last entry: %+v", last)
	}
}

// A stale tag's deletion deletes the image the finding was about, or nothing: a tag that
// ECR re-imported between the step's check and its call (a pull after the 24-hour check)
// is refused, and the new image stays.
func TestDeletingAStaleTagThatMovedMeanwhileIsRefused(t *testing.T) {
	s := start(t, "demo")
	const repo, tag = "docker-hub/library/alpine", "latest"
	stale := s.acc.ProbeCache(ctx(t), repo, tag)
	if !stale.Cached {
		t.Fatalf("the demo caches %s:%s: %+v", repo, tag, stale)
	}
	var moved string
	ecrops.SetTestHookBeforeWrite(func(st model.Step) {
		ecrops.SetTestHookBeforeWrite(nil) // once
		// The demo's upstream moved latest since the cache took it: a pull once the
		// 24-hour check is due re-imports it.
		simtest.Admin(t, s.srv, http.MethodPost, "clock", `{"advance": "25h"}`, nil)
		if _, err := s.acc.Warm(ctx(t), repo, tag); err != nil {
			t.Errorf("warm: %v", err)
		}
		moved = s.acc.ProbeCache(ctx(t), repo, tag).Digest
	})
	t.Cleanup(func() { ecrops.SetTestHookBeforeWrite(nil) })
	del := step(model.StepDeleteCachedTag, "ecr:BatchDeleteImage", repo+":"+tag,
		map[string]string{"repositoryName": repo, "imageTag": tag}, map[string]string{"digest": stale.Digest})
	_, err := s.acc.Apply(ctx(t), model.Plan{Title: "refresh", Steps: []model.Step{del}}, ecrops.ApplyOptions{})
	if moved == "" || moved == stale.Digest {
		t.Fatalf("the test did not move the tag (%s → %s)", stale.Digest, moved)
	}
	var pe *ecrops.PreconditionError
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), "the image the finding was about") {
		t.Fatalf("a tag that moved was deleted, or refused without saying why: %v", err)
	}
	if now := s.acc.ProbeCache(ctx(t), repo, tag); !now.Cached || now.Digest != moved {
		t.Fatalf("the new image is gone: %+v (re-imported %s)", now, moved)
	}
	// Forcing past the difference does not delete it either: force lets a person act
	// on a state they read, not on an image the finding was not about.
	if _, err := s.acc.Apply(ctx(t), model.Plan{Title: "refresh", Steps: []model.Step{del}}, ecrops.ApplyOptions{Force: true}); !errors.As(err, &pe) {
		t.Fatalf("forced: %v", err)
	}
	if now := s.acc.ProbeCache(ctx(t), repo, tag); now.Digest != moved {
		t.Fatalf("forced: the new image is gone: %+v", now)
	}
}
