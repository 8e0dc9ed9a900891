package diagnose_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/ptcdoctor/ptcdoctor/diagnose"
	"github.com/ptcdoctor/ptcdoctor/model"
)

// lifecycleProblems checks a lifecycle policy against the rules of AWS's documentation,
// written here from the documentation alone (not from the stand-in, which must not share
// its mistakes):
//   - properties: https://docs.aws.amazon.com/AmazonECR/latest/userguide/lifecycle_policy_parameters.html
//   - evaluation rules: https://docs.aws.amazon.com/AmazonECR/latest/userguide/LifecyclePolicies.html
//   - examples and their "Important" notes: https://docs.aws.amazon.com/AmazonECR/latest/userguide/lifecycle_policy_examples.html
//   - sizes: the API model (LifecyclePolicyText 100 to 30720 characters) and the quota of 50 rules.
//
// minLen is 100 for PutLifecyclePolicy and 0 for a creation template's lifecyclePolicy.
func lifecycleProblems(text string, minLen int) []string {
	var out []string
	bad := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	if len(text) < minLen || len(text) > 30720 {
		bad("the text is %d characters: %d to 30720", len(text), minLen)
	}
	type selection struct {
		TagStatus      *string  `json:"tagStatus"`
		TagPatternList []string `json:"tagPatternList"`
		TagPrefixList  []string `json:"tagPrefixList"`
		StorageClass   *string  `json:"storageClass"`
		CountType      *string  `json:"countType"`
		CountUnit      *string  `json:"countUnit"`
		CountNumber    *int     `json:"countNumber"`
	}
	type rule struct {
		RulePriority *int       `json:"rulePriority"`
		Description  *string    `json:"description"`
		Selection    *selection `json:"selection"`
		Action       *struct {
			Type               *string `json:"type"`
			TargetStorageClass *string `json:"targetStorageClass"`
		} `json:"action"`
	}
	var doc struct {
		Rules []rule `json:"rules"`
	}
	dec := json.NewDecoder(strings.NewReader(text))
	dec.DisallowUnknownFields() // a property the documentation does not name
	if err := dec.Decode(&doc); err != nil {
		return append(out, "not a lifecycle policy: "+err.Error())
	}
	if len(doc.Rules) < 1 || len(doc.Rules) > 50 {
		bad("%d rules: 1 to 50", len(doc.Rules))
	}
	priorities := map[int]bool{}
	type classRules struct {
		highest, anyPriority, untagged int
		prefixSets                     map[string]bool
	}
	byClass := map[string]*classRules{}
	for i, r := range doc.Rules {
		n := i + 1
		if r.RulePriority == nil || *r.RulePriority < 1 {
			bad("rule %d: rulePriority is required, a positive integer", n)
			continue
		}
		p := *r.RulePriority
		if priorities[p] {
			bad("rule %d: rulePriority %d is not unique", n, p)
		}
		priorities[p] = true
		s := r.Selection
		if s == nil || s.TagStatus == nil || s.CountType == nil || s.CountNumber == nil {
			bad("rule %d: selection needs tagStatus, countType and countNumber", n)
			continue
		}
		if r.Action == nil || r.Action.Type == nil {
			bad("rule %d: action.type is required", n)
			continue
		}
		// Tag status: tagged needs exactly one of the lists; untagged and any take neither.
		switch *s.TagStatus {
		case "tagged":
			if (len(s.TagPatternList) > 0) == (len(s.TagPrefixList) > 0) {
				bad("rule %d: tagged needs tagPatternList or tagPrefixList, not both", n)
			}
			for _, pat := range s.TagPatternList {
				if strings.Count(pat, "*") > 4 {
					bad("rule %d: %q has more than four wildcards", n, pat)
				}
			}
		case "untagged", "any":
			if s.TagPatternList != nil || s.TagPrefixList != nil {
				bad("rule %d: tag lists are only for tagStatus tagged", n)
			}
		default:
			bad("rule %d: tagStatus %q is not tagged, untagged or any", n, *s.TagStatus)
		}
		// Storage class: standard when omitted; archive only, and always, with sinceImageTransitioned.
		class := "standard"
		if s.StorageClass != nil {
			class = *s.StorageClass
		}
		switch *s.CountType {
		case "imageCountMoreThan":
			if s.CountUnit != nil {
				bad("rule %d: countUnit is an error with imageCountMoreThan", n)
			}
		case "sinceImagePushed", "sinceImagePulled", "sinceImageTransitioned":
			if s.CountUnit == nil || *s.CountUnit != "days" {
				bad("rule %d: %s needs countUnit days", n, *s.CountType)
			}
		default:
			bad("rule %d: countType %q is unknown", n, *s.CountType)
		}
		if *s.CountType == "sinceImageTransitioned" {
			if s.StorageClass == nil || class != "archive" {
				bad("rule %d: sinceImageTransitioned needs storageClass archive", n)
			}
		} else if class != "standard" {
			bad("rule %d: %s selects only storageClass standard, not %q", n, *s.CountType, class)
		}
		if *s.CountNumber < 1 {
			bad("rule %d: countNumber must be positive", n)
		}
		// Action: expire, or transition to archive; sinceImagePulled only transitions,
		// sinceImageTransitioned only expires, and not before 90 days in the archive.
		switch *r.Action.Type {
		case "expire":
			if r.Action.TargetStorageClass != nil {
				bad("rule %d: targetStorageClass is only for transition", n)
			}
			if *s.CountType == "sinceImagePulled" {
				bad("rule %d: sinceImagePulled cannot be used with expire, only with transition to archive", n)
			}
		case "transition":
			if r.Action.TargetStorageClass == nil || *r.Action.TargetStorageClass != "archive" {
				bad("rule %d: transition needs targetStorageClass archive", n)
			}
			if *s.CountType == "sinceImageTransitioned" {
				bad("rule %d: sinceImageTransitioned must be used with expire", n)
			}
		default:
			bad("rule %d: action.type %q is not expire or transition", n, *r.Action.Type)
		}
		if *s.CountType == "sinceImageTransitioned" && *s.CountNumber < 90 {
			bad("rule %d: images stay in the archive 90 days at least; %d is refused", n, *s.CountNumber)
		}
		c := byClass[class]
		if c == nil {
			c = &classRules{prefixSets: map[string]bool{}}
			byClass[class] = c
		}
		c.highest = max(c.highest, p)
		switch *s.TagStatus {
		case "any":
			if c.anyPriority != 0 {
				bad("rule %d: a second rule with tagStatus any selects %s images", n, class)
			}
			c.anyPriority = p
		case "untagged":
			c.untagged++
		case "tagged":
			set := slices.Sorted(slices.Values(append(slices.Clone(s.TagPrefixList), s.TagPatternList...)))
			if key := strings.Join(set, "\x00"); c.prefixSets[key] {
				bad("rule %d: the tag set %v is selected twice among %s images", n, set, class)
			} else {
				c.prefixSets[key] = true
			}
		}
	}
	for class, c := range byClass {
		if c.anyPriority != 0 && c.anyPriority != c.highest {
			bad("the rule with tagStatus any among %s images has priority %d, not the highest (%d)", class, c.anyPriority, c.highest)
		}
		if c.untagged > 1 {
			bad("%d rules select untagged %s images: one at most", c.untagged, class)
		}
	}
	return out
}

// The validator refuses what the documentation refuses: the policy ptcdoctor used to
// write, among others.
func TestLifecycleValidatorRefusesWhatAWSRefuses(t *testing.T) {
	bad := map[string]string{
		"expire on last pull (ptcdoctor's old default)": `{"rules":[{"rulePriority":1,"description":"Expire untagged images after 1 day(s)","selection":{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":1},"action":{"type":"expire"}},{"rulePriority":2,"description":"Expire images not pulled for 90 days","selection":{"countNumber":90,"countType":"sinceImagePulled","countUnit":"days","tagStatus":"any"},"action":{"type":"expire"}}]}`,
		"any before another standard rule":              `{"rules":[{"rulePriority":1,"selection":{"tagStatus":"any","countType":"sinceImagePushed","countUnit":"days","countNumber":9},"action":{"type":"expire"}},{"rulePriority":2,"selection":{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":1},"action":{"type":"expire"}}]}`,
		"archive expiry under 90 days":                  `{"rules":[{"rulePriority":1,"selection":{"tagStatus":"any","storageClass":"archive","countType":"sinceImageTransitioned","countUnit":"days","countNumber":30},"action":{"type":"expire"}}]}`,
		"transitioned without storageClass":             `{"rules":[{"rulePriority":1,"selection":{"tagStatus":"any","countType":"sinceImageTransitioned","countUnit":"days","countNumber":120},"action":{"type":"expire"}}]}`,
		"transition without a target":                   `{"rules":[{"rulePriority":1,"selection":{"tagStatus":"any","countType":"sinceImagePulled","countUnit":"days","countNumber":90},"action":{"type":"transition"}}]}`,
		"countUnit with a count":                        `{"rules":[{"rulePriority":1,"selection":{"tagStatus":"any","countType":"imageCountMoreThan","countUnit":"days","countNumber":9},"action":{"type":"expire"}}]}`,
		"both tag lists":                                `{"rules":[{"rulePriority":1,"selection":{"tagStatus":"tagged","tagPrefixList":["v"],"tagPatternList":["v*"],"countType":"imageCountMoreThan","countNumber":9},"action":{"type":"expire"}}]}`,
		"two untagged rules":                            `{"rules":[{"rulePriority":1,"selection":{"tagStatus":"untagged","countType":"imageCountMoreThan","countNumber":9},"action":{"type":"expire"}},{"rulePriority":2,"selection":{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":9},"action":{"type":"expire"}}]}`,
		"same priority twice":                           `{"rules":[{"rulePriority":1,"selection":{"tagStatus":"tagged","tagPrefixList":["a"],"countType":"imageCountMoreThan","countNumber":9},"action":{"type":"expire"}},{"rulePriority":1,"selection":{"tagStatus":"tagged","tagPrefixList":["b"],"countType":"imageCountMoreThan","countNumber":9},"action":{"type":"expire"}}]}`,
	}
	for name, text := range bad {
		if len(lifecycleProblems(text, 0)) == 0 {
			t.Errorf("%s: accepted", name)
		}
	}
	// The documentation's own examples pass.
	for _, text := range []string{
		`{"rules":[{"rulePriority":1,"description":"Archive images not pulled in 90 days","selection":{"tagStatus":"any","countType":"sinceImagePulled","countUnit":"days","countNumber":90},"action":{"type":"transition","targetStorageClass":"archive"}}]}`,
		`{"rules":[{"rulePriority":1,"selection":{"tagStatus":"any","countType":"sinceImagePushed","countUnit":"days","countNumber":30},"action":{"type":"transition","targetStorageClass":"archive"}},{"rulePriority":2,"selection":{"tagStatus":"any","storageClass":"archive","countType":"sinceImageTransitioned","countUnit":"days","countNumber":365},"action":{"type":"expire"}}]}`,
		`{"rules":[{"rulePriority":1,"selection":{"tagStatus":"tagged","tagPatternList":["alpha*"],"countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}},{"rulePriority":2,"selection":{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":1},"action":{"type":"expire"}},{"rulePriority":3,"selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}}]}`,
	} {
		if p := lifecycleProblems(text, 100); len(p) > 0 {
			t.Errorf("a documented example is refused: %v\n%s", p, text)
		}
	}
}

// lifecyclePolicies collects the lifecycle policies a plan would write, by step.
func lifecyclePolicies(plan model.Plan) map[string]string {
	out := map[string]string{}
	for i, s := range plan.Steps {
		for _, k := range []string{"lifecyclePolicy", "lifecyclePolicyText"} {
			if v := s.Params[k]; v != "" {
				out[fmt.Sprintf("%s step %d %s %s", plan.Title, i+1, s.Operation, k)] = v
			}
		}
	}
	return out
}

// Every lifecycle policy ptcdoctor writes, from any fix of any finding on the demo and
// from setup, is one the documentation allows; and its plan says what archiving means.
func TestEveryLifecyclePolicyWrittenIsValid(t *testing.T) {
	_, acc := account(t, "demo")
	snap, findings := diagnoseWith(t, acc, demoRefs, "arn:aws:iam::111122223333:role/eks-node")
	policies := map[string]string{}
	var summaries []string
	for _, f := range findings {
		for _, fix := range f.Fixes {
			for k, v := range lifecyclePolicies(fix.Plan) {
				policies[k] = v
			}
			for _, s := range fix.Plan.Steps {
				if s.Params["lifecyclePolicy"] != "" || s.Params["lifecyclePolicyText"] != "" {
					summaries = append(summaries, s.Summary)
				}
			}
		}
	}
	for _, r := range []diagnose.SetupRequest{
		{Upstream: "ecr-public", Prefix: "ecr-public-2"},
		{Upstream: "quay", Prefix: "quay-2", UntaggedDays: 3, UnpulledDays: 30, ArchivedDays: 365},
		{Upstream: "k8s", Prefix: "kubernetes"}, // the demo's template without a lifecycle policy, if any
	} {
		if err := r.Validate(snap); err != nil && !strings.Contains(err.Error(), "exists already") {
			t.Fatal(err)
		}
		plan := diagnose.PlanSetup(snap, r).Plan
		for k, v := range lifecyclePolicies(plan) {
			policies[k] = v
		}
	}
	// A template without a lifecycle policy, and cache repositories without one: the
	// no-lifecycle fix gives both one, and setup run again gives the template one.
	_, bare := account(t, `
rules: [{prefix: quay, upstream: quay}]
templates: [{prefix: quay, imageTagMutability: MUTABLE}]
upstreams: [{host: quay.io, repositories: [{name: org/app, tags: [{tag: v1}]}]}]
repositories:
  - {name: quay/org/app, images: [{tags: [v1], source: "quay.io/org/app:v1#0"}]}
`)
	bareSnap, bareFindings := diagnoseWith(t, bare, nil)
	for _, f := range bareFindings {
		for _, fix := range f.Fixes {
			for k, v := range lifecyclePolicies(fix.Plan) {
				policies["bare account: "+k] = v
			}
		}
	}
	for k, v := range lifecyclePolicies(diagnose.PlanSetup(bareSnap, diagnose.SetupRequest{Upstream: "quay", Prefix: "quay"}).Plan) {
		policies["bare account: "+k] = v
	}
	for _, want := range []string{"ecr:UpdateRepositoryCreationTemplate", "ecr:PutLifecyclePolicy", "Pull through cache for quay.io under quay/"} {
		found := false
		for k := range policies {
			found = found || strings.Contains(k, "bare account") && strings.Contains(k, want)
		}
		if !found {
			t.Errorf("no policy written by %s to check", want)
		}
	}
	if len(policies) < 4 || len(summaries) == 0 {
		t.Fatalf("only %d policies found to check: the demo no longer exercises the lifecycle fixes", len(policies))
	}
	for where, text := range policies {
		minLen := 0
		if strings.Contains(where, "lifecyclePolicyText") {
			minLen = 100
		}
		if p := lifecycleProblems(text, minLen); len(p) > 0 {
			t.Errorf("%s: %s\n%s", where, strings.Join(p, "; "), text)
		}
	}
	for _, s := range summaries {
		if !strings.Contains(s, "archive") || !strings.Contains(s, "404") {
			t.Errorf("the plan does not say what archiving means: %s", s)
		}
	}
	if err := (diagnose.SetupRequest{Upstream: "quay", Prefix: "quay-3", ArchivedDays: 30}).Validate(snap); err == nil || !strings.Contains(err.Error(), "90") {
		t.Errorf("30 days in the archive accepted: %v", err)
	}
}
