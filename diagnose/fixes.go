package diagnose

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/ptcdoctor/ptcdoctor/model"
)

// Plans that fixes share. Each step names the AWS call and its input, and what the
// account must still look like when it runs (Expect).

// Lifecycle is the lifecycle policy ptcdoctor gives cache repositories, in days. Real
// ECR takes sinceImagePulled only with a transition to the archive storage class (since
// November 2025), never with expire; so images nobody pulls are archived, and deleted
// once they have been archived long enough (90 days at least: the archive's minimum
// storage duration, below which ECR refuses the rule).
type Lifecycle struct {
	UntaggedDays int // expire untagged images pushed this many days ago
	UnpulledDays int // archive images not pulled for this many days
	ArchivedDays int // expire images archived this many days ago (90 at least)
}

// DefaultLifecycle is what fixes propose and what setup uses unless told otherwise.
var DefaultLifecycle = Lifecycle{UntaggedDays: 1, UnpulledDays: 90, ArchivedDays: 90}

// MinArchivedDays is the archive storage class's minimum storage duration: ECR refuses a
// lifecycle rule that expires images archived for fewer days.
const MinArchivedDays = 90

// Policy is the policy's JSON. Rules selecting one storage class are ordered as ECR
// requires: the rule with tagStatus "any" comes last among them.
func (l Lifecycle) Policy() string {
	p := map[string]any{"rules": []map[string]any{
		{"rulePriority": 1, "description": fmt.Sprintf("Expire untagged images after %d day(s)", l.UntaggedDays),
			"selection": map[string]any{"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": l.UntaggedDays},
			"action":    map[string]string{"type": "expire"}},
		{"rulePriority": 2, "description": fmt.Sprintf("Archive images not pulled for %d days", l.UnpulledDays),
			"selection": map[string]any{"tagStatus": "any", "countType": "sinceImagePulled", "countUnit": "days", "countNumber": l.UnpulledDays},
			"action":    map[string]string{"type": "transition", "targetStorageClass": "archive"}},
		{"rulePriority": 3, "description": fmt.Sprintf("Expire images archived for %d days", l.ArchivedDays),
			"selection": map[string]any{"tagStatus": "any", "storageClass": "archive", "countType": "sinceImageTransitioned", "countUnit": "days", "countNumber": l.ArchivedDays},
			"action":    map[string]string{"type": "expire"}},
	}}
	b, _ := json.Marshal(p)
	return string(b)
}

// Summary says what the policy does, and what archiving means for whoever pulls.
func (l Lifecycle) Summary() string {
	return fmt.Sprintf("expire untagged images after %d day(s); archive images not pulled for %d days "+
		"(a pull of an archived image fails with 404 until it is restored: aws ecr update-image-storage-class --target-storage-class STANDARD); "+
		"delete images archived for %d days", l.UntaggedDays, l.UnpulledDays, l.ArchivedDays)
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
			"encryptionType": "AES256", "lifecyclePolicy": DefaultLifecycle.Policy(),
			"description": "Pull through cache repositories under " + prefix + "/ (made by ptcdoctor)"},
		Summary: "Create a creation template for " + prefix + "/: mutable tags, AES256, and a lifecycle policy: " + DefaultLifecycle.Summary(),
		Expect:  map[string]string{"exists": "false"}}
}

// putLifecycleStep gives repo the policy (its text and summary, made once by the caller:
// a plan for a rule's many repositories shares one copy).
func putLifecycleStep(repo, policy, summary string) model.Step {
	return model.Step{Kind: model.StepPutLifecyclePolicy, Operation: "ecr:PutLifecyclePolicy", Target: repo,
		Params:  map[string]string{"repositoryName": repo, "lifecyclePolicyText": policy},
		Summary: "Give " + repo + " a lifecycle policy: " + summary,
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

// registryStatement grants a principal the pull-through actions on rules' repositories:
// one statement for all the prefixes of one plan, so that the plan is one put of the
// registry policy (a narrower window for another writer's put to land in between).
func registryStatement(principal, account, region string, prefixes ...string) string {
	var resources []string
	sid := "PullThroughCache"
	for _, prefix := range prefixes {
		resource := fmt.Sprintf("arn:aws:ecr:%s:%s:repository/%s/*", region, account, prefix)
		if prefix == "ROOT" {
			resource = fmt.Sprintf("arn:aws:ecr:%s:%s:repository/*", region, account)
		}
		resources = append(resources, resource)
		for _, word := range strings.FieldsFunc(prefix, func(r rune) bool { return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9') }) {
			sid += strings.ToUpper(word[:1]) + word[1:]
		}
	}
	if len(sid) > 100 {
		sid = sid[:100]
	}
	var resource any = resources
	if len(resources) == 1 {
		resource = resources[0]
	}
	b, _ := json.Marshal(map[string]any{"Sid": sid, "Effect": "Allow", "Principal": map[string]string{"AWS": principal},
		"Action": []string{"ecr:CreateRepository", "ecr:BatchImportUpstreamImage"}, "Resource": resource})
	return string(b)
}

// registryGrant is one registry policy statement granting a principal actions on the
// repositories of several rules (one statement, its resources listed, rather than one a
// rule). With the registry policy scope V2, ECR's default and since April 2026 its only
// one, a registry policy may grant any ECR action on the registry's repositories
// (https://docs.aws.amazon.com/AmazonECR/latest/userguide/registry-permissions-create.html).
func registryGrant(principal string, actions, resources []string) string {
	sid := "PullThroughCache"
	_, name, _ := strings.Cut(principal, "/")
	name = name[strings.LastIndex(name, "/")+1:]
	for _, word := range strings.FieldsFunc(strings.ToLower(name), func(r rune) bool { return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9') }) {
		sid += strings.ToUpper(word[:1]) + word[1:]
	}
	var resource any = resources
	if len(resources) == 1 {
		resource = resources[0]
	}
	b, _ := json.Marshal(map[string]any{"Sid": sid, "Effect": "Allow", "Principal": map[string]string{"AWS": principal},
		"Action": actions, "Resource": resource})
	return string(b)
}

// notOnARepository are the pull actions whose resource is not a repository: no registry
// or repository policy grants them; only the principal's identity policy does.
var notOnARepository = map[string]bool{"ecr:GetAuthorizationToken": true}

// iamPolicyFor is the identity policy that lets a principal pull through the cache:
// GetAuthorizationToken on "*" (it has no resource), the others on the rules' repositories.
func iamPolicyFor(actions, resources []string) string {
	var global, scoped []string
	for _, a := range actions {
		if notOnARepository[a] {
			global = append(global, a)
		} else {
			scoped = append(scoped, a)
		}
	}
	var stmts []map[string]any
	if len(global) > 0 {
		stmts = append(stmts, map[string]any{"Effect": "Allow", "Action": global, "Resource": "*"})
	}
	if len(scoped) > 0 {
		stmts = append(stmts, map[string]any{"Effect": "Allow", "Action": scoped, "Resource": resources})
	}
	b, _ := json.MarshalIndent(map[string]any{"Version": "2012-10-17", "Statement": stmts}, "", "  ")
	return string(b)
}
