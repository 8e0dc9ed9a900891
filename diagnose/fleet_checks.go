package diagnose

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/ptcdoctor/ptcdoctor/model"
)

// The fleet checks judge a subject in one account against what another account holds,
// which no scan of one account can see. They read the targets' snapshots (without their
// images) and, like every check, act only on what was seen: a judgement that needs an
// account-region that could not be scanned, or a part of it that could not be read, is
// "not checked", never a finding.

// FleetCatalog lists the fleet checks (doctor over a fleet runs them after the targets).
var FleetCatalog = []CheckInfo{
	{ID: "fleet-ecr-upstream-policy", Severity: model.SeverityError,
		Title:       "A rule pulls through another account's ECR registry, whose registry policy does not grant it",
		Description: "A rule whose upstream is a private ECR registry of another account of the fleet needs that registry's policy (or its repositories' policies) to grant the rule's account ecr:BatchImportUpstreamImage, ecr:BatchGetImage and ecr:GetDownloadUrlForLayer. Error when ValidatePullThroughCacheRule also failed; warning when only the registry policy is missing the grant (a repository policy, not read, could still grant it)."},
	{ID: "fleet-consumer-pull", Severity: model.SeverityError,
		Title:       "A consuming account's node role is not named by the central account's repository policy",
		Description: "An account whose registry policy lets another pull through its caches must also let that account's pulling roles (--principal; arn:aws:iam::{account}:role/NAME names the role in every account) pull the cache repositories: the policies of those cached already, and the one its creation template gives new ones, must name the role, its account or everyone. Fires where a policy names other principals of that account but not the role (where it names none of the account, cross-account-pull speaks); a repository whose policy was not read (no template covers it) is not judged."},
	{ID: "fleet-upstream-drift", Severity: model.SeverityWarning,
		Title:       "The same upstream is configured differently across accounts",
		Description: "Rules for the same upstream registry in several account-regions differ in what makes pulls work or keeps the cache tidy: one authenticates and another does not (Docker Hub's anonymous limits apply to the latter), or one's creation template gives a lifecycle policy and another's does not."},
}

// CheckInfo describes a fleet check (the one-account checks are in Catalog).
type CheckInfo struct {
	ID          string
	Severity    model.Severity
	Title       string
	Description string
}

// FleetChecks runs the fleet checks over the scanned targets' snapshots. failed are the
// targets that could not be scanned: a judgement that needs one of them is not checked.
// principals are the roles and users that pull (--principal, the config's watch list);
// one with {account} stands for that role or user in every account scanned.
func FleetChecks(views []*model.Snapshot, failed []FleetTarget, principals []string) ([]ReportFinding, []FleetNotChecked) {
	f := &fleet{byAR: map[string]*model.Snapshot{}, failed: map[string]string{}}
	for _, v := range views {
		f.views = append(f.views, v)
		f.byAR[v.AccountID+"/"+v.Region] = v
	}
	for _, t := range failed {
		if t.Account != "" {
			f.failed[t.Account+"/"+t.Region] = t.Error
		}
	}
	sort.Slice(f.views, func(i, j int) bool {
		return f.views[i].AccountID+"/"+f.views[i].Region < f.views[j].AccountID+"/"+f.views[j].Region
	})
	var findings []model.Finding
	findings = append(findings, f.ecrUpstreamPolicy()...)
	findings = append(findings, f.upstreamDrift()...)
	findings = append(findings, f.consumerPull(fleetPrincipals(principals, f.views))...)
	sort.SliceStable(findings, func(i, j int) bool { return sevRank(findings[i].Severity) < sevRank(findings[j].Severity) })
	var out []ReportFinding
	for i, fd := range findings {
		out = append(out, reportFinding(fd, i+1))
	}
	return out, f.notChecked
}

func sevRank(s model.Severity) int {
	switch s {
	case model.SeverityError:
		return 0
	case model.SeverityWarning:
		return 1
	}
	return 2
}

type fleet struct {
	views      []*model.Snapshot
	byAR       map[string]*model.Snapshot
	failed     map[string]string // account/region -> why it was not scanned
	notChecked []FleetNotChecked
}

func (f *fleet) skip(check, subject, reason string) {
	f.notChecked = append(f.notChecked, FleetNotChecked{Check: check, Subject: model.Printable(subject), Reason: model.Printable(reason)})
}

// where names an account-region in a subject.
func where(s *model.Snapshot) string { return s.AccountID + " " + s.Region }

// --- fleet-ecr-upstream-policy ---

var ecrRegistryHost = regexp.MustCompile(`^([0-9]{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com$`)

// ecrUpstreamActions are what an upstream ECR registry must grant the downstream account
// (https://docs.aws.amazon.com/AmazonECR/latest/userguide/pull-through-cache-private.html).
var ecrUpstreamActions = []string{"ecr:BatchImportUpstreamImage", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"}

func (f *fleet) ecrUpstreamPolicy() []model.Finding {
	const check = "fleet-ecr-upstream-policy"
	var out []model.Finding
	for _, down := range f.views {
		for _, r := range down.Rules {
			m := ecrRegistryHost.FindStringSubmatch(strings.TrimPrefix(r.UpstreamURL, "https://"))
			if m == nil || m[1] == down.AccountID {
				continue // not ECR, or the same account (another region needs no grant)
			}
			subject := where(down) + " rule " + r.Prefix
			up := f.byAR[m[1]+"/"+m[2]]
			if up == nil {
				if why, ok := f.failed[m[1]+"/"+m[2]]; ok {
					f.skip(check, subject, "the upstream account-region "+m[1]+" "+m[2]+" could not be scanned: "+why)
				}
				continue // outside the fleet: nothing seen to judge by
			}
			if e := up.PartFailed(model.PartRegistryPolicy); e != nil {
				f.skip(check, subject, "the registry policy of "+where(up)+" could not be read: "+e.Error())
				continue
			}
			doc, ok := parsePolicy(up.RegistryPolicy)
			if ok && doc.grants(down.AccountID, ecrUpstreamActions) {
				continue
			}
			out = append(out, ecrUpstreamFinding(down, up, r, doc, ok))
		}
	}
	return out
}

func ecrUpstreamFinding(down, up *model.Snapshot, r model.Rule, doc policyDoc, parsed bool) model.Finding {
	sev := model.SeverityWarning
	validation := "not asked"
	if v := r.Validation; v != nil && v.Error == nil {
		validation = "isValid=true"
		if !v.IsValid {
			sev = model.SeverityError
			validation = "isValid=false: " + v.Failure
		}
	}
	var missing []string
	for _, a := range ecrUpstreamActions {
		if !parsed || !doc.grants(down.AccountID, []string{a}) {
			missing = append(missing, a)
		}
	}
	policy := "(none)"
	if up.RegistryPolicy != "" {
		policy = "grants " + down.AccountID + " " + strings.Join(diffStrings(ecrUpstreamActions, missing), ", ")
		if len(missing) == len(ecrUpstreamActions) {
			policy = "does not name " + down.AccountID + " for these actions"
		}
	}
	stmt := fmt.Sprintf(`{"Sid":"PullThroughCacheFrom%s","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::%s:root"},"Action":["%s"],"Resource":"arn:aws:ecr:%s:%s:repository/*"}`,
		down.AccountID, down.AccountID, strings.Join(ecrUpstreamActions, `","`), up.Region, up.AccountID)
	fd := model.Finding{Check: "fleet-ecr-upstream-policy", Severity: sev,
		Subject: model.Subject{Kind: "rule", Name: where(down) + " " + r.Prefix},
		Title:   fmt.Sprintf("The rule %s of %s pulls through %s's registry, whose registry policy does not grant %s", r.Prefix, down.AccountID, up.AccountID, down.AccountID),
		Explanation: fmt.Sprintf("The rule's upstream is the private registry of account %s in %s. ECR pulls through it as account %s "+
			"(with the rule's role %s), and the upstream registry must grant that account %s, by its registry policy or each repository's policy. "+
			"The registry policy of %s lacks %s for %s, so a first pull through %s/ fails unless a repository policy grants it (ptcdoctor reads "+
			"the repository policies of cache repositories only).",
			up.AccountID, up.Region, down.AccountID, orDefault(r.CustomRoleArn, "(none)"), strings.Join(ecrUpstreamActions, ", "),
			where(up), strings.Join(missing, ", "), down.AccountID, r.Prefix),
		Evidence: []model.Evidence{
			{Call: "ecr:DescribePullThroughCacheRules (" + where(down) + ") " + r.Prefix, Answer: "upstreamRegistryUrl=" + r.UpstreamURL + " customRoleArn=" + orDefault(r.CustomRoleArn, "(none)")},
			{Call: "ecr:ValidatePullThroughCacheRule (" + where(down) + ") " + r.Prefix, Answer: validation},
			{Call: "ecr:GetRegistryPolicy (" + where(up) + ")", Answer: policy},
		},
		Fixes: []model.Fix{{Title: "Grant the account in the upstream registry's policy",
			Manual: fmt.Sprintf("In account %s, region %s, add this statement to the registry policy (ptcdoctor fix over that target, or aws ecr put-registry-policy): %s", up.AccountID, up.Region, stmt)}},
	}
	return fd
}

func diffStrings(all, minus []string) []string {
	var out []string
	for _, a := range all {
		if !containsString(minus, a) {
			out = append(out, a)
		}
	}
	return out
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// --- fleet-upstream-drift ---

// ruleSetup is what the drift check compares of one rule.
type ruleSetup struct {
	view      *model.Snapshot
	rule      model.Rule
	template  *model.Template // nil: none covers the rule's repositories
	templates bool            // the templates were read
}

func (f *fleet) upstreamDrift() []model.Finding {
	const check = "fleet-upstream-drift"
	byUpstream := map[string][]ruleSetup{}
	for _, v := range f.views {
		if v.PartFailed(model.PartRules) != nil {
			continue // its rules are unknown: it takes no part (its target says not checked)
		}
		for _, r := range v.Rules {
			key := strings.TrimSuffix(r.UpstreamURL, "/") + "/" + r.UpstreamPrefix
			byUpstream[key] = append(byUpstream[key], ruleSetup{view: v, rule: r,
				template:  ruleTemplate(v.Templates, r.Prefix),
				templates: v.PartFailed(model.PartTemplates) == nil})
		}
	}
	var out []model.Finding
	for _, key := range sortedKeys(byUpstream) {
		setups := byUpstream[key]
		if len(setups) < 2 {
			continue
		}
		upstream := strings.TrimSuffix(key, "/")
		// Credentials: some rules authenticate and some do not.
		var with, without []string
		for _, s := range setups {
			name := where(s.view) + " " + s.rule.Prefix
			if s.rule.CredentialArn != "" {
				with = append(with, name)
			} else {
				without = append(without, name)
			}
		}
		if len(with) > 0 && len(without) > 0 {
			out = append(out, upstreamDriftFinding(upstream, "credentials", setups,
				fmt.Sprintf("Rules for %s authenticate in %s but not in %s: the latter pull anonymously, at the upstream's anonymous limits (Docker Hub's are per source IP, shared by every account behind the same NAT), and cannot reach private repositories.",
					upstream, strings.Join(with, ", "), strings.Join(without, ", ")),
				"Give every rule for this upstream a credential (ptcdoctor setup, or the credentials fix of each target)"))
		}
		// Lifecycle: some templates expire images and some do not.
		var lc, nolc []string
		var withPolicy, lacking []ruleSetup
		for _, s := range setups {
			name := where(s.view) + " " + s.rule.Prefix
			switch {
			case !s.templates:
				f.skip(check, "upstream "+upstream+" lifecycle in "+name, "the creation templates of "+where(s.view)+" could not be read")
			case s.template != nil && s.template.LifecyclePolicy != "":
				lc = append(lc, name)
				withPolicy = append(withPolicy, s)
			default:
				nolc = append(nolc, name)
				lacking = append(lacking, s)
			}
		}
		if len(lc) > 0 && len(nolc) > 0 {
			fd := upstreamDriftFinding(upstream, "lifecycle", setups,
				fmt.Sprintf("Creation templates give the cache repositories of %s a lifecycle policy in %s but not in %s: there, cached images are never expired and the repositories grow (and cost) without bound.",
					upstream, strings.Join(lc, ", "), strings.Join(nolc, ", ")),
				"Give the templates without one the lifecycle policy the others have")
			fd.Fixes[0].Manual = lifecycleSteps(withPolicy[0], lacking)
			out = append(out, fd)
		}
	}
	return out
}

// lifecycleSteps is the manual fix of a lifecycle drift, account by account: the fix is
// to the template, which no check of the account offers when the template has made no
// repository yet (no-lifecycle judges repositories), so the call is given whole, with the
// lifecycle policy of an account that has one; where no template covers the rule, the
// account's creation-template fix makes one with a lifecycle policy.
func lifecycleSteps(from ruleSetup, lacking []ruleSetup) string {
	policy := from.template.LifecyclePolicy
	var compact bytes.Buffer
	if json.Compact(&compact, []byte(policy)) == nil {
		policy = compact.String() // one line, no raw control character
	} else {
		policy = model.Printable(policy)
	}
	steps := []string{"Give the templates without one the lifecycle policy of the template " + from.template.Prefix + " in " + where(from.view) + ":"}
	seen := map[string]bool{}
	for _, s := range lacking {
		if s.template == nil {
			steps = append(steps, fmt.Sprintf("- In %s, no creation template covers %s/: `ptcdoctor fix --check creation-template` on that account-region creates one with a lifecycle policy.",
				where(s.view), s.rule.Prefix))
			continue
		}
		if key := where(s.view) + " " + s.template.Prefix; !seen[key] {
			seen[key] = true
			steps = append(steps, fmt.Sprintf("- In %s, the template %s: aws ecr update-repository-creation-template --region %s --prefix %s --lifecycle-policy '%s'",
				where(s.view), s.template.Prefix, s.view.Region, s.template.Prefix, strings.ReplaceAll(policy, "'", `'\''`)))
		}
	}
	steps = append(steps, "A template applies to repositories made after the change; cache repositories it made already keep none: the no-lifecycle fix of that account-region gives them one.")
	return strings.Join(steps, "\n")
}

func upstreamDriftFinding(upstream, what string, setups []ruleSetup, explanation, fix string) model.Finding {
	fd := model.Finding{Check: "fleet-upstream-drift", Severity: model.SeverityWarning, Distinct: what,
		Subject:     model.Subject{Kind: "upstream", Name: upstream},
		Title:       fmt.Sprintf("Rules for %s differ across accounts in their %s", upstream, what),
		Explanation: explanation,
		Fixes:       []model.Fix{{Title: fix, Manual: fix + "."}}}
	for _, s := range setups {
		answer := "credentialArn=" + orDefault(s.rule.CredentialArn, "(none)")
		call := "ecr:DescribePullThroughCacheRules (" + where(s.view) + ") " + s.rule.Prefix
		if what == "lifecycle" {
			call = "ecr:DescribeRepositoryCreationTemplates (" + where(s.view) + ") for " + s.rule.Prefix
			answer = "no template"
			if s.template != nil {
				answer = "template " + s.template.Prefix + " lifecyclePolicy=" + orDefault(s.template.LifecyclePolicy, "(none)")
			}
		}
		fd.Evidence = append(fd.Evidence, model.Evidence{Call: call, Answer: answer})
	}
	return fd
}

// FleetView keeps what the cross-account checks read of a snapshot, and no more: its
// account, region, rules, templates, registry policy, the failed reads of those and of the
// repository listing, and of its repositories only the cache repositories whose policy was
// read, with their name, rule and policy (fleet-consumer-pull judges them). Their images,
// lifecycle policies and the rest, kept for every finished target until the whole fleet
// is done, were most of a large fleet's memory.
func FleetView(s *model.Snapshot) *model.Snapshot {
	v := &model.Snapshot{AccountID: s.AccountID, Region: s.Region, Identity: s.Identity, TakenAt: s.TakenAt,
		Rules: s.Rules, Templates: s.Templates, RegistryPolicy: s.RegistryPolicy}
	for _, e := range s.Errors {
		switch e.Part {
		case model.PartIdentity, model.PartRules, model.PartTemplates, model.PartRegistryPolicy, model.PartRepositories:
			v.Errors = append(v.Errors, e)
		}
	}
	for _, r := range s.Repositories {
		if r.RulePrefix != "" && r.SettingsKnown {
			v.Repositories = append(v.Repositories, model.Repository{Name: r.Name, RulePrefix: r.RulePrefix, Policy: r.Policy, SettingsKnown: true})
		}
	}
	return v
}
