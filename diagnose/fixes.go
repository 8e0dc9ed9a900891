package diagnose

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/ptcdoctor/ptcdoctor/model"
)

// Plans that fixes share. Each step names the AWS call and its input, and what the
// account must still look like when it runs (Expect).

// DefaultLifecyclePolicy expires untagged images after untaggedDays and images not
// pulled for notPulledDays: a cache that stops growing without bound.
func DefaultLifecyclePolicy(untaggedDays, notPulledDays int) string {
	p := map[string]any{"rules": []map[string]any{
		{"rulePriority": 1, "description": fmt.Sprintf("Expire untagged images after %d day(s)", untaggedDays),
			"selection": map[string]any{"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": untaggedDays},
			"action":    map[string]string{"type": "expire"}},
		{"rulePriority": 2, "description": fmt.Sprintf("Expire images not pulled for %d days", notPulledDays),
			"selection": map[string]any{"tagStatus": "any", "countType": "sinceImagePulled", "countUnit": "days", "countNumber": notPulledDays},
			"action":    map[string]string{"type": "expire"}},
	}}
	b, _ := json.Marshal(p)
	return string(b)
}

func warmStep(repo, tag string) model.Step {
	return model.Step{Kind: model.StepWarmReference, Operation: "registry:GetManifest (pull through, every platform)",
		Target: repo + ":" + tag, Params: map[string]string{"repositoryName": repo, "imageTag": tag},
		Summary: "Pull " + repo + ":" + tag + " through the cache, every platform"}
}

func deleteEmptyRepoStep(repo string) model.Step {
	return model.Step{Kind: model.StepDeleteEmptyRepository, Operation: "ecr:DeleteRepository", Target: repo,
		Params: map[string]string{"repositoryName": repo}, Summary: "Delete the empty repository " + repo + " (never one with images)",
		Expect: map[string]string{"exists": "true", "images": "0"}, Destructive: true}
}

func createTemplateStep(prefix string) model.Step {
	return model.Step{Kind: model.StepCreateTemplate, Operation: "ecr:CreateRepositoryCreationTemplate", Target: prefix,
		Params: map[string]string{"prefix": prefix, "appliedFor": "PULL_THROUGH_CACHE", "imageTagMutability": "MUTABLE",
			"encryptionType": "AES256", "lifecyclePolicy": DefaultLifecyclePolicy(1, 90),
			"description": "Pull through cache repositories under " + prefix + "/ (made by ptcdoctor)"},
		Summary: "Create a creation template for " + prefix + "/: mutable tags, AES256, expire untagged after 1 day and unpulled after 90",
		Expect:  map[string]string{"exists": "false"}}
}

func putLifecycleStep(repo string) model.Step {
	return model.Step{Kind: model.StepPutLifecyclePolicy, Operation: "ecr:PutLifecyclePolicy", Target: repo,
		Params:  map[string]string{"repositoryName": repo, "lifecyclePolicyText": DefaultLifecyclePolicy(1, 90)},
		Summary: "Give " + repo + " a lifecycle policy: expire untagged after 1 day, unpulled after 90",
		Expect:  map[string]string{"lifecyclePolicy": ""}}
}

func deleteTagStep(repo, tag, digest string) model.Step {
	return model.Step{Kind: model.StepDeleteCachedTag, Operation: "ecr:BatchDeleteImage", Target: repo + ":" + tag,
		Params: map[string]string{"repositoryName": repo, "imageTag": tag}, Summary: "Delete the cached tag " + repo + ":" + tag,
		Expect: map[string]string{"digest": digest}, Destructive: true}
}

func putSecretStep(arn, name string) model.Step {
	return model.Step{Kind: model.StepPutSecretValue, Operation: "secretsmanager:PutSecretValue", Target: arn,
		Params:  map[string]string{"secretId": arn},
		Summary: "Store new credentials in " + name + ` as {"username": ..., "accessToken": ...}`, NeedsSecretValue: true,
		Expect: map[string]string{"exists": "true"}}
}

// registryStatement grants a principal the pull-through actions on a rule's repositories.
func registryStatement(principal, account, region, prefix string) string {
	resource := fmt.Sprintf("arn:aws:ecr:%s:%s:repository/%s/*", region, account, prefix)
	if prefix == "ROOT" {
		resource = fmt.Sprintf("arn:aws:ecr:%s:%s:repository/*", region, account)
	}
	sid := "PullThroughCache"
	for _, word := range strings.FieldsFunc(prefix, func(r rune) bool { return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9') }) {
		sid += strings.ToUpper(word[:1]) + word[1:]
	}
	b, _ := json.Marshal(map[string]any{"Sid": sid, "Effect": "Allow", "Principal": map[string]string{"AWS": principal},
		"Action": []string{"ecr:CreateRepository", "ecr:BatchImportUpstreamImage"}, "Resource": resource})
	return string(b)
}

// iamPolicyFor is the identity policy that lets a principal pull through the cache.
func iamPolicyFor(actions, resources []string) string {
	b, _ := json.MarshalIndent(map[string]any{"Version": "2012-10-17", "Statement": []map[string]any{
		{"Effect": "Allow", "Action": actions, "Resource": resources}}}, "", "  ")
	return string(b)
}
