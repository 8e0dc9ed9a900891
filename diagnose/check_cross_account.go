package diagnose

import (
	"fmt"
	"strings"

	"github.com/ptcdoctor/ptcdoctor/model"
)

// --- cross-account-pull ---

// pullActions are what another account needs on a cache repository to pull from it.
var pullActions = []string{"ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"}

// consumerAccounts are the accounts besides this one that pull from its caches, and where
// ptcdoctor learnt each: --consumer-account; the registry policy's principals granted
// ecr:BatchImportUpstreamImage (another account needs it there to pull through); and the
// principals granted ecr:BatchGetImage by the cache repositories' own policies.
func consumerAccounts(d *diagnosis) map[string]string {
	from := map[string]string{}
	add := func(acct, where string) {
		if acct != "" && acct != d.snap.AccountID && from[acct] == "" {
			from[acct] = where
		}
	}
	for _, a := range d.opts.ConsumerAccounts {
		add(a, "--consumer-account")
	}
	// Only statements that grant ecr:BatchImportUpstreamImage count: a registry policy also
	// serves cross-account replication (ecr:ReplicateImage with ecr:CreateRepository),
	// whose source account pulls nothing.
	if doc, ok := parsePolicy(d.snap.RegistryPolicy); ok {
		for _, a := range doc.accountsAllowed("ecr:BatchImportUpstreamImage") {
			add(a, "the registry policy")
		}
	}
	for _, repo := range d.snap.Repositories {
		if !repo.IsCache() || !repo.SettingsKnown {
			continue // an unread policy names no one; the repositories' own steps below skip it
		}
		if doc, ok := parsePolicy(repo.Policy); ok {
			for _, a := range doc.accountsAllowed("ecr:BatchGetImage") {
				add(a, "the repository policy of "+repo.Name)
			}
		}
	}
	return from
}

func checkCrossAccount(d *diagnosis) []model.Finding {
	consumers := consumerAccounts(d)
	if len(consumers) == 0 {
		return nil
	}
	var out []model.Finding
	accounts := sortedKeys(consumers)
	seen := map[string]bool{}
	for _, r := range d.snap.Rules {
		t := ruleTemplate(d.snap.Templates, r.Prefix)
		if t == nil {
			out = append(out, noTemplateFinding(r, accounts, consumers))
			continue
		}
		if seen[t.Prefix] {
			continue
		}
		seen[t.Prefix] = true
		doc, ok := parsePolicy(t.RepositoryPolicy)
		if !ok {
			continue
		}
		var missing []string
		for _, a := range accounts {
			if !doc.grants(a, pullActions) {
				missing = append(missing, a)
			}
		}
		if len(missing) == 0 {
			continue
		}
		out = append(out, crossAccountFinding(d, *t, missing, consumers))
	}
	return out
}

func crossAccountFinding(d *diagnosis, t model.Template, missing []string, from map[string]string) model.Finding {
	var principals, learnt []string
	for _, a := range missing {
		principals = append(principals, "arn:aws:iam::"+a+":root")
		learnt = append(learnt, a+" (from "+from[a]+")")
	}
	stmt := map[string]any{"Sid": "PullThroughCacheConsumers", "Effect": "Allow",
		"Principal": map[string]any{"AWS": principals}, "Action": pullActions}
	policy := withStatement(t.RepositoryPolicy, stmt)
	what := "no repository policy"
	if t.RepositoryPolicy != "" {
		what = "a repository policy that does not grant them the pull actions"
	}
	f := model.Finding{Severity: model.SeverityError, Subject: model.Subject{Kind: "template", Name: t.Prefix},
		Title: fmt.Sprintf("Cache repositories made by the template %s do not let %s pull", t.Prefix, strings.Join(missing, ", ")),
		Explanation: "Other accounts pull from this registry's caches, but the template " + t.Prefix + " gives the repositories it creates " + what +
			": a pull from another account needs " + strings.Join(pullActions, ", ") + " granted by the repository's policy, so their pulls fail with 403 Forbidden " +
			"(\"not authorized to perform: ecr:BatchGetImage\") even after the image is cached. The consuming accounts were learnt from: " + strings.Join(learnt, "; ") + ".",
		Evidence: []model.Evidence{{Call: "ecr:DescribeRepositoryCreationTemplates " + t.Prefix, Answer: "repositoryPolicy=" + orDefault(t.RepositoryPolicy, "(none)")}}}
	if d.snap.RegistryPolicy != "" {
		f.Evidence = append(f.Evidence, model.Evidence{Call: "ecr:GetRegistryPolicy", Answer: "grants pulling through to accounts " + strings.Join(mustAccounts(d.snap.RegistryPolicy), ", ")})
	}
	steps := []model.Step{{Kind: model.StepUpdateTemplate, Operation: "ecr:UpdateRepositoryCreationTemplate", Target: t.Prefix,
		Params:  map[string]string{"prefix": t.Prefix, "repositoryPolicy": policy},
		Summary: "Add a statement to the template's repository policy granting " + strings.Join(missing, ", ") + " the pull actions (the other statements kept)",
		Expect:  map[string]string{"exists": "true", "repositoryPolicy": t.RepositoryPolicy}}}
	// The repositories it made already keep their policy: align those that were read.
	for _, repo := range d.snap.Repositories {
		if tr := model.TemplateFor(d.snap.Templates, repo.Name); !repo.IsCache() || tr == nil || tr.Prefix != t.Prefix {
			continue
		}
		if !d.settingsRead(model.Subject{Kind: "repository", Name: repo.Name}, repo) {
			continue // its policy is unknown: no step overwrites it
		}
		doc, ok := parsePolicy(repo.Policy)
		if !ok {
			continue
		}
		var lack []string
		for _, a := range missing {
			if !doc.grants(a, pullActions) {
				lack = append(lack, "arn:aws:iam::"+a+":root")
			}
		}
		if len(lack) == 0 {
			continue
		}
		rs := map[string]any{"Sid": "PullThroughCacheConsumers", "Effect": "Allow", "Principal": map[string]any{"AWS": lack}, "Action": pullActions}
		steps = append(steps, model.Step{Kind: model.StepSetRepositoryPolicy, Operation: "ecr:SetRepositoryPolicy", Target: repo.Name,
			Params:  map[string]string{"repositoryName": repo.Name, "policyText": withStatement(repo.Policy, rs)},
			Summary: "Grant the same on the existing repository " + repo.Name + " (its other statements kept)",
			Expect:  map[string]string{"repositoryPolicy": repo.Policy}})
		f.Evidence = append(f.Evidence, model.Evidence{Call: "ecr:GetRepositoryPolicy " + repo.Name, Answer: orDefault(repo.Policy, "RepositoryPolicyNotFoundException")})
	}
	f.Fixes = []model.Fix{{Title: "Grant the consuming accounts the pull actions, in the template and the repositories it made",
		Plan: model.Plan{Title: "Cross-account pulls from " + t.Prefix + "/", Steps: steps}}}
	return f
}

// noTemplateFinding speaks of a rule whose cache repositories no template shapes: ECR
// creates them with no repository policy, so no other account may pull from them. The
// template itself is creation-template's fix; this says what it must also hold.
func noTemplateFinding(r model.Rule, accounts []string, from map[string]string) model.Finding {
	var learnt []string
	for _, a := range accounts {
		learnt = append(learnt, a+" (from "+from[a]+")")
	}
	return model.Finding{Severity: model.SeverityError, Subject: model.Subject{Kind: "rule", Name: r.Prefix},
		Title: fmt.Sprintf("Cache repositories under %s/ get no repository policy: %s cannot pull from them", r.Prefix, strings.Join(accounts, ", ")),
		Explanation: "No creation template applies to pull through cache under " + r.Prefix + "/, so ECR creates its repositories with no repository policy, and a pull from another account needs " +
			strings.Join(pullActions, ", ") + " granted there. The consuming accounts were learnt from: " + strings.Join(learnt, "; ") + ".",
		Evidence: []model.Evidence{{Call: "ecr:DescribeRepositoryCreationTemplates", Answer: "no template applies to " + r.Prefix + "/ for PULL_THROUGH_CACHE"}},
		Fixes: []model.Fix{{Title: "Create the template with a repository policy for them",
			Manual: "Apply the creation-template finding's plan for " + r.Prefix + "/ (a template with a lifecycle policy); run doctor again, and this check offers the repository policy to add to it."}}}
}

func mustAccounts(policy string) []string {
	doc, _ := parsePolicy(policy)
	return doc.accountsAllowed("ecr:BatchImportUpstreamImage")
}
