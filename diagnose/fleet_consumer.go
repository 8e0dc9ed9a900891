package diagnose

import (
	"fmt"
	"strings"

	"github.com/ptcdoctor/ptcdoctor/model"
)

// --- fleet-consumer-pull ---

// A consuming account's node role pulls the central account's cache repositories
// directly; their repository policies (those made already: their own; those not made
// yet: the creation template's) must name that role, its account, or everyone. The one-account check
// cross-account-pull judges by account: a policy that names any principal of the consuming
// account counts there. Only the fleet knows which roles pull (--principal, the config's
// watch list) and which account is whose consumer, so this check judges the role itself:
// it fires where a policy names other principals of the account but not the node role.

// principalGranted reports whether a policy lets this principal (an IAM role or user ARN)
// do every action: a statement must name the principal itself, its account, or "*".
func (d policyDoc) principalGranted(principal string, actions []string) bool {
	account := accountOf(principal)
	for _, want := range actions {
		granted := false
		for _, s := range d.Statement {
			if !strings.EqualFold(s.Effect, "Allow") || !s.grantsAny([]string{want}) {
				continue
			}
			for _, p := range s.principals() {
				if p == "*" || p == principal || p == account || p == "arn:aws:iam::"+account+":root" {
					granted = true
				}
			}
		}
		if !granted {
			return false
		}
	}
	return true
}

// namesAccount reports whether a policy's Allow statements name any principal of the account.
func (d policyDoc) namesAccount(account string) bool {
	for _, a := range d.accountsAllowed() {
		if a == account {
			return true
		}
	}
	return false
}

func (f *fleet) consumerPull(principals []string) []model.Finding {
	const check = "fleet-consumer-pull"
	var out []model.Finding
	for _, p := range principals {
		consumer := accountOf(p)
		if consumer == "" || !strings.Contains(p, ":role/") && !strings.Contains(p, ":user/") {
			continue
		}
		for _, central := range f.views {
			if central.AccountID == consumer {
				continue
			}
			if e := central.PartFailed(model.PartRegistryPolicy); e != nil {
				f.skip(check, p+" against "+where(central), "the registry policy could not be read: "+e.Error())
				continue
			}
			reg, ok := parsePolicy(central.RegistryPolicy)
			if !ok || !reg.grants(consumer, []string{"ecr:BatchImportUpstreamImage"}) {
				continue // not a consumer of this account's caches, as far as its policy says
			}
			if e := central.PartFailed(model.PartRepositories); e != nil {
				f.skip(check, p+" against the repositories of "+where(central), "the repositories could not be read: "+e.Error())
			} else {
				out = append(out, consumerRepositories(central, p, consumer)...)
			}
			if e := central.PartFailed(model.PartTemplates); e != nil {
				f.skip(check, p+" against "+where(central), "the creation templates could not be read: "+e.Error())
				continue
			}
			for _, t := range central.Templates {
				if !t.AppliesToPullThroughCache() {
					continue
				}
				doc, ok := parsePolicy(t.RepositoryPolicy)
				if !ok || !doc.namesAccount(consumer) || doc.principalGranted(p, pullActions) {
					continue // unparsed, or silent on the account (cross-account-pull speaks), or granted
				}
				out = append(out, model.Finding{Check: check, Severity: model.SeverityError, Distinct: p,
					Subject: model.Subject{Kind: "template", Name: where(central) + " " + t.Prefix},
					Title:   fmt.Sprintf("%s cannot pull the cache repositories the template %s makes in %s", p, t.Prefix, central.AccountID),
					Explanation: fmt.Sprintf("Account %s pulls through %s's caches (its registry policy grants %s ecr:BatchImportUpstreamImage), and %s pulls from them. "+
						"The repository policy the template %s gives names other principals of %s but not this one, its account or everyone, so its pulls fail with 403 "+
						"(not authorized to perform: ecr:BatchGetImage) even though the account looks granted.",
						consumer, central.AccountID, consumer, p, t.Prefix, consumer),
					Evidence: []model.Evidence{
						{Call: "ecr:GetRegistryPolicy (" + where(central) + ")", Answer: "grants " + consumer + " ecr:BatchImportUpstreamImage"},
						{Call: "ecr:DescribeRepositoryCreationTemplates (" + where(central) + ") " + t.Prefix, Answer: "repositoryPolicy names " + strings.Join(principalsOf(doc, consumer), ", ")},
					},
					Fixes: []model.Fix{{Title: "Name the role in the template's repository policy (and in the repositories it made)",
						Manual: fmt.Sprintf("In account %s, region %s: add %s (or arn:aws:iam::%s:root) to the statement of the template %s that grants %s, then to each cache repository's policy under %s/.",
							central.AccountID, central.Region, p, consumer, t.Prefix, strings.Join(pullActions, ", "), t.Prefix)}},
				})
			}
		}
	}
	return out
}

// consumerRepositories judges the central account's cache repositories made already,
// whose own policies (not the template's, which only new ones get) decide a pull: one
// finding a rule, listing the repositories whose policy names other principals of the
// consumer but not this one. A repository whose policy was not read (no template covers
// it, or the read failed) is not judged.
func consumerRepositories(central *model.Snapshot, principal, consumer string) []model.Finding {
	byRule := map[string][]string{}
	var names []string
	for _, r := range central.Repositories {
		if r.RulePrefix == "" || !r.SettingsKnown {
			continue
		}
		doc, ok := parsePolicy(r.Policy)
		if !ok || !doc.namesAccount(consumer) || doc.principalGranted(principal, pullActions) {
			continue
		}
		if len(byRule[r.RulePrefix]) == 0 {
			names = append(names, principalsOf(doc, consumer)...)
		}
		byRule[r.RulePrefix] = append(byRule[r.RulePrefix], r.Name)
	}
	var out []model.Finding
	for _, prefix := range sortedKeys(byRule) {
		repos := byRule[prefix]
		shown := repos
		if len(shown) > 10 {
			shown = shown[:10]
		}
		out = append(out, model.Finding{Check: "fleet-consumer-pull", Severity: model.SeverityError, Distinct: principal,
			Subject: model.Subject{Kind: "repositories", Name: where(central) + " " + prefix + "/"},
			Title:   fmt.Sprintf("%s cannot pull %d cache repositories under %s/ in %s", principal, len(repos), prefix, central.AccountID),
			Explanation: fmt.Sprintf("Account %s pulls through %s's caches (its registry policy grants it ecr:BatchImportUpstreamImage), and %s pulls from them. "+
				"The repository policies of %s name other principals of %s but not this one, its account or everyone, so its pulls of what is cached there fail with 403 "+
				"(not authorized to perform: ecr:BatchGetImage).", consumer, central.AccountID, principal, strings.Join(shown, ", "), consumer),
			Evidence: []model.Evidence{
				{Call: "ecr:GetRegistryPolicy (" + where(central) + ")", Answer: "grants " + consumer + " ecr:BatchImportUpstreamImage"},
				{Call: "ecr:GetRepositoryPolicy (" + where(central) + ") " + strings.Join(shown, ", "), Answer: "names " + strings.Join(uniqueStrings(names), ", ")},
			},
			Fixes: []model.Fix{{Title: "Name the role in those repositories' policies",
				Manual: fmt.Sprintf("In account %s, region %s: add %s (or arn:aws:iam::%s:root) to the statement that grants %s in the policy of each of: %s.",
					central.AccountID, central.Region, principal, consumer, strings.Join(pullActions, ", "), strings.Join(repos, ", "))}},
		})
	}
	return out
}

func uniqueStrings(in []string) []string {
	var out []string
	for _, s := range in {
		if !containsString(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// principalsOf lists the principals of the account a policy's Allow statements name.
func principalsOf(d policyDoc, account string) []string {
	var out []string
	for _, s := range d.Statement {
		if !strings.EqualFold(s.Effect, "Allow") {
			continue
		}
		for _, p := range s.principals() {
			if accountOf(p) == account && !containsString(out, p) {
				out = append(out, p)
			}
		}
	}
	return out
}

// AccountPlaceholder in a principal stands for each account of a fleet, as in
// --assume-role-arn: arn:aws:iam::{account}:role/eks-node names every account's node role.
const AccountPlaceholder = "{account}"

// PrincipalsFor is a fleet's share of the pulling principals for one of its accounts:
// those of that account (a placeholder made its ID) and those whose account cannot be
// read from their name. A principal of another account is left to that account's
// targets and to the cross-account checks: IAM can only simulate a principal in its
// own account, so elsewhere it would be "not checked" for nothing.
func PrincipalsFor(principals []string, account string) []string {
	var out []string
	for _, p := range principals {
		p = strings.ReplaceAll(p, AccountPlaceholder, account)
		if a := accountOf(p); (a == "" || a == account) && !containsString(out, p) {
			out = append(out, p)
		}
	}
	return out
}

// fleetPrincipals expands the placeholder to every account scanned.
func fleetPrincipals(principals []string, views []*model.Snapshot) []string {
	var out []string
	add := func(p string) {
		if !containsString(out, p) {
			out = append(out, p)
		}
	}
	for _, p := range principals {
		if !strings.Contains(p, AccountPlaceholder) {
			add(p)
			continue
		}
		for _, v := range views {
			if v.AccountID != "" {
				add(strings.ReplaceAll(p, AccountPlaceholder, v.AccountID))
			}
		}
	}
	return out
}
