package ui

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

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

type setupState struct {
	form    *huh.Form
	second  bool              // the form on screen is the second, after the upstream
	list    []model.SecretRef // the account's ecr-pullthroughcache/ secrets
	answers *setupAnswers
	req     *diagnose.SetupRequest
	secrets map[string]string // the new secret's value, until the plan runs
	note    string
}

type secretsListedMsg struct {
	secrets []model.SecretRef
	err     error
}

type credsCheckedMsg struct {
	probe model.UpstreamProbe
}

type provedMsg struct {
	text string
}

func (a *App) openSetup() tea.Cmd {
	if a.snap == nil {
		a.status = "the account is still being read"
		return nil
	}
	ans := &setupAnswers{upstream: "docker-hub", template: true, untagged: "1", unpulled: "90", credMode: "new"}
	a.setup = &setupState{answers: ans}
	a.go_(screenSetup)
	ctx, eng := a.ctx, a.eng
	return func() tea.Msg { // the secrets to choose from, before the form
		list, err := eng.RuleSecrets(ctx)
		return secretsListedMsg{secrets: list, err: err}
	}
}

// secretsListed builds the form once the account's secrets are known.
func (a *App) secretsListed(msg secretsListedMsg) tea.Cmd {
	if a.setup == nil || a.setup.form != nil {
		return nil
	}
	if msg.err != nil {
		a.setBanner("The secrets could not be listed: give an ARN by hand", msg.err.Error())
	}
	a.setup.list = msg.secrets
	a.setup.form = a.upstreamForm(a.setup.answers)
	return a.setup.form.Init()
}

// The forms come in two: the upstream first, then the rest, written for that upstream.
// (huh runs a field's dynamic title or description in a command, apart from the form's
// own updates; fixed texts keep the answers out of two goroutines' reach.)
func (a *App) upstreamForm(ans *setupAnswers) *huh.Form {
	var options []huh.Option[string]
	for _, u := range diagnose.Upstreams {
		label := u.Name
		if u.URL != "" {
			label += " (" + u.URL + ")"
		}
		options = append(options, huh.NewOption(label, u.ID))
	}
	return a.styled(huh.NewForm(
		huh.NewGroup(
			huh.NewSelect[string]().Title("Upstream").Description("The registry to cache from.").Options(options...).Value(&ans.upstream),
		).Title("1. Upstream"),
	))
}

func (a *App) setupForm(ans *setupAnswers) *huh.Form {
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
		huh.NewInput().Title("Cache prefix").Description("Images will be pulled as <registry>/<prefix>/<image>. Empty: the console's default, "+u.DefaultPrefix+".").
			Placeholder(u.DefaultPrefix).Value(&ans.prefix).
			Validate(func(s string) error {
				if s == "" {
					return nil // the default
				}
				return diagnose.ValidatePrefix(s, a.snap)
			}),
		huh.NewInput().Title("Upstream repository prefix (optional)").Description("Put in front of every upstream path; empty for none.").Value(&ans.upstreamPrefix),
	).Title("2. Cache prefix"))
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
			a.secretGroup(ans).WithHideFunc(func() bool { return ans.credMode != "existing" }),
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
	return a.styled(huh.NewForm(groups...))
}

func (a *App) styled(f *huh.Form) *huh.Form {
	f = f.WithShowHelp(true).WithWidth(min(100, a.width))
	if a.opts.NoColor {
		f = f.WithTheme(huh.ThemeFunc(huh.ThemeBase))
	}
	return f
}

// secretGroup offers the account's secrets, with their metadata, or an ARN by hand.
func (a *App) secretGroup(ans *setupAnswers) *huh.Group {
	var options []huh.Option[string]
	for _, sec := range a.setup.list {
		if sec.Deleted {
			continue
		}
		label := sec.Name + "  changed " + ago(sec.LastChanged, a.opts.Now())
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

// setupUpdate drives the form, and takes its answers when it completes.
func (a *App) setupUpdate(msg tea.Msg) tea.Cmd {
	s := a.setup
	if s == nil || s.form == nil {
		return nil
	}
	m, cmd := s.form.Update(msg)
	if f, ok := m.(*huh.Form); ok {
		s.form = f
	}
	switch s.form.State {
	case huh.StateAborted:
		a.setup = nil
		a.back()
		return nil
	case huh.StateCompleted:
		if !s.second {
			s.second = true
			s.form = a.setupForm(s.answers)
			return s.form.Init()
		}
		return a.setupCompleted()
	}
	return cmd
}

func (a *App) setupCompleted() tea.Cmd {
	s, ans := a.setup, a.setup.answers
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
	if err := req.Validate(a.snap); err != nil {
		return a.setupFailed(err.Error())
	}
	for _, sec := range s.list {
		if sec.ARN == req.SecretArn && sec.CustomerKey() {
			return a.setupFailed(sec.Name + " is encrypted with a customer managed KMS key, which ECR cannot read")
		}
	}
	s.req = &req
	if req.SecretName != "" {
		user, tok := strings.TrimSpace(ans.username), strings.TrimSpace(ans.token)
		ans.token = "" // the token leaves the form's state at once
		if user == "" || tok == "" {
			return a.setupFailed("the user name and the token are both needed")
		}
		value, _ := json.Marshal(map[string]string{"username": user, "accessToken": tok})
		s.secrets = map[string]string{req.SecretName: string(value)}
		ctx, eng, url := a.ctx, a.eng, req.URL()
		a.body.SetContent("Trying the credentials against " + url + "…")
		return func() tea.Msg { return credsCheckedMsg{probe: eng.CheckCredentials(ctx, url, user, tok)} }
	}
	return a.setupPlan("")
}

func (a *App) setupFailed(why string) tea.Cmd {
	ans := a.setup.answers
	ans.token = ""
	a.setup.second = false
	a.setup.form = a.upstreamForm(ans)
	a.setBanner("Setup: "+why+" (nothing was written)", "")
	return a.setup.form.Init()
}

// credsChecked goes on to the plan when the upstream accepted the credentials.
func (a *App) credsChecked(msg credsCheckedMsg) tea.Cmd {
	if a.setup == nil {
		return nil
	}
	p := msg.probe
	if !p.Exists {
		a.setup.secrets = nil
		return a.setupFailed(fmt.Sprintf("the upstream refused the credentials (%s %s)", p.Class, p.Message))
	}
	note := "The upstream accepted the credentials"
	if rl := p.RateLimit; rl != nil {
		note += fmt.Sprintf("; their pull budget: %d of %d left in a %dh window", rl.Remaining, rl.Limit, rl.WindowSeconds/3600)
	}
	return a.setupPlan(note + ".")
}

func (a *App) setupPlan(note string) tea.Cmd {
	sp := diagnose.PlanSetup(a.snap, *a.setup.req)
	plan := sp.Plan
	a.plan, a.planFor, a.planState = &plan, nil, ""
	var b strings.Builder
	if note != "" {
		b.WriteString(note + "\n")
	}
	for _, p := range sp.Present {
		b.WriteString("Already there: " + p + "\n")
	}
	a.setup.note = b.String()
	a.screen = screenPlan
	if len(plan.Steps) == 0 {
		a.renderPlan(a.setup.note + "\nNothing to change.")
		return a.proveCmd()
	}
	a.renderPlan(a.setup.note)
	return nil
}

// proveCmd validates the new rule and pulls the canary through the cache.
func (a *App) proveCmd() tea.Cmd {
	if a.setup == nil || a.setup.req == nil {
		return nil
	}
	ctx, eng, snap, req := a.ctx, a.eng, a.snap, *a.setup.req
	return func() tea.Msg {
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
		return provedMsg{text: b.String()}
	}
}

func (a *App) setupView() string {
	if a.setup == nil {
		return ""
	}
	if a.setup.form == nil {
		return a.st.dim.Render("reading the account's ecr-pullthroughcache/ secrets…")
	}
	return a.setup.form.View()
}
