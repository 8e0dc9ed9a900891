package ui_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/ptcdoctor/ptcdoctor/cmd/ptcdoctor/uiengine"
	"github.com/ptcdoctor/ptcdoctor/ecrops"
	"github.com/ptcdoctor/ptcdoctor/ecrops/sim/simtest"
	"github.com/ptcdoctor/ptcdoctor/model"
	"github.com/ptcdoctor/ptcdoctor/ui"
)

// bigEngine serves a snapshot with one repository of n images, and probes nothing.
type bigEngine struct{ snap *model.Snapshot }

func (e bigEngine) ProbeUpstream(context.Context, model.Rule, string) model.UpstreamProbe {
	return model.UpstreamProbe{}
}
func (e bigEngine) ProbeCache(context.Context, string, string) model.CacheProbe {
	return model.CacheProbe{}
}
func (e bigEngine) ProbePermissions(context.Context, string, string, string, []string) model.PermissionProbe {
	return model.PermissionProbe{}
}
func (e bigEngine) Scan(context.Context, func(ui.Progress)) (*model.Snapshot, error) {
	return e.snap, nil
}
func (e bigEngine) Apply(context.Context, model.Plan, map[string]string) ([]ui.StepOutcome, error) {
	return nil, nil
}
func (e bigEngine) ReadOnly() bool                                       { return true }
func (e bigEngine) SetReadOnly(bool)                                     {}
func (e bigEngine) Journal() ([]ui.JournalRow, error)                    { return nil, nil }
func (e bigEngine) UndoPlan(context.Context, string) (model.Plan, error) { return model.Plan{}, nil }
func (e bigEngine) CheckCredentials(context.Context, string, string, string) model.UpstreamProbe {
	return model.UpstreamProbe{}
}
func (e bigEngine) ValidateRule(context.Context, string) model.Validation  { return model.Validation{} }
func (e bigEngine) Warm(context.Context, string, string) (string, error)   { return "", nil }
func (e bigEngine) RuleSecrets(context.Context) ([]model.SecretRef, error) { return nil, nil }
func (e bigEngine) Header() ui.Header                                      { return ui.Header{Account: "111122223333", Region: "us-east-1"} }

func bigSnapshot(n int) *model.Snapshot {
	now := time.Now()
	repo := model.Repository{Name: "ecr-public/big/app", RulePrefix: "ecr-public", ImagesKnown: true, LifecycleKnown: true, LifecyclePolicy: "x"}
	for i := range n {
		repo.Images = append(repo.Images, model.Image{Digest: model.ParseDigest(fmt.Sprintf("sha256:%064x", i)), Tags: []string{fmt.Sprintf("v%d", i)},
			MediaType: model.MediaTypeOf("application/vnd.docker.distribution.manifest.v2+json"), SizeBytes: 1 << 20,
			PushedAt: model.UnixTimeOf(now.Add(-time.Duration(i) * time.Minute)), LastPull: model.UnixTimeOf(now.Add(-time.Hour))})
	}
	return &model.Snapshot{AccountID: "111122223333", Region: "us-east-1", Identity: model.Identity{ARN: "arn:aws:iam::111122223333:user/admin"},
		Rules:        []model.Rule{{Prefix: "ecr-public", UpstreamRegistry: "ecr-public", UpstreamURL: "public.ecr.aws"}},
		Templates:    []model.Template{{Prefix: "ecr-public", AppliedFor: []string{"PULL_THROUGH_CACHE"}, ImageTagMutability: "MUTABLE", LifecyclePolicy: "x"}},
		Repositories: []model.Repository{repo}}
}

// BenchmarkFrame100kRows measures one frame (a key press, then the view) on the images
// screen of a repository with 100,000 images. `make bench-ui` runs it.
func BenchmarkFrame100kRows(b *testing.B) {
	app := ui.New(context.Background(), bigEngine{bigSnapshot(100_000)}, ui.Options{NoColor: true})
	app.Update(tea.WindowSizeMsg{Width: 160, Height: 48})
	drive(app, app.Init())
	key(app, "2", "enter") // the repository's images: 100,000 rows
	if got := screenText(app); !contains(got, "v99999") && !contains(got, "v0 ") {
		b.Fatalf("the images screen is not showing:\n%s", got)
	}
	down := tea.KeyPressMsg{Code: tea.KeyDown}
	b.ResetTimer()
	for range b.N {
		app.Update(down)
		_ = app.View()
	}
}

// BenchmarkOpenList100kRows measures going into a repository of 100,000 images:
// the list is built, sized to its cells and drawn.
func BenchmarkOpenList100kRows(b *testing.B) {
	app := ui.New(context.Background(), bigEngine{bigSnapshot(100_000)}, ui.Options{NoColor: true})
	app.Update(tea.WindowSizeMsg{Width: 160, Height: 48})
	drive(app, app.Init())
	key(app, "2")
	b.ResetTimer()
	for range b.N {
		key(app, "enter")
		_ = app.View()
		key(app, "esc")
	}
}

func contains(s, sub string) bool { return len(s) >= len(sub) && (s == sub || indexOf(s, sub) >= 0) }

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

// hostileEngine's upstream answers with terminal escape sequences in its messages.
type hostileEngine struct{ bigEngine }

func (hostileEngine) ProbeUpstream(_ context.Context, _ model.Rule, ref string) model.UpstreamProbe {
	return model.UpstreamProbe{Reference: ref, Class: "server-error", Status: 500, Message: "\x1b[2J\x1b[31mOWNED\a"}
}

func TestHostileTextIsShownInert(t *testing.T) {
	app := ui.New(context.Background(), hostileEngine{bigEngine{bigSnapshot(3)}}, ui.Options{NoColor: true})
	app.Update(tea.WindowSizeMsg{Width: 160, Height: 48})
	drive(app, app.Init())
	key(app, "3", "!") // the subjects not checked, with the answers that left them so
	content := app.View().Content
	if !strings.Contains(content, "OWNED") {
		t.Fatalf("the hostile answer is not shown:\n%s", screenText(app))
	}
	if strings.Contains(content, "\x1b[2J") || strings.Contains(content, "\x1b[31m") || strings.ContainsRune(content, '\a') {
		t.Fatal("a hostile escape sequence reached the screen raw")
	}
	if !strings.Contains(content, `\x1b[2J`) {
		t.Fatalf("the escape is not shown as text:\n%s", screenText(app))
	}
}

// BenchmarkKeyUnderLoad measures a key press and the redraw while a scan fights faults in
// the background (a generated account of 2,000 repositories; every call throttled 30% of
// the time, slowed 50 ms on a fifth): the interface never waits on the network.
func BenchmarkKeyUnderLoad(b *testing.B) {
	srv := simtest.Start(b, "generate: {rules: 20, repositoriesPerRule: 100, imagesPerRepository: 5}\n"+
		"faults: [{operation: \"*\", throttleRate: 0.3, latency: 50ms, latencyRate: 0.2}]\n")
	info := srv.Info()
	acc, err := ecrops.Open(context.Background(), ecrops.Config{Region: info.Region, EndpointURL: info.Endpoint, StateDir: b.TempDir(),
		Credentials: credentials.NewStaticCredentialsProvider(info.AccessKeyID, info.SecretAccessKey, "")})
	if err != nil {
		b.Fatal(err)
	}
	app := ui.New(context.Background(), uiengine.New(context.Background(), acc, false), ui.Options{NoColor: true})
	app.Update(tea.WindowSizeMsg{Width: 160, Height: 48})
	// The scan runs; its first message (the rules and repositories) is taken so the
	// lists are full, the rest keeps the process busy.
	next := app.Init()().(tea.BatchMsg)[0] // the scan's first message: rules and repositories
	for range 2 {
		_, next = app.Update(next())
	}
	if !strings.Contains(screenText(app), "gen-01/") {
		b.Fatalf("the rules are not on screen:\n%s", screenText(app))
	}
	keys := []tea.KeyPressMsg{{Code: tea.KeyDown}, {Code: tea.KeyDown}, {Code: tea.KeyUp}, {Code: '2', Text: "2"}, {Code: '1', Text: "1"}}
	b.ResetTimer()
	for i := range b.N {
		app.Update(keys[i%len(keys)])
		_ = app.View()
	}
}

// BenchmarkFilter100kRows measures a filter typed on a list of 100,000 images: each
// letter ranks every row again (a word first, then letters in order within a word).
func BenchmarkFilter100kRows(b *testing.B) {
	app := ui.New(context.Background(), bigEngine{bigSnapshot(100_000)}, ui.Options{NoColor: true})
	app.Update(tea.WindowSizeMsg{Width: 160, Height: 48})
	drive(app, app.Init())
	key(app, "2", "enter")
	b.ResetTimer()
	for range b.N {
		key(app, "/", "v", "9", "9", "esc")
		_ = app.View()
	}
}
