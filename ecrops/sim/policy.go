package sim

import (
	"encoding/json"
	"fmt"
	"strings"
)

// ECR checks the policies it is given before it stores them. These checks follow the
// lifecycle policy grammar and IAM's policy shape closely enough that a policy the
// stand-in accepts is one ECR would accept.

// checkLifecyclePolicy returns "" for a lifecycle policy ECR would accept, or why it would
// not. The rules are those of https://docs.aws.amazon.com/AmazonECR/latest/userguide/lifecycle_policy_parameters.html
// and https://docs.aws.amazon.com/AmazonECR/latest/userguide/LifecyclePolicies.html:
//   - rulePriority unique; among the rules of one storage class, a rule with tagStatus any
//     has the highest priority; one rule at most selects untagged images;
//   - tagged needs tagPrefixList or tagPatternList (one of them), untagged and any neither;
//     at most four wildcards in a pattern;
//   - countUnit "days" with the since* count types, none with imageCountMoreThan;
//   - storageClass standard (or none) with imageCountMoreThan, sinceImagePushed and
//     sinceImagePulled; archive, and required, with sinceImageTransitioned;
//   - action expire, or transition with targetStorageClass archive (from standard only);
//     sinceImagePulled only with transition (expire is refused since the archive class
//     came, November 2025), sinceImageTransitioned only with expire;
//   - images archived fewer than 90 days cannot be expired by a rule ("Archived images
//     have a minimum storage duration of 90 days. You cannot configure lifecycle policies
//     that delete images that have been in archive for less than 90 days",
//     https://docs.aws.amazon.com/AmazonECR/latest/userguide/archive-image.html);
//   - at most 50 rules (https://docs.aws.amazon.com/AmazonECR/latest/userguide/service-quotas.html).
//
// ECR checks a policy against a JSON schema and words a shape it does not know as the
// schema validator does ("instance failed to match exactly one schema (matched 0 out of
// 2)", https://github.com/cloudposse/terraform-aws-ecr/issues/158, for an action with a
// targetStorageClass it may not have); the other texts are the stand-in's.
func checkLifecyclePolicy(text string) string {
	dec := json.NewDecoder(strings.NewReader(text))
	dec.DisallowUnknownFields()
	var doc lifecyclePolicy
	if err := dec.Decode(&doc); err != nil {
		return "the policy does not match the lifecycle policy schema: " + err.Error()
	}
	if len(doc.Rules) == 0 {
		return "object has missing required properties ([\"rules\"])"
	}
	if len(doc.Rules) > 50 {
		return "a lifecycle policy has at most 50 rules"
	}
	seen := map[int]bool{}
	untagged := map[string]int{}
	anyTop := map[string]int{} // storage class -> priority of its tagStatus any rule
	top := map[string]int{}    // storage class -> highest priority
	for i, r := range doc.Rules {
		n := i + 1
		if r.RulePriority == nil || *r.RulePriority < 1 {
			return fmt.Sprintf("rule %d: rulePriority must be an integer of 1 or more", n)
		}
		p := *r.RulePriority
		if seen[p] {
			return fmt.Sprintf("rule %d: rulePriority %d is not unique; each rule needs its own", n, p)
		}
		seen[p] = true
		if r.Selection == nil || r.Action == nil {
			return fmt.Sprintf("rule %d: object has missing required properties ([\"action\",\"rulePriority\",\"selection\"])", n)
		}
		if why := checkLifecycleRule(r); why != "" {
			return fmt.Sprintf("rule %d: %s", n, why)
		}
		class := orDefault(r.Selection.StorageClass, "standard")
		top[class] = max(top[class], p)
		switch r.Selection.TagStatus {
		case "untagged":
			untagged[class]++
			if untagged[class] > 1 {
				return fmt.Sprintf("rule %d: only one rule may select untagged images of the %s storage class", n, class)
			}
		case "any":
			anyTop[class] = max(anyTop[class], p)
		}
	}
	for class, p := range anyTop {
		if p < top[class] {
			return fmt.Sprintf("the rule with tagStatus any (rulePriority %d) must have the highest rulePriority among the rules of the %s storage class", p, class)
		}
	}
	return ""
}

// checkLifecycleRule checks one rule's selection and action against each other.
func checkLifecycleRule(r lifecycleRule) string {
	s, a := r.Selection, r.Action
	switch s.TagStatus {
	case "tagged":
		if (len(s.TagPrefixList) == 0) == (len(s.TagPatternList) == 0) {
			return "tagStatus tagged needs one of tagPrefixList and tagPatternList"
		}
		for _, p := range s.TagPatternList {
			if strings.Count(p, "*") > 4 {
				return fmt.Sprintf("the tag pattern %q has more than 4 wildcards", p)
			}
		}
	case "untagged", "any":
		if len(s.TagPrefixList) > 0 || len(s.TagPatternList) > 0 {
			return "tagPrefixList and tagPatternList go only with tagStatus tagged"
		}
	default:
		return "instance value not found in enum (possible values: [\"tagged\",\"untagged\",\"any\"])"
	}
	if s.CountNumber == nil || *s.CountNumber < 1 {
		return "countNumber must be an integer of 1 or more"
	}
	if s.StorageClass != "" && s.StorageClass != "standard" && s.StorageClass != "archive" {
		return "storageClass must be standard or archive"
	}
	switch s.CountType {
	case "imageCountMoreThan":
		if s.CountUnit != "" {
			return "instance failed to match exactly one schema (matched 0 out of 4): countUnit is not allowed with imageCountMoreThan"
		}
	case "sinceImagePushed", "sinceImagePulled", "sinceImageTransitioned":
		if s.CountUnit != "days" {
			return fmt.Sprintf("instance failed to match exactly one schema (matched 0 out of 4): countUnit days is required with %s", s.CountType)
		}
	default:
		return "instance failed to match exactly one schema (matched 0 out of 4): countType must be imageCountMoreThan, sinceImagePushed, sinceImagePulled or sinceImageTransitioned"
	}
	archive := s.StorageClass == "archive"
	if s.CountType == "sinceImageTransitioned" && !archive {
		return "sinceImageTransitioned selects archived images: storageClass archive is required"
	}
	if s.CountType != "sinceImageTransitioned" && archive {
		return fmt.Sprintf("%s selects images of the standard storage class only", s.CountType)
	}
	switch a.Type {
	case "expire":
		if a.TargetStorageClass != "" {
			return "instance failed to match exactly one schema (matched 0 out of 2): targetStorageClass goes only with a transition"
		}
		if s.CountType == "sinceImagePulled" {
			return "sinceImagePulled can only be used with a transition to the archive storage class, not with expire"
		}
		if s.CountType == "sinceImageTransitioned" && *s.CountNumber < 90 {
			return fmt.Sprintf("images archived for %d days cannot be expired: archived images have a minimum storage duration of 90 days", *s.CountNumber)
		}
	case "transition":
		if a.TargetStorageClass != "archive" {
			return "instance failed to match exactly one schema (matched 0 out of 2): a transition needs targetStorageClass archive"
		}
		if archive {
			return "a transition moves images of the standard storage class to archive; it cannot select archived images"
		}
	default:
		return "instance failed to match exactly one schema (matched 0 out of 2): action type must be expire or transition"
	}
	return ""
}

// checkPolicyDocument returns "" for an IAM-shaped policy document, or why it is not one.
func checkPolicyDocument(text string) string {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal([]byte(text), &doc); err != nil {
		return "the policy is not a JSON object"
	}
	raw, ok := doc["Statement"]
	if !ok {
		return "the policy has no Statement"
	}
	var stmts []map[string]any
	if err := json.Unmarshal(raw, &stmts); err != nil {
		var one map[string]any
		if err := json.Unmarshal(raw, &one); err != nil {
			return "Statement must be an object or a list of objects"
		}
		stmts = []map[string]any{one}
	}
	for i, st := range stmts {
		if e := st["Effect"]; e != "Allow" && e != "Deny" {
			return fmt.Sprintf("statement %d: Effect must be Allow or Deny", i+1)
		}
		if st["Action"] == nil && st["NotAction"] == nil {
			return fmt.Sprintf("statement %d: Action is required", i+1)
		}
	}
	return ""
}
