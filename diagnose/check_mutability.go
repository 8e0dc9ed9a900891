package diagnose

import (
	"strings"

	"github.com/ptcdoctor/ptcdoctor/model"
)

// templateMutabilityFinding speaks of a pull through cache template whose tag mutability
// keeps some tags from being refreshed: IMMUTABLE (every tag), IMMUTABLE_WITH_EXCLUSION
// (every tag its filters do not match) or MUTABLE_WITH_EXCLUSION (those they match).
func templateMutabilityFinding(t model.Template) (model.Finding, bool) {
	filters := strings.Join(t.MutabilityExclusions, ", ")
	var which string
	switch t.ImageTagMutability {
	case "IMMUTABLE":
		which = "every tag is immutable"
	case "IMMUTABLE_WITH_EXCLUSION":
		which = "every tag except those matching " + filters + " is immutable"
	case "MUTABLE_WITH_EXCLUSION":
		which = "tags matching " + filters + " are immutable"
	default:
		return model.Finding{}, false
	}
	ans := "imageTagMutability=" + t.ImageTagMutability
	if filters != "" {
		ans += ", imageTagMutabilityExclusionFilters=" + filters
	}
	return model.Finding{Subject: model.Subject{Kind: "template", Name: t.Prefix}, Distinct: "immutable tags",
		Title: "The template " + t.Prefix + " makes cache repositories with immutable tags (" + which + ")",
		Explanation: "In the cache repositories it creates, " + which + ". Tag immutability stops ECR from updating a cached tag when the upstream moves it: " +
			"the 24-hour refresh of those " + t.Prefix + "/ tags fails and the cache serves the old image for ever. AWS recommends MUTABLE for pull through cache templates. " +
			"(Existing repositories keep their setting; templates apply at creation.)",
		Evidence: []model.Evidence{{Call: "ecr:DescribeRepositoryCreationTemplates " + t.Prefix, Answer: ans}},
		Fixes: []model.Fix{{Title: "Make the template's tags mutable",
			Plan: model.Plan{Title: "Mutable tags for " + t.Prefix + "/", Steps: []model.Step{{Kind: model.StepUpdateTemplate,
				Operation: "ecr:UpdateRepositoryCreationTemplate", Target: t.Prefix,
				Params:  map[string]string{"prefix": t.Prefix, "imageTagMutability": "MUTABLE"},
				Summary: "Set the template's imageTagMutability to MUTABLE", Expect: map[string]string{"imageTagMutability": t.ImageTagMutability}}}}}}}, true
}
