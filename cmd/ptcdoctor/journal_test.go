package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/ptcdoctor/ptcdoctor/ecrops"
	"github.com/ptcdoctor/ptcdoctor/ecrops/sim"
	"github.com/ptcdoctor/ptcdoctor/ecrops/sim/simtest"
	"github.com/ptcdoctor/ptcdoctor/model"
)

// standIn starts the stand-in in the test and returns the environment that points the
// ptcdoctor binary at it, as a person would point the aws CLI.
func standIn(t *testing.T, scenario string) (*sim.Server, []string) {
	t.Helper()
	return standInServer(t, simtest.Start(t, scenario))
}

// standInServer is standIn for a stand-in started already (a scenario built in the test).
func standInServer(t *testing.T, srv *sim.Server) (*sim.Server, []string) {
	t.Helper()
	info := srv.Info()
	var resolve []string
	for h, u := range info.Resolve {
		resolve = append(resolve, h+"="+u)
	}
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "XDG_STATE_HOME=" + t.TempDir(),
		"AWS_ENDPOINT_URL=" + info.Endpoint, "AWS_REGION=" + info.Region, "AWS_ACCESS_KEY_ID=" + info.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY=" + info.SecretAccessKey, "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null",
		"PTCDOCTOR_RESOLVE=" + strings.Join(resolve, ","), "NO_COLOR=1"}
	return srv, env
}

// accountOf opens the stand-in's account with the journal the binary under env uses.
func accountOf(t *testing.T, srv *sim.Server, env []string) *ecrops.Account {
	t.Helper()
	info := srv.Info()
	acc, err := ecrops.Open(context.Background(), ecrops.Config{Region: info.Region, EndpointURL: info.Endpoint,
		StateDir:    filepath.Join(envValue(env, "XDG_STATE_HOME"), "ptcdoctor"),
		Credentials: credentials.NewStaticCredentialsProvider(info.AccessKeyID, info.SecretAccessKey, "")})
	if err != nil {
		t.Fatal(err)
	}
	return acc
}

func runCLI(t *testing.T, env []string, args ...string) (string, int) {
	t.Helper()
	return runWithStdin(t, env, "", args...)
}

func envValue(env []string, key string) string {
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, key+"="); ok {
			return v
		}
	}
	return ""
}

func TestJournalAndUndo(t *testing.T) {
	srv, env := standIn(t, "demo")
	acc := accountOf(t, srv, env)
	lifecycle := `{"rules":[{"rulePriority":1,"selection":{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":1},"action":{"type":"expire"}}]}`
	_, err := acc.Apply(context.Background(), model.Plan{Title: "Expire old images", Steps: []model.Step{{Kind: model.StepPutLifecyclePolicy,
		Operation: "ecr:PutLifecyclePolicy", Target: "quay/prometheus/node-exporter", Params: map[string]string{"lifecyclePolicyText": lifecycle},
		Summary: "Put a lifecycle policy"}}}, ecrops.ApplyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	entries, _ := acc.Journal().Entries()
	plan := entries[0].Plan

	out, code := runCLI(t, env, "journal")
	if code != 0 || !strings.Contains(out, plan) || !strings.Contains(out, "ecr:PutLifecyclePolicy") || !strings.Contains(out, "yes") {
		t.Fatalf("journal (exit %d):\n%s", code, out)
	}
	out, code = runCLI(t, env, "undo", plan, "--dry-run")
	if code != 0 || !strings.Contains(out, "ecr:DeleteLifecyclePolicy") {
		t.Fatalf("undo --dry-run (exit %d):\n%s", code, out)
	}
	out, code = runCLI(t, env, "undo", plan, "--yes", "--destructive", "--read-only")
	if code != exitFindings || !strings.Contains(out, "read-only") {
		t.Fatalf("undo in read-only mode (exit %d):\n%s", code, out)
	}
	// Removing the policy deletes something: not without --destructive.
	out, code = runCLI(t, env, "undo", plan, "--yes")
	if code != exitFindings || !strings.Contains(out, "--destructive") || strings.Contains(out, "step 1 done") {
		t.Fatalf("undo --yes of a delete step (exit %d):\n%s", code, out)
	}
	out, code = runCLI(t, env, "undo", plan, "--yes", "--destructive")
	if code != 0 || !strings.Contains(out, "step 1 done") {
		t.Fatalf("undo --yes --destructive (exit %d):\n%s", code, out)
	}
	if p := acc.ProbeCache(context.Background(), "quay/prometheus/node-exporter", "v1.8.0"); !p.Cached {
		t.Fatal("the undo touched the images")
	}
	// Undone, the plan is neither undone twice nor offered for undo again.
	out, code = runCLI(t, env, "undo", plan, "--yes", "--destructive")
	if code != exitUsage || !strings.Contains(out, "undone already") || strings.Contains(out, "step 1") {
		t.Fatalf("a second undo (exit %d):\n%s", code, out)
	}
	if out, _ = runCLI(t, env, "journal"); !strings.Contains(out, "undone") {
		t.Fatalf("the journal does not say the plan was undone:\n%s", out)
	}
	if out, _ = runCLI(t, env, "__complete", "undo", ""); strings.Contains(out, plan) {
		t.Fatalf("an undone plan is offered for undo:\n%s", out)
	}
	out, code = runCLI(t, env, "undo", "no-such-plan", "--yes")
	if code != exitUsage || !strings.Contains(out, "no finished step") {
		t.Fatalf("unknown plan (exit %d):\n%s", code, out)
	}
	out, code = runCLI(t, env, "undo", plan)
	if code != exitUsage {
		t.Fatalf("undo without --yes or --dry-run (exit %d):\n%s", code, out)
	}

	// An unfinished plan is called out.
	acc.Journal().Append(ecrops.JournalEntry{Plan: "killed-plan", Step: 0, Phase: "intent", Operation: "ecr:DeletePullThroughCacheRule", Target: "quay"})
	out, _ = runCLI(t, env, "journal")
	if !strings.Contains(out, "UNFINISHED") || !strings.Contains(out, "did not finish: killed-plan") {
		t.Fatalf("journal with an unfinished plan:\n%s", out)
	}
}

func TestAnUnfinishedPlanIsReportedAtStart(t *testing.T) {
	srv, env := standIn(t, "demo")
	acc := accountOf(t, srv, env)
	// A process killed between the intent and the outcome of a step.
	acc.Journal().Append(ecrops.JournalEntry{Plan: "killed-plan", Step: 1, Phase: "intent", Operation: "ecr:PutLifecyclePolicy", Target: "quay/prometheus/node-exporter"})
	out, _ := runCLI(t, append(env, "XDG_CONFIG_HOME="+t.TempDir()), "doctor")
	if !strings.Contains(out, "a plan did not finish: killed-plan (stopped at step 2, ecr:PutLifecyclePolicy quay/prometheus/node-exporter)") ||
		!strings.Contains(out, "ptcdoctor undo PLAN --dry-run") || !strings.Contains(out, "journal --ack PLAN") {
		t.Fatalf("doctor at start:\n%s", out)
	}
	// Acknowledged, it is warned about no more.
	if out, code := runCLI(t, env, "journal", "--ack", "killed-plan"); code != 0 || !strings.Contains(out, "acknowledged") {
		t.Fatalf("journal --ack (exit %d):\n%s", code, out)
	}
	if out, _ := runCLI(t, append(env, "XDG_CONFIG_HOME="+t.TempDir()), "doctor"); strings.Contains(out, "did not finish") {
		t.Fatalf("still warned about after --ack:\n%s", out)
	}
	if out, code := runCLI(t, env, "journal", "--ack", "killed-plan"); code != exitUsage || !strings.Contains(out, "no unfinished step") {
		t.Fatalf("a second --ack (exit %d):\n%s", code, out)
	}
}

// undo shows what changed since the plan ran and refuses; --force overrides it.
func TestUndoRefusesOverLaterChanges(t *testing.T) {
	srv, env := standIn(t, "demo")
	acc := accountOf(t, srv, env)
	stmt := func(role string) model.Step {
		return model.Step{Kind: model.StepAddRegistryPolicyStatement, Operation: "ecr:PutRegistryPolicy", Target: "registry policy",
			Params: map[string]string{"statement": `{"Sid":"` + role + `","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/` + role +
				`"},"Action":["ecr:BatchImportUpstreamImage"],"Resource":"*"}`}}
	}
	if _, err := acc.Apply(context.Background(), model.Plan{Title: "Grant eks-node", Steps: []model.Step{stmt("eksnode")}}, ecrops.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	entries, _ := acc.Journal().Entries()
	plan := entries[0].Plan
	// Another team's statement, from another machine.
	other, err := ecrops.Open(context.Background(), ecrops.Config{Region: srv.Info().Region, EndpointURL: srv.Info().Endpoint, StateDir: t.TempDir(),
		Credentials: credentials.NewStaticCredentialsProvider(srv.Info().AccessKeyID, srv.Info().SecretAccessKey, "")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Apply(context.Background(), model.Plan{Steps: []model.Step{stmt("otherteam")}}, ecrops.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	out, code := runCLI(t, env, "undo", plan, "--yes", "--destructive")
	if code != exitFindings || !strings.Contains(out, "refused") || !strings.Contains(out, "otherteam") || !strings.Contains(out, "--force") {
		t.Fatalf("undo over another team's statement (exit %d):\n%s", code, out)
	}
	out, code = runCLI(t, env, "undo", plan, "--yes", "--destructive", "--force")
	if code != 0 || !strings.Contains(out, "step 1 done") {
		t.Fatalf("undo --force (exit %d):\n%s", code, out)
	}
	snap, err := acc.Scan(context.Background(), ecrops.Scope{}, nil)
	if err != nil || strings.Contains(snap.RegistryPolicy, "eksnode") || !strings.Contains(snap.RegistryPolicy, "otherteam") {
		t.Fatalf("after a forced undo: %s %v", snap.RegistryPolicy, err)
	}
}

// The journal is a file on disk (written by an older ptcdoctor, or edited): its plan ids and
// request ids are shown without terminal controls.
func TestJournalShowsItsEntriesPrintable(t *testing.T) {
	j := &ecrops.Journal{Dir: t.TempDir()}
	if err := j.Append(ecrops.JournalEntry{Plan: "p\x1b[2J", Step: 0, Phase: "done", Operation: "ecr:X", Target: "t", RequestID: "r\x1b]52;c;x\x07"}); err != nil {
		t.Fatal(err)
	}
	entries, err := j.Entries()
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	printJournal(&b, j, entries)
	if strings.ContainsAny(b.String(), "\x1b\x07") {
		t.Fatalf("journal printed terminal controls: %q", b.String())
	}
}

// A journal that cannot be read is not a journal with nothing unfinished: the start notice
// says so.
func TestAnUnreadableJournalIsNotNothingUnfinished(t *testing.T) {
	dir := t.TempDir()
	j := &ecrops.Journal{Dir: dir}
	if err := os.Mkdir(j.Path(), 0o700); err != nil { // a directory where the file should be
		t.Fatal(err)
	}
	if n := unfinishedNotice(j); !strings.Contains(n, "could not be read") {
		t.Fatalf("notice %q", n)
	}
}

// The journal is a file on this machine: an on-call engineer whose credentials expired
// still reads what was changed (listing, --json) and acknowledges a plan, with no AWS
// credentials, region or endpoint anywhere.
func TestJournalNeedsNoCredentials(t *testing.T) {
	state := t.TempDir()
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "XDG_STATE_HOME=" + state, "XDG_CONFIG_HOME=" + t.TempDir(), "NO_COLOR=1",
		"AWS_EC2_METADATA_DISABLED=true", "AWS_CONFIG_FILE=/nonexistent", "AWS_SHARED_CREDENTIALS_FILE=/nonexistent"}
	j := &ecrops.Journal{Dir: filepath.Join(state, "ptcdoctor")}
	j.Append(ecrops.JournalEntry{Plan: "killed-plan", Step: 0, Phase: "intent", Operation: "ecr:DeletePullThroughCacheRule", Target: "quay"})
	for _, args := range [][]string{{"journal"}, {"journal", "--json"}, {"journal", "--ack", "killed-plan"}} {
		out, code := runCLI(t, env, args...)
		if code != exitOK || !strings.Contains(out, "killed-plan") || strings.Contains(out, "credentials") {
			t.Errorf("%v without credentials: exit %d:\n%s", args, code, out)
		}
	}
}
