package ui

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/huh/v2"

	"github.com/ptcdoctor/ptcdoctor/diagnose"
	"github.com/ptcdoctor/ptcdoctor/model"
)

// The setup screen: huh forms ask, step by step, for the upstream, the prefix, the
// credentials, the creation template, the principal that pulls and a canary; the answers
// are checked as AWS checks them, the token is tried against the upstream before anything
// is stored, and the plan goes to the plan screen. After it is applied, the rule is
// validated and the canary pulled through.

// setupAnswers are the form's fields.
type setupAnswers struct {
	upstream, azure, ecrAccount, ecrRegion, role string
	prefix, upstreamPrefix                       string
	credMode, secretArn, username, token         string
	template                                     bool
	untagged, unpulled                           string
	principal, canary                            string
}

type setupScreen struct {
	c       *common
	id      int // the id of the request the screen waits on
	form    *huh.Form
	second  bool              // the form on screen is the second, after the upstream
	list    []model.SecretRef // the account's ecr-pullthroughcache/ secrets
	answers *setupAnswers
	req     *diagnose.SetupRequest
	secrets map[string]string // the new secret's value, until the plan runs
	said    string            // why the last answers were refused, or what is being tried
	width   int
	// moving is true from a key that moves the form (enter, tab) until the form's
	// message that moves it comes back (huh moves in a command, whose answer can
	// come after the next keys); the keys typed meanwhile wait in typed,
	// so that a quick typist's characters land on the next field, not the last.
	moving     bool
	movingFrom huh.Field // the field focused when the move began
	typed      []tea.KeyPressMsg
}

type secretsListedMsg struct {
	id      int
	secrets []model.SecretRef
	err     error
}

type credsCheckedMsg struct {
	id    int
	probe model.UpstreamProbe
}

func newSetupScreen(c *common) *setupScreen {
	return &setupScreen{c: c, width: 80, answers: &setupAnswers{upstream: "docker-hub", template: true, untagged: "1", unpulled: "90", credMode: "new"}}
}

// start lists the secrets to choose from; the form follows.
func (s *setupScreen) start() tea.Cmd {
	s.id = s.c.nextID()
	ctx, eng, id := s.c.ctx, s.c.eng, s.id
	return s.c.track(func() tea.Msg {
		list, err := eng.RuleSecrets(ctx)
		return secretsListedMsg{id: id, secrets: list, err: err}
	})
}

func (s *setupScreen) Title() string   { return "Setup" }
func (s *setupScreen) Capturing() bool { return true } // its keys are the form's, or wait for it
func (s *setupScreen) SetSize(w, h int) {
	s.width = w
	if s.form != nil {
		s.form = s.form.WithWidth(min(100, w)).WithHeight(h - 2)
	}
}

// ShortHelp is the one key the form's own help line (drawn above) does not name.
func (s *setupScreen) ShortHelp() []key.Binding {
	return []key.Binding{key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "leave the setup (nothing is written)"))}
}

func (s *setupScreen) FullHelp() [][]key.Binding { return [][]key.Binding{s.ShortHelp()} }

// secretsListed builds the form once the account's secrets are known.
func (s *setupScreen) secretsListed(msg secretsListedMsg) tea.Cmd {
	if msg.id != s.id || s.form != nil {
		return nil
	}
	if msg.err != nil {
		s.c.nav.fail("setup", "The secrets could not be listed: give an ARN by hand", msg.err.Error())
	}
	s.list = msg.secrets
	s.form = s.upstreamForm(s.answers)
	return tea.Batch(s.form.Init(), s.replay())
}

// The forms come in two: the upstream first, then the rest, written for that upstream.
// (huh runs a field's dynamic title or description in a command, apart from the form's
// own updates; fixed texts keep the answers out of two goroutines' reach.)
func (s *setupScreen) upstreamForm(ans *setupAnswers) *huh.Form {
	var options []huh.Option[string]
	for _, u := range diagnose.Upstreams {
		label := u.Name
		if u.URL != "" {
			label += " (" + u.URL + ")"
		}
		options = append(options, huh.NewOption(label, u.ID))
	}
	return s.styled(huh.NewForm(
		huh.NewGroup(
			huh.NewSelect[string]().Title("Upstream").Description("The registry to cache from.").Options(options...).Value(&ans.upstream),
		).Title("1. Upstream"),
	))
}

// setupForm asks the rest; fromCredentials starts it at the credentials (asked again
// after the upstream refused them or could not be reached), the answers before kept.
func (s *setupScreen) setupForm(ans *setupAnswers, fromCredentials bool) *huh.Form {
	u, _ := diagnose.UpstreamByID(ans.upstream)
	positive := func(s string) error {
		if n, err := strconv.Atoi(s); err != nil || n < 1 || n > 3650 {
			return errors.New("a number of days, 1 to 3650")
		}
		return nil
	}
	var groups []*huh.Group
	switch ans.upstream {
	case "azure-container-registry":
		groups = append(groups, huh.NewGroup(
			huh.NewInput().Title("Azure registry name").Description(".azurecr.io is added").Value(&ans.azure)).Title(u.Name))
	case "ecr":
		groups = append(groups, huh.NewGroup(
			huh.NewInput().Title("Upstream account").Value(&ans.ecrAccount),
			huh.NewInput().Title("Upstream region").Value(&ans.ecrRegion),
			huh.NewInput().Title("Role ECR assumes (another account only)").Value(&ans.role)).Title(u.Name))
	}
	groups = append(groups, huh.NewGroup(
		huh.NewInput().Title("Cache prefix").Description("Images will be pulled as <registry>/<prefix>/<image>. Empty: the console's default, "+u.DefaultPrefix+". A prefix with a rule already: only what differs is planned.").
			Placeholder(u.DefaultPrefix).Value(&ans.prefix).
			Validate(func(p string) error {
				if strings.TrimSpace(p) == "" {
					p = u.DefaultPrefix // the default is refused here too, not after the last page
				}
				// A prefix with a rule is taken: setup run again plans only what differs.
				return diagnose.ValidatePrefix(strings.TrimSpace(p), diagnose.ValidationSnapshot(s.c.snap, strings.TrimSpace(p)))
			}),
		huh.NewInput().Title("Upstream repository prefix (optional)").Description("Put in front of every upstream path; empty for none.").Value(&ans.upstreamPrefix),
	).Title("2. Cache prefix"))
	if fromCredentials {
		groups = nil
	}
	if u.Credentials {
		groups = append(groups,
			huh.NewGroup(
				huh.NewSelect[string]().Title("Credentials").Description(u.Name+" needs them: ECR reads them from an ecr-pullthroughcache/ secret.").Options(
					huh.NewOption("Enter a user name and token (stored in a new ecr-pullthroughcache/ secret)", "new"),
					huh.NewOption("Use an existing ecr-pullthroughcache/ secret", "existing")).Value(&ans.credMode),
			).Title("3. Credentials"),
			huh.NewGroup(
				huh.NewInput().Title("User name").Value(&ans.username),
				huh.NewInput().Title("Access token").Description("Tried against the upstream before anything is stored; never shown or kept.").
					EchoMode(huh.EchoModePassword).Value(&ans.token),
			).WithHideFunc(func() bool { return ans.credMode != "new" }),
			s.secretGroup(ans).WithHideFunc(func() bool { return ans.credMode != "existing" }),
		)
	}
	canary := "An upstream path:tag pulled through once the rule exists."
	if u.Canary != "" {
		canary += " Empty: " + u.Canary + "."
	}
	groups = append(groups,
		huh.NewGroup(
			huh.NewConfirm().Title("Create a creation template for the prefix?").Description("Mutable tags, AES256, and a lifecycle policy.").Value(&ans.template),
			huh.NewInput().Title("Expire untagged images after (days)").Value(&ans.untagged).Validate(positive),
			huh.NewInput().Title("Archive images not pulled for (days)").Value(&ans.unpulled).Validate(positive),
		).Title("4. Creation template"),
		huh.NewGroup(
			huh.NewInput().Title("Who will pull? (optional)").Description("A node or CI role's ARN: its permissions are checked and granted in the registry policy.").Value(&ans.principal),
			huh.NewInput().Title("Canary image").Description(canary).Placeholder(u.Canary).Value(&ans.canary),
		).Title("5. Who pulls, and the canary"),
	)
	return s.styled(huh.NewForm(groups...))
}

func (s *setupScreen) styled(f *huh.Form) *huh.Form {
	f = f.WithShowHelp(true).WithWidth(min(100, s.width))
	if s.c.opts.NoColor {
		f = f.WithTheme(huh.ThemeFunc(huh.ThemeBase))
	}
	return f
}

// secretGroup offers the account's secrets, with their metadata, or an ARN by hand.
func (s *setupScreen) secretGroup(ans *setupAnswers) *huh.Group {
	var options []huh.Option[string]
	for _, sec := range s.list {
		if sec.Deleted {
			continue
		}
		label := sec.Name + "  changed " + ago(sec.LastChanged, s.c.now())
		if sec.CustomerKey() {
			label += "  (customer KMS key: ECR cannot read it)"
		}
		options = append(options, huh.NewOption(model.Printable(label), sec.ARN))
	}
	if len(options) == 0 {
		return huh.NewGroup(huh.NewInput().Title("Secret ARN").Description("No ecr-pullthroughcache/ secret was found in this region.").
			Placeholder("arn:aws:secretsmanager:...:secret:ecr-pullthroughcache/...").Value(&ans.secretArn))
	}
	return huh.NewGroup(huh.NewSelect[string]().Title("Secret").Description("The ecr-pullthroughcache/ secrets of this region.").
		Options(options...).Value(&ans.secretArn))
}

// Update drives the form, and takes its answers when it completes.
func (s *setupScreen) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case secretsListedMsg:
		return s.secretsListed(msg)
	case credsCheckedMsg:
		if msg.id == s.id {
			return s.credsChecked(msg.probe)
		}
		return nil
	case tea.KeyPressMsg:
		if msg.String() == "esc" {
			s.c.nav.back()
			return nil
		}
		if s.moving || s.form == nil {
			s.typed = append(s.typed, msg)
			return nil
		}
	}
	if s.form == nil {
		return nil
	}
	before, field := s.form, s.form.GetFocusedField()
	cmd := s.formUpdate(msg)
	if k, ok := msg.(tea.KeyPressMsg); ok {
		switch k.String() {
		case "enter", "tab", "shift+tab":
			// A key that moves returns a command (a refused answer returns
			// none); a new form waits on nothing.
			s.moving, s.movingFrom = cmd != nil && s.form == before, field
		}
		return cmd
	}
	if s.moving && (s.form != before || s.form == nil || s.form.GetFocusedField() != s.movingFrom) {
		s.moving = false
		return tea.Batch(cmd, s.replay())
	}
	return cmd
}

// replay gives the form the keys typed while it was not ready.
func (s *setupScreen) replay() tea.Cmd {
	var cmds []tea.Cmd
	for len(s.typed) > 0 && !s.moving && s.form != nil {
		k := s.typed[0]
		s.typed = s.typed[1:]
		cmds = append(cmds, s.Update(k))
	}
	return tea.Batch(cmds...)
}

// formUpdate gives the form a message, and takes its answers when it completes.
func (s *setupScreen) formUpdate(msg tea.Msg) tea.Cmd {
	m, cmd := s.form.Update(msg)
	if f, ok := m.(*huh.Form); ok {
		s.form = f
	}
	switch s.form.State {
	case huh.StateAborted:
		s.c.nav.back()
		return nil
	case huh.StateCompleted:
		if !s.second {
			s.second = true
			s.form = s.setupForm(s.answers, false)
			return s.form.Init()
		}
		s.form = nil // answered: the form takes no more messages
		return s.completed()
	}
	return cmd
}

func (s *setupScreen) completed() tea.Cmd {
	ans, snap := s.answers, s.c.snap
	u, _ := diagnose.UpstreamByID(ans.upstream)
	req := diagnose.SetupRequest{Upstream: ans.upstream, AzureRegistry: strings.TrimSpace(ans.azure), ECRAccount: strings.TrimSpace(ans.ecrAccount),
		ECRRegion: strings.TrimSpace(ans.ecrRegion), RoleArn: strings.TrimSpace(ans.role), Prefix: strings.TrimSpace(ans.prefix),
		UpstreamPrefix: strings.TrimSpace(ans.upstreamPrefix), NoTemplate: !ans.template, Principal: strings.TrimSpace(ans.principal),
		Canary: strings.TrimSpace(ans.canary)}
	req.UntaggedDays, _ = strconv.Atoi(ans.untagged)
	req.UnpulledDays, _ = strconv.Atoi(ans.unpulled)
	if req.Prefix == "" {
		req.Prefix = u.DefaultPrefix
	}
	if req.Canary == "" {
		req.Canary = u.Canary
	}
	if u.Credentials {
		if ans.credMode == "existing" {
			req.SecretArn = strings.TrimSpace(ans.secretArn)
		} else {
			req.SecretName = "ecr-pullthroughcache/" + strings.TrimSuffix(req.Prefix, "/")
		}
	}
	if err := req.Validate(diagnose.ValidationSnapshot(snap, req.Prefix)); err != nil {
		return s.refused(err.Error())
	}
	for _, sec := range s.list {
		if sec.ARN == req.SecretArn && sec.CustomerKey() {
			return s.refused(sec.Name + " is encrypted with a customer managed KMS key, which ECR cannot read")
		}
	}
	s.req = &req
	if req.SecretName != "" {
		user, tok := strings.TrimSpace(ans.username), strings.TrimSpace(ans.token)
		ans.token = "" // the token leaves the form's state at once
		if user == "" || tok == "" {
			return s.refused("the user name and the token are both needed")
		}
		value, _ := json.Marshal(map[string]string{"username": user, "accessToken": tok})
		s.secrets = map[string]string{req.SecretName: string(value)}
		ctx, eng, url := s.c.ctx, s.c.eng, req.URL()
		s.id = s.c.nextID()
		id := s.id
		s.form, s.said = nil, "Trying the credentials against "+model.Printable(url)+"…"
		return s.c.track(func() tea.Msg { return credsCheckedMsg{id: id, probe: eng.CheckCredentials(ctx, url, user, tok)} })
	}
	return s.plan("")
}

// refused says why, and asks again from the page after the upstream, answers kept.
func (s *setupScreen) refused(why string) tea.Cmd { return s.askAgain(why, false) }

// askAgain says why the answers were not taken, and asks again, answers kept: from
// the page after the upstream, or from the credentials.
func (s *setupScreen) askAgain(why string, fromCredentials bool) tea.Cmd {
	s.answers.token = ""
	s.secrets = nil
	s.second = true
	s.form = s.setupForm(s.answers, fromCredentials)
	s.said = "Setup: " + model.Printable(why) + " (nothing was written)" // why may carry a secret's name, or typed text
	s.c.nav.fail("setup", s.said, "")
	return s.form.Init()
}

// credsChecked goes on to the plan when the upstream accepted the credentials; a
// refusal and an upstream that could not be reached are told apart.
func (s *setupScreen) credsChecked(p model.UpstreamProbe) tea.Cmd {
	if !p.Exists {
		return s.askAgain(credentialsNotTaken(p), true)
	}
	note := "The upstream accepted the credentials"
	if rl := p.RateLimit; rl != nil {
		note += fmt.Sprintf("; their pull budget: %d of %d left in a %dh window", rl.Remaining, rl.Limit, rl.WindowSeconds/3600)
	}
	return s.plan(note + ".")
}

// credentialsNotTaken words why a try of the credentials did not accept them: a
// refusal is the credentials' fault; an upstream out of reach or out of service
// (5xx, throttled) said nothing of them, and is not worded as if it had.
func credentialsNotTaken(p model.UpstreamProbe) string {
	msg := model.Printable(p.Message)
	switch p.Class {
	case "unauthorized", "forbidden":
		return fmt.Sprintf("the upstream refused the credentials (HTTP %d: %s)", p.Status, msg)
	case "network":
		return "the upstream could not be reached, so the credentials were not tried: " + msg
	case "server-error":
		return fmt.Sprintf("the upstream is out of service (HTTP %d: %s), so the credentials were not tried; try again later", p.Status, msg)
	case "rate-limited":
		return fmt.Sprintf("the upstream is throttling (HTTP %d: %s), so the credentials were not tried; try again later", p.Status, msg)
	}
	return fmt.Sprintf("the upstream answered the try of the credentials with HTTP %d: %s", p.Status, msg)
}

// plan opens the plan screen on the setup's plan; once applied, the rule is proven.
func (s *setupScreen) plan(note string) tea.Cmd {
	sp := diagnose.PlanSetup(s.c.snap, *s.req)
	var b strings.Builder
	if note != "" {
		b.WriteString(note + "\n")
	}
	for _, p := range sp.Present {
		b.WriteString("Already there: " + model.Printable(p) + "\n")
	}
	ps := newPlanScreen(s.c, []model.Fix{{Title: sp.Plan.Title, Plan: sp.Plan}}, 0, nil)
	ps.note, ps.secrets = b.String(), s.secrets
	s.secrets = nil
	ps.afterApplied = func(ok bool) tea.Cmd {
		if !ok {
			return nil
		}
		return s.prove(ps.id)
	}
	s.c.nav.replace(ps) // the setup is answered: back from the plan goes where the person was
	ps.render()
	if len(sp.Plan.Steps) == 0 {
		ps.phase, ps.result = phaseDone, "Nothing to change.\n"
		ps.render()
		return tea.Batch(s.prove(0), s.forward())
	}
	return s.forward()
}

// forward sends the keys typed ahead of the form on to the screen after it.
func (s *setupScreen) forward() tea.Cmd {
	var cmds []tea.Cmd
	for _, k := range s.typed {
		cmds = append(cmds, func() tea.Msg { return k })
	}
	s.typed = nil
	return tea.Sequence(cmds...)
}

// prove validates the new rule and pulls the canary through the cache.
func (s *setupScreen) prove(id int) tea.Cmd {
	ctx, eng, snap, req := s.c.ctx, s.c.eng, s.c.snap, *s.req
	return s.c.track(func() tea.Msg {
		var b strings.Builder
		prefix := strings.TrimSuffix(req.Prefix, "/")
		b.WriteString("\nProving it:\n")
		v := eng.ValidateRule(ctx, prefix)
		switch {
		case v.Error != nil:
			fmt.Fprintf(&b, " ✗ ValidatePullThroughCacheRule: %s\n", model.Printable(v.Error.Message))
		case !v.IsValid:
			fmt.Fprintf(&b, " ✗ ValidatePullThroughCacheRule: %s\n", model.Printable(v.Failure))
		default:
			b.WriteString(" ✓ ValidatePullThroughCacheRule: valid\n")
		}
		if req.Canary != "" {
			path, tag, _ := strings.Cut(req.Canary, ":")
			repo := prefix + "/" + path
			if d, err := eng.Warm(ctx, repo, tag); err != nil {
				fmt.Fprintf(&b, " ✗ canary %s:%s: %s\n", repo, tag, model.Printable(err.Error()))
			} else {
				fmt.Fprintf(&b, " ✓ canary %s:%s pulled through the cache (%s)\n", repo, tag, shortDigest(d))
			}
		}
		b.WriteString("\nNext steps\n\n" + diagnose.NextSteps(snap, req))
		return provedMsg{id: id, text: b.String()}
	})
}

func (s *setupScreen) View() string {
	switch {
	case s.form != nil && s.said != "":
		return s.c.st.errorText.Render(wrapText(s.said, s.width)) + "\n" + s.form.View()
	case s.form != nil:
		return s.form.View()
	case s.said != "":
		return s.said
	}
	return s.c.st.dim.Render("reading the account's ecr-pullthroughcache/ secrets…")
}
