package ui_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/ptcdoctor/ptcdoctor/cmd/ptcdoctor/uiengine"
	"github.com/ptcdoctor/ptcdoctor/ecrops/sim"
	"github.com/ptcdoctor/ptcdoctor/model"
	"github.com/ptcdoctor/ptcdoctor/ui"
)

func writesOf(srv *sim.Server) int {
	n := 0
	for _, e := range srv.Events(0) {
		if e.Write && e.Outcome == "ok" {
			n++
		}
	}
	return n
}

func setupApp(t *testing.T) (*sim.Server, *ui.App) {
	srv, eng := demo(t)
	app := newApp(eng)
	app.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	drive(app, app.Init())
	key(app, ":")
	typeText(app, "setup")
	key(app, "enter")
	return srv, app
}

func TestSetupFormsPlanAndApply(t *testing.T) {
	srv, app := setupApp(t)
	if s := screenText(app); !strings.Contains(s, "1. Upstream") || !strings.Contains(s, "Docker Hub (registry-1.docker.io)") {
		t.Fatalf("the form:\n%s", s)
	}
	key(app, "down", "down", "down", "enter") // Quay
	typeText(app, "quay-mirror")
	key(app, "enter", "enter", "enter", "enter", "enter")
	typeText(app, "arn:aws:iam::111122223333:role/eks-node")
	key(app, "enter", "enter")
	s := screenText(app)
	key(app, "G") // the plan is whole: its end is a scroll away
	if s += screenText(app); !strings.Contains(s, "Plan: Pull through cache for quay.io under quay-mirror/") || !strings.Contains(s, "ecr:PutRegistryPolicy") {
		t.Fatalf("the plan:\n%s", s)
	}
	if writesOf(srv) != 0 {
		t.Fatal("the forms wrote before the plan was confirmed")
	}
	_, apply := app.Update(tea.KeyPressMsg{Code: 'y', Text: "y"})
	driveWaiting(app, apply, 30*time.Second) // the plan, the validation and the canary pull
	s = screenText(app)
	key(app, "g")
	for range 10 { // the whole screen, a page at a time
		s += screenText(app)
		key(app, " ")
	}
	for _, want := range []string{"step 1 done: ecr:CreatePullThroughCacheRule quay-mirror", "ValidatePullThroughCacheRule: valid", "canary quay-mirror/prometheus/node-exporter:v1.8.0 pulled through", "Next steps"} {
		if !strings.Contains(s, want) {
			t.Errorf("after applying, the screen lacks %q:\n%s", want, s)
		}
	}
	// The account is read again once the canary made its repository: the header
	// counts it without r.
	if s := screenText(app); !strings.Contains(s, "Rules 7") || !strings.Contains(s, "Repositories 13") {
		t.Errorf("the header is stale after the setup:\n%s", s)
	}
	// esc leaves the result for where the person was, not for the setup again.
	key(app, "esc")
	if s := screenText(app); strings.Contains(s, "reading the account") || strings.Contains(s, "Setup") || !strings.Contains(s, "rules") {
		t.Errorf("esc from the setup's result:\n%s", s)
	}
}

func TestJourneySetupRefusesAWrongTokenBeforeAnyWrite(t *testing.T) {
	srv, eng := demo(t)
	out := journey(t, eng, func(tm *teatest.TestModel) {
		press(tm, ":", "setup", "enter")
		// Docker Hub, prefix hub2, no upstream prefix, a new secret, user, a wrong token.
		press(tm, "enter", "hub2", "enter", "enter", "enter", "ptcdemo", "enter", "wrong-token", "enter",
			"enter", "enter", "enter", "enter", "enter")
		waitDrawn(t, tm, "nothing was written")
	})
	if !strings.Contains(out, "refused the credentials") || !strings.Contains(out, "nothing was written") {
		t.Fatalf("a wrong token:\n%s", out)
	}
	if strings.Contains(out, "wrong-token") {
		t.Fatal("the token is on the screen")
	}
	if writesOf(srv) != 0 {
		t.Fatal("a refused token still wrote")
	}
}

func TestJourneySetupOnTheDemo(t *testing.T) {
	srv, eng := demo(t)
	out := journey(t, eng, func(tm *teatest.TestModel) {
		press(tm, ":", "setup", "enter")
		tm.Send(tea.KeyPressMsg{Code: tea.KeyDown}) // Amazon ECR Public
		press(tm, "enter", "ecr-mirror", "enter", "enter", "enter", "enter", "enter", "enter", "enter", "y")
		waitDrawn(t, tm, "Next steps")
	})
	if !strings.Contains(out, "ValidatePullThroughCacheRule: valid") || !strings.Contains(out, "canary ecr-mirror/docker/library/busybox:latest pulled through") {
		t.Fatalf("final screen:\n%s", out)
	}
	if writesOf(srv) == 0 {
		t.Fatal("nothing was written")
	}
}

// A token typed into the interface is masked, tried against the upstream before it is
// stored (this one is refused: nothing is written), and never drawn.
func TestJourneyATokenIsNeverDrawn(t *testing.T) {
	const token = "CANARY-TUI-TOKEN-5e2b"
	_, eng := demo(t)
	app := newApp(eng)
	tm := teatest.NewTestModel(t, app, teatest.WithInitialTermSize(120, 40))
	raw := waitDrawn(t, tm, `[0-9]+ findings`) // every byte drawn is kept, and searched for the token
	press(tm, "3", "/", "credentials of rule github", "enter", "f", "y", "ptcdemo-gh")
	tm.Send(tea.KeyPressMsg{Code: tea.KeyTab})
	press(tm, token, "enter")
	raw = append(raw, waitDrawn(t, tm, "nothing was written")...)
	tm.Send(tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl})
	out := tm.FinalOutput(t, teatest.WithFinalTimeout(10*time.Second))
	buf := make([]byte, 32<<10)
	for {
		n, err := out.Read(buf)
		raw = append(raw, buf[:n]...)
		if err != nil {
			break
		}
	}
	final := screenText(tm.FinalModel(t, teatest.WithFinalTimeout(time.Second)))
	if !strings.Contains(final, "ghcr.io refused the credentials of ptcdemo-gh") || strings.Contains(final, "step 1 done") {
		t.Fatalf("the typed token was not tried before it was stored:\n%s", final)
	}
	if strings.Contains(string(raw), token) || strings.Contains(final, token) {
		t.Fatal("the token was drawn on the screen")
	}
}

// A prefix with a rule already is taken, as the CLI takes it: setup run again plans
// only what differs, and says what is there.
func TestSetupOverAnExistingPrefixPlansOnlyWhatDiffers(t *testing.T) {
	srv, app := setupApp(t)
	key(app, "down", "down", "down", "enter") // Quay, whose rule quay/ exists
	typeText(app, "quay")
	key(app, "enter")
	if s := screenText(app); strings.Contains(s, "exists already") {
		t.Fatalf("the existing prefix was refused:\n%s", s)
	}
	key(app, "enter", "enter", "enter", "enter", "enter", "enter")
	s := screenText(app)
	key(app, "G")
	s += screenText(app)
	if !strings.Contains(s, "Already there: the rule quay/ → quay.io") || strings.Contains(s, "ecr:CreatePullThroughCacheRule") {
		t.Fatalf("the plan over an existing prefix:\n%s", s)
	}
	if writesOf(srv) != 0 {
		t.Fatal("the form wrote")
	}
}

// unreachable is the demo, whose upstream answers the first try of the credentials
// with probe, and accepts them after.
type unreachable struct {
	uiengine.Engine
	probe model.UpstreamProbe
	tries *atomic.Int32
}

func (u unreachable) CheckCredentials(_ context.Context, url, _, _ string) model.UpstreamProbe {
	if u.tries.Add(1) > 1 {
		return model.UpstreamProbe{Reference: url, Exists: true, Status: 200}
	}
	p := u.probe
	p.Reference = url
	return p
}

// An upstream that cannot be reached, or is out of service, is not said to have
// refused the credentials; the form asks again from the credentials, its earlier
// answers kept.
func TestSetupSaysWhenTheUpstreamCannotBeReached(t *testing.T) {
	for _, c := range []struct {
		probe model.UpstreamProbe
		want  string
	}{
		{model.UpstreamProbe{Class: "network", Message: "dial tcp: lookup registry-1.docker.io: no such host"}, "could not be reached"},
		{model.UpstreamProbe{Class: "server-error", Status: 503, Message: "UNAVAILABLE: service unavailable"}, "out of service"},
		{model.UpstreamProbe{Class: "unauthorized", Status: 401, Message: "UNAUTHORIZED: incorrect username or password"}, "refused the credentials"},
	} {
		_, eng := demo(t)
		app := newApp(unreachable{eng, c.probe, new(atomic.Int32)})
		app.Update(windowSize(120, 40))
		drive(app, app.Init())
		key(app, ":")
		typeText(app, "setup")
		key(app, "enter", "enter")
		typeText(app, "hub2")
		key(app, "enter", "enter", "enter")
		typeText(app, "ptcdemo")
		key(app, "enter")
		typeText(app, "a-token")
		key(app, "enter", "enter", "enter", "enter", "enter", "enter")
		s := screenText(app)
		if !strings.Contains(s, c.want) || (c.want != "refused the credentials" && strings.Contains(s, "refused")) || strings.Contains(s, "did not accept") {
			t.Fatalf("%s is worded as:\n%s", c.probe.Class, s)
		}
		if !strings.Contains(s, "3. Credentials") || strings.Contains(s, "2. Cache prefix") {
			t.Fatalf("%s: the form did not ask again from the credentials:\n%s", c.probe.Class, s)
		}
		// The credentials again, and the pages after them: the answers before them kept.
		key(app, "enter")
		typeText(app, "ptcdemo")
		key(app, "enter")
		typeText(app, "a-token")
		key(app, "enter", "enter", "enter", "enter", "enter", "enter")
		if s := screenText(app); !strings.Contains(s, "accepted the credentials") || !strings.Contains(s, "under hub2/") {
			t.Fatalf("%s: the second try lost the prefix, or was not tried:\n%s", c.probe.Class, s)
		}
	}
}

// hostileSecret lists one secret whose name carries an escape, under a customer key.
type hostileSecret struct{ uiengine.Engine }

func (hostileSecret) RuleSecrets(context.Context) ([]model.SecretRef, error) {
	return []model.SecretRef{{Name: "ecr-pullthroughcache/\x1b[2Jx", KMSKeyID: "arn:aws:kms:us-east-1:111122223333:key/1",
		ARN: "arn:aws:secretsmanager:us-east-1:111122223333:secret:ecr-pullthroughcache/x"}}, nil
}

// The reason a setup is refused can carry a secret's name, from the account: it
// reaches the screen inert.
func TestSetupRefusalShowsASecretsNameInert(t *testing.T) {
	_, eng := demo(t)
	app := newApp(hostileSecret{eng})
	app.Update(windowSize(120, 40))
	drive(app, app.Init())
	key(app, ":")
	typeText(app, "setup")
	key(app, "enter")
	key(app, "enter") // Docker Hub
	typeText(app, "hub2")
	key(app, "enter", "enter", "down", "enter", "enter") // an existing secret: the first
	key(app, "enter", "enter", "enter", "enter", "enter")
	content := app.View().Content
	if !strings.Contains(content, "customer managed KMS key") {
		t.Fatalf("the refusal is not shown:\n%s", screenText(app))
	}
	if strings.Contains(content, "\x1b[2J") || !strings.Contains(content, `\x1b[2J`) {
		t.Fatalf("the secret's name reached the screen raw:\n%q", content)
	}
}
