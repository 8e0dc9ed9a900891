package diagnose

import (
	"strings"

	"github.com/ptcdoctor/ptcdoctor/model"
)

// appliedForFinding speaks of a rule whose prefix has a creation template that is not
// applied to pull through cache (appliedFor lacks PULL_THROUGH_CACHE): ECR ignores it
// when it creates cache repositories. Reporting it as "no template" would offer to create
// one, and CreateRepositoryCreationTemplate would fail with TemplateAlreadyExistsException:
// the fix is to add PULL_THROUGH_CACHE to the template's appliedFor.
func appliedForFinding(d *diagnosis, r model.Rule) (model.Finding, bool) {
	var t *model.Template
	for i := range d.snap.Templates {
		if d.snap.Templates[i].Prefix == r.Prefix {
			t = &d.snap.Templates[i]
		}
	}
	if t == nil || t.AppliesToPullThroughCache() {
		return model.Finding{}, false
	}
	current := strings.Join(t.AppliedFor, ",")
	wanted := strings.Join(append(append([]string(nil), t.AppliedFor...), "PULL_THROUGH_CACHE"), ",")
	return model.Finding{Subject: model.Subject{Kind: "template", Name: t.Prefix}, Distinct: "not applied to pull through cache",
		Title: "The template " + t.Prefix + " is not applied to pull through cache: ECR ignores it for " + r.Prefix + "/",
		Explanation: "A creation template shapes the repositories of the uses its appliedFor names; this one names " + orDefault(current, "nothing") +
			", not PULL_THROUGH_CACHE, so cache repositories under " + r.Prefix + "/ are created with ECR's defaults (mutable tags, AES256, no repository policy, no lifecycle policy), whatever the template says. " +
			"A new template cannot be created for the same prefix: add PULL_THROUGH_CACHE to this one.",
		Evidence: []model.Evidence{{Call: "ecr:DescribeRepositoryCreationTemplates " + t.Prefix, Answer: "appliedFor=" + orDefault(current, "(none)")}},
		Fixes: []model.Fix{{Title: "Apply the template to pull through cache too",
			Plan: model.Plan{Title: "Template " + t.Prefix + " for pull through cache", Steps: []model.Step{{Kind: model.StepUpdateTemplate,
				Operation: "ecr:UpdateRepositoryCreationTemplate", Target: t.Prefix,
				Params:  map[string]string{"prefix": t.Prefix, "appliedFor": wanted},
				Summary: "Set the template's appliedFor to " + wanted + " (what it had, and PULL_THROUGH_CACHE)",
				Expect:  map[string]string{"exists": "true", "appliedFor": current}}}}}}}, true
}
