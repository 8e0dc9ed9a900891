package ecrops

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/ptcdoctor/ptcdoctor/model"
)

// Each repair step is one AWS write with the read that comes before it: read returns the
// state the step changes (checked against the plan's Expect, and journaled as Before;
// read again after the write, journaled as After), write makes the call, inverse builds
// the step that undoes it from those two states (after is nil when it could not be
// read). Apply makes the inverse expect After, so that an undo over later changes is
// refused.
type stepImpl struct {
	read    func(ctx context.Context, a *Account, s model.Step) (map[string]string, error)
	write   func(ctx context.Context, a *Account, s model.Step, secret string) (middleware.Metadata, error)
	inverse func(s model.Step, before, after map[string]string) *model.Step
	// check refuses a write whatever the plan expected (a non-empty repository, say).
	check func(s model.Step, now map[string]string) error
}

var stepImpls = map[model.StepKind]stepImpl{
	model.StepCreateRule:                    {read: readRule, write: createRule, inverse: invertCreateRule},
	model.StepUpdateRule:                    {read: readRule, write: updateRule, inverse: invertUpdateRule},
	model.StepDeleteRule:                    {read: readRule, write: deleteRule, inverse: invertDeleteRule},
	model.StepCreateSecret:                  {read: readSecret, write: createSecret},
	model.StepPutSecretValue:                {read: readSecret, write: putSecretValue},
	model.StepCreateTemplate:                {read: readTemplate, write: createTemplate, inverse: invertCreateTemplate},
	model.StepUpdateTemplate:                {read: readTemplate, write: updateTemplate, inverse: invertUpdateTemplate},
	model.StepDeleteTemplate:                {read: readTemplate, write: deleteTemplate, inverse: invertDeleteTemplate},
	model.StepPutLifecyclePolicy:            {read: readLifecycle, write: putLifecycle, inverse: invertLifecycle},
	model.StepDeleteLifecyclePolicy:         {read: readLifecycle, write: deleteLifecycle, inverse: invertLifecycle},
	model.StepDeleteEmptyRepository:         {read: readRepository, write: deleteEmptyRepository, check: mustBeEmpty},
	model.StepDeleteRepository:              {read: readRepository, write: deleteRepository},
	model.StepDeleteCachedTag:               {read: readTag, write: deleteTag, check: mustBeTheFindingsImage},
	model.StepWarmReference:                 {read: noState, write: warm},
	model.StepAddRegistryPolicyStatement:    {read: readRegistryPolicy, write: addStatement, inverse: invertAddStatement},
	model.StepRemoveRegistryPolicyStatement: {read: readRegistryPolicy, write: removeStatement, inverse: invertRemoveStatement},
	model.StepPutRegistryPolicy:             {read: readRegistryPolicy, write: putRegistryPolicy, inverse: invertRegistryPolicy},
	model.StepDeleteRegistryPolicy:          {read: readRegistryPolicy, write: deleteRegistryPolicy, inverse: invertRegistryPolicy},
}

// requestID is the request id of a write's answer, made safe: it comes from a response
// header, and is shown and journaled.
func requestID(md middleware.Metadata) string {
	id, _ := awsmiddleware.GetRequestIDMetadata(md)
	return model.Printable(id)
}

func noState(context.Context, *Account, model.Step) (map[string]string, error) { return nil, nil }

func optional(v string) *string {
	if v == "" {
		return nil
	}
	return aws.String(v)
}

// --- rules ---

func readRule(ctx context.Context, a *Account, s model.Step) (map[string]string, error) {
	out, err := a.ecr.DescribePullThroughCacheRules(ctx, &ecr.DescribePullThroughCacheRulesInput{EcrRepositoryPrefixes: []string{s.Target}})
	var nf *ecrtypes.PullThroughCacheRuleNotFoundException
	if errors.As(err, &nf) {
		return map[string]string{"exists": "false"}, nil
	}
	if err != nil || len(out.PullThroughCacheRules) == 0 {
		return nil, err
	}
	r := out.PullThroughCacheRules[0]
	return map[string]string{"exists": "true", "upstreamRegistryUrl": aws.ToString(r.UpstreamRegistryUrl),
		"upstreamRegistry": string(r.UpstreamRegistry), "credentialArn": aws.ToString(r.CredentialArn),
		"customRoleArn": aws.ToString(r.CustomRoleArn), "upstreamRepositoryPrefix": aws.ToString(r.UpstreamRepositoryPrefix)}, nil
}

// credentialArn is the step's credentialArn, or the ARN of the secret it names by name
// (a secret that an earlier step of the same plan created, whose ARN AWS chose then).
func credentialArn(ctx context.Context, a *Account, s model.Step) (string, error) {
	if name := s.Param("credentialSecretName"); name != "" {
		out, err := a.sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(name)})
		if err != nil {
			return "", fmt.Errorf("the secret %s: %w", name, err)
		}
		return aws.ToString(out.ARN), nil
	}
	return s.Param("credentialArn"), nil
}

func createRule(ctx context.Context, a *Account, s model.Step, _ string) (middleware.Metadata, error) {
	cred, err := credentialArn(ctx, a, s)
	if err != nil {
		return middleware.Metadata{}, err
	}
	in := &ecr.CreatePullThroughCacheRuleInput{EcrRepositoryPrefix: aws.String(s.Target),
		UpstreamRegistryUrl: aws.String(s.Param("upstreamRegistryUrl")), CredentialArn: optional(cred),
		CustomRoleArn: optional(s.Param("customRoleArn")), UpstreamRepositoryPrefix: optional(s.Param("upstreamRepositoryPrefix"))}
	if u := s.Param("upstreamRegistry"); u != "" {
		in.UpstreamRegistry = ecrtypes.UpstreamRegistry(u)
	}
	out, err := a.ecr.CreatePullThroughCacheRule(ctx, in)
	if err != nil {
		return middleware.Metadata{}, err
	}
	return out.ResultMetadata, nil
}

func updateRule(ctx context.Context, a *Account, s model.Step, _ string) (middleware.Metadata, error) {
	cred, err := credentialArn(ctx, a, s)
	if err != nil {
		return middleware.Metadata{}, err
	}
	in := &ecr.UpdatePullThroughCacheRuleInput{EcrRepositoryPrefix: aws.String(s.Target),
		CredentialArn: optional(cred), CustomRoleArn: optional(s.Param("customRoleArn"))}
	out, err := a.ecr.UpdatePullThroughCacheRule(ctx, in)
	if err != nil {
		return middleware.Metadata{}, err
	}
	return out.ResultMetadata, nil
}

func deleteRule(ctx context.Context, a *Account, s model.Step, _ string) (middleware.Metadata, error) {
	out, err := a.ecr.DeletePullThroughCacheRule(ctx, &ecr.DeletePullThroughCacheRuleInput{EcrRepositoryPrefix: aws.String(s.Target)})
	if err != nil {
		return middleware.Metadata{}, err
	}
	return out.ResultMetadata, nil
}

func invertCreateRule(s model.Step, _, _ map[string]string) *model.Step {
	return &model.Step{Kind: model.StepDeleteRule, Operation: "ecr:DeletePullThroughCacheRule", Target: s.Target,
		Params: map[string]string{"ecrRepositoryPrefix": s.Target}, Summary: "Delete the rule " + s.Target + " again", Destructive: true,
		Expect: map[string]string{"exists": "true"}}
}

func invertUpdateRule(s model.Step, before, _ map[string]string) *model.Step {
	p := map[string]string{"ecrRepositoryPrefix": s.Target}
	for _, k := range []string{"credentialArn", "customRoleArn"} {
		if v := before[k]; v != "" {
			p[k] = v
		}
	}
	return &model.Step{Kind: model.StepUpdateRule, Operation: "ecr:UpdatePullThroughCacheRule", Target: s.Target, Params: p,
		Summary: "Put the rule's credentials back", Expect: map[string]string{"exists": "true"}}
}

func invertDeleteRule(s model.Step, before, _ map[string]string) *model.Step {
	p := map[string]string{"ecrRepositoryPrefix": s.Target}
	for _, k := range []string{"upstreamRegistryUrl", "upstreamRegistry", "credentialArn", "customRoleArn", "upstreamRepositoryPrefix"} {
		if v := before[k]; v != "" {
			p[k] = v
		}
	}
	return &model.Step{Kind: model.StepCreateRule, Operation: "ecr:CreatePullThroughCacheRule", Target: s.Target, Params: p,
		Summary: "Create the rule " + s.Target + " again", Expect: map[string]string{"exists": "false"}}
}

// --- secrets ---

func readSecret(ctx context.Context, a *Account, s model.Step) (map[string]string, error) {
	out, err := a.sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(s.Target)})
	var nf *smtypes.ResourceNotFoundException
	if errors.As(err, &nf) {
		return map[string]string{"exists": "false"}, nil
	}
	if err != nil {
		return nil, err
	}
	return map[string]string{"exists": "true", "arn": aws.ToString(out.ARN), "kmsKeyId": aws.ToString(out.KmsKeyId)}, nil
}

func createSecret(ctx context.Context, a *Account, s model.Step, secret string) (middleware.Metadata, error) {
	if secret == "" {
		return middleware.Metadata{}, fmt.Errorf("no value given for the secret %s", s.Target)
	}
	out, err := a.sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(s.Target), SecretString: aws.String(secret),
		Description: optional(s.Param("description"))})
	if err != nil {
		return middleware.Metadata{}, err
	}
	return out.ResultMetadata, nil
}

func putSecretValue(ctx context.Context, a *Account, s model.Step, secret string) (middleware.Metadata, error) {
	if secret == "" {
		return middleware.Metadata{}, fmt.Errorf("no value given for the secret %s", s.Target)
	}
	out, err := a.sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(s.Target), SecretString: aws.String(secret)})
	if err != nil {
		return middleware.Metadata{}, err
	}
	return out.ResultMetadata, nil
}

// --- creation templates ---

func readTemplate(ctx context.Context, a *Account, s model.Step) (map[string]string, error) {
	out, err := a.ecr.DescribeRepositoryCreationTemplates(ctx, &ecr.DescribeRepositoryCreationTemplatesInput{Prefixes: []string{s.Target}})
	if err != nil {
		return nil, err
	}
	for _, t := range out.RepositoryCreationTemplates {
		if aws.ToString(t.Prefix) != s.Target {
			continue
		}
		st := map[string]string{"exists": "true", "imageTagMutability": string(t.ImageTagMutability),
			"lifecyclePolicy": aws.ToString(t.LifecyclePolicy), "repositoryPolicy": aws.ToString(t.RepositoryPolicy),
			"customRoleArn": aws.ToString(t.CustomRoleArn), "description": aws.ToString(t.Description)}
		var af []string
		for _, x := range t.AppliedFor {
			af = append(af, string(x))
		}
		st["appliedFor"] = strings.Join(af, ",")
		if e := t.EncryptionConfiguration; e != nil {
			st["encryptionType"], st["kmsKey"] = string(e.EncryptionType), aws.ToString(e.KmsKey)
		}
		tags := map[string]string{}
		for _, tg := range t.ResourceTags {
			tags[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
		}
		b, _ := json.Marshal(tags)
		st["resourceTags"] = string(b)
		return st, nil
	}
	return map[string]string{"exists": "false"}, nil
}

// templateFields turns a step's params into the template's members; an absent param
// leaves the member alone on update.
func templateFields(s model.Step) (appliedFor []ecrtypes.RCTAppliedFor, enc *ecrtypes.EncryptionConfigurationForRepositoryCreationTemplate, tags []ecrtypes.Tag, err error) {
	if v, ok := s.Params["appliedFor"]; ok && v != "" {
		for _, x := range strings.Split(v, ",") {
			appliedFor = append(appliedFor, ecrtypes.RCTAppliedFor(strings.TrimSpace(x)))
		}
	}
	if v := s.Param("encryptionType"); v != "" {
		enc = &ecrtypes.EncryptionConfigurationForRepositoryCreationTemplate{EncryptionType: ecrtypes.EncryptionType(v), KmsKey: optional(s.Param("kmsKey"))}
	}
	if v, ok := s.Params["resourceTags"]; ok {
		m := map[string]string{}
		if v != "" {
			if err := json.Unmarshal([]byte(v), &m); err != nil {
				return nil, nil, nil, fmt.Errorf("resourceTags: %w", err)
			}
		}
		tags = []ecrtypes.Tag{}
		for _, k := range sortedKeys(m) {
			tags = append(tags, ecrtypes.Tag{Key: aws.String(k), Value: aws.String(m[k])})
		}
	}
	return appliedFor, enc, tags, nil
}

func createTemplate(ctx context.Context, a *Account, s model.Step, _ string) (middleware.Metadata, error) {
	af, enc, tags, err := templateFields(s)
	if err != nil {
		return middleware.Metadata{}, err
	}
	if len(af) == 0 {
		af = []ecrtypes.RCTAppliedFor{ecrtypes.RCTAppliedForPullThroughCache}
	}
	in := &ecr.CreateRepositoryCreationTemplateInput{Prefix: aws.String(s.Target), AppliedFor: af, EncryptionConfiguration: enc,
		ResourceTags: tags, ImageTagMutability: ecrtypes.ImageTagMutability(s.Param("imageTagMutability")),
		LifecyclePolicy: optional(s.Param("lifecyclePolicy")), RepositoryPolicy: optional(s.Param("repositoryPolicy")),
		CustomRoleArn: optional(s.Param("customRoleArn")), Description: optional(s.Param("description"))}
	out, err := a.ecr.CreateRepositoryCreationTemplate(ctx, in)
	if err != nil {
		return middleware.Metadata{}, err
	}
	return out.ResultMetadata, nil
}

func updateTemplate(ctx context.Context, a *Account, s model.Step, _ string) (middleware.Metadata, error) {
	af, enc, tags, err := templateFields(s)
	if err != nil {
		return middleware.Metadata{}, err
	}
	in := &ecr.UpdateRepositoryCreationTemplateInput{Prefix: aws.String(s.Target), AppliedFor: af, EncryptionConfiguration: enc,
		ResourceTags: tags, ImageTagMutability: ecrtypes.ImageTagMutability(s.Param("imageTagMutability"))}
	if v, ok := s.Params["lifecyclePolicy"]; ok {
		in.LifecyclePolicy = aws.String(v)
	}
	if v, ok := s.Params["repositoryPolicy"]; ok {
		in.RepositoryPolicy = aws.String(v)
	}
	if v, ok := s.Params["customRoleArn"]; ok {
		in.CustomRoleArn = aws.String(v)
	}
	if v, ok := s.Params["description"]; ok {
		in.Description = aws.String(v)
	}
	out, err := a.ecr.UpdateRepositoryCreationTemplate(ctx, in)
	if err != nil {
		return middleware.Metadata{}, err
	}
	return out.ResultMetadata, nil
}

func deleteTemplate(ctx context.Context, a *Account, s model.Step, _ string) (middleware.Metadata, error) {
	out, err := a.ecr.DeleteRepositoryCreationTemplate(ctx, &ecr.DeleteRepositoryCreationTemplateInput{Prefix: aws.String(s.Target)})
	if err != nil {
		return middleware.Metadata{}, err
	}
	return out.ResultMetadata, nil
}

func invertCreateTemplate(s model.Step, _, _ map[string]string) *model.Step {
	return &model.Step{Kind: model.StepDeleteTemplate, Operation: "ecr:DeleteRepositoryCreationTemplate", Target: s.Target,
		Params: map[string]string{"prefix": s.Target}, Summary: "Delete the template " + s.Target + " again", Destructive: true,
		Expect: map[string]string{"exists": "true"}}
}

// templateParams are the members a template's state holds, for putting it back.
var templateParams = []string{"appliedFor", "imageTagMutability", "lifecyclePolicy", "repositoryPolicy", "customRoleArn", "description", "encryptionType", "kmsKey", "resourceTags"}

func invertUpdateTemplate(s model.Step, before, _ map[string]string) *model.Step {
	p := map[string]string{}
	for k := range s.Params {
		if contains(templateParams, k) {
			p[k] = before[k]
		}
	}
	p["prefix"] = s.Target
	return &model.Step{Kind: model.StepUpdateTemplate, Operation: "ecr:UpdateRepositoryCreationTemplate", Target: s.Target, Params: p,
		Summary: "Put the template " + s.Target + " back as it was", Expect: map[string]string{"exists": "true"}}
}

func invertDeleteTemplate(s model.Step, before, _ map[string]string) *model.Step {
	p := map[string]string{"prefix": s.Target}
	for _, k := range templateParams {
		if v := before[k]; v != "" && v != "{}" {
			p[k] = v
		}
	}
	return &model.Step{Kind: model.StepCreateTemplate, Operation: "ecr:CreateRepositoryCreationTemplate", Target: s.Target, Params: p,
		Summary: "Create the template " + s.Target + " again", Expect: map[string]string{"exists": "false"}}
}

// --- lifecycle policies ---

func readLifecycle(ctx context.Context, a *Account, s model.Step) (map[string]string, error) {
	out, err := a.ecr.GetLifecyclePolicy(ctx, &ecr.GetLifecyclePolicyInput{RepositoryName: aws.String(s.Target)})
	var nf *ecrtypes.LifecyclePolicyNotFoundException
	if errors.As(err, &nf) {
		return map[string]string{"lifecyclePolicy": ""}, nil
	}
	if err != nil {
		return nil, err
	}
	return map[string]string{"lifecyclePolicy": aws.ToString(out.LifecyclePolicyText)}, nil
}

func putLifecycle(ctx context.Context, a *Account, s model.Step, _ string) (middleware.Metadata, error) {
	out, err := a.ecr.PutLifecyclePolicy(ctx, &ecr.PutLifecyclePolicyInput{RepositoryName: aws.String(s.Target),
		LifecyclePolicyText: aws.String(s.Param("lifecyclePolicyText"))})
	if err != nil {
		return middleware.Metadata{}, err
	}
	return out.ResultMetadata, nil
}

func deleteLifecycle(ctx context.Context, a *Account, s model.Step, _ string) (middleware.Metadata, error) {
	out, err := a.ecr.DeleteLifecyclePolicy(ctx, &ecr.DeleteLifecyclePolicyInput{RepositoryName: aws.String(s.Target)})
	if err != nil {
		return middleware.Metadata{}, err
	}
	return out.ResultMetadata, nil
}

func invertLifecycle(s model.Step, before, _ map[string]string) *model.Step {
	if before["lifecyclePolicy"] == "" {
		return &model.Step{Kind: model.StepDeleteLifecyclePolicy, Operation: "ecr:DeleteLifecyclePolicy", Target: s.Target,
			Params: map[string]string{"repositoryName": s.Target}, Summary: "Remove the lifecycle policy of " + s.Target + " again", Destructive: true}
	}
	return &model.Step{Kind: model.StepPutLifecyclePolicy, Operation: "ecr:PutLifecyclePolicy", Target: s.Target,
		Params:  map[string]string{"repositoryName": s.Target, "lifecyclePolicyText": before["lifecyclePolicy"]},
		Summary: "Put the former lifecycle policy of " + s.Target + " back"}
}

// --- repositories and tags ---

func readRepository(ctx context.Context, a *Account, s model.Step) (map[string]string, error) {
	out, err := a.ecr.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String(s.Target), MaxResults: aws.Int32(1)})
	var nf *ecrtypes.RepositoryNotFoundException
	if errors.As(err, &nf) {
		return map[string]string{"exists": "false"}, nil
	}
	if err != nil {
		return nil, err
	}
	images := "0"
	if len(out.ImageDetails) > 0 {
		images = "1+"
	}
	return map[string]string{"exists": "true", "images": images}, nil
}

func mustBeEmpty(s model.Step, now map[string]string) error {
	if now["exists"] == "true" && now["images"] != "0" {
		return fmt.Errorf("%s holds images now: ptcdoctor deletes only empty repositories", s.Target)
	}
	return nil
}

func deleteEmptyRepository(ctx context.Context, a *Account, s model.Step, _ string) (middleware.Metadata, error) {
	// No force: ECR itself refuses to delete a repository that holds images.
	out, err := a.ecr.DeleteRepository(ctx, &ecr.DeleteRepositoryInput{RepositoryName: aws.String(s.Target)})
	if err != nil {
		return middleware.Metadata{}, err
	}
	return out.ResultMetadata, nil
}

// deleteRepository deletes a repository with its images (force): only ever in a plan that
// the person confirmed by typing the repository's name.
func deleteRepository(ctx context.Context, a *Account, s model.Step, _ string) (middleware.Metadata, error) {
	out, err := a.ecr.DeleteRepository(ctx, &ecr.DeleteRepositoryInput{RepositoryName: aws.String(s.Target), Force: true})
	if err != nil {
		return middleware.Metadata{}, err
	}
	return out.ResultMetadata, nil
}

// readTag reads which image a tag names now (digest "" when the tag or its repository
// is gone).
func readTag(ctx context.Context, a *Account, s model.Step) (map[string]string, error) {
	out, err := a.ecr.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String(s.Param("repositoryName")),
		ImageIds: []ecrtypes.ImageIdentifier{{ImageTag: aws.String(s.Param("imageTag"))}}})
	var nf *ecrtypes.ImageNotFoundException
	var rnf *ecrtypes.RepositoryNotFoundException
	if errors.As(err, &nf) || errors.As(err, &rnf) {
		return map[string]string{"digest": ""}, nil
	}
	if err != nil {
		return nil, err
	}
	if len(out.ImageDetails) == 0 {
		return nil, fmt.Errorf("DescribeImages answered no image for the tag %s", model.Printable(s.Param("imageTag")))
	}
	return map[string]string{"digest": aws.ToString(out.ImageDetails[0].ImageDigest)}, nil
}

// mustBeTheFindingsImage refuses to delete a tag that names another image than the one
// the finding was about, whatever the plan was forced past: the tag moved (ECR re-imported
// it at a pull, or someone pushed), and deleting it now would delete the new image.
func mustBeTheFindingsImage(s model.Step, now map[string]string) error {
	if want := s.Expect["digest"]; now["digest"] != want {
		return fmt.Errorf("the tag names %s now, not %s (the image the finding was about): ptcdoctor deletes a tag only while it names that image",
			orNone(short(now["digest"])), orNone(short(want)))
	}
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "no image"
	}
	return s
}

// deleteTag deletes one cached tag, only while it names the image the finding was about.
//
// BatchDeleteImage by tag deletes whatever the tag names when the call lands, and a tag
// can move between the step's check and the call (a pull after ECR's 24-hour check
// re-imports it; the step's check also asks the upstream, which takes a while). AWS
// documents an ImageIdentifier as "imageTag or imageDigest"; what BatchDeleteImage does
// with both is not documented: the API model lists an ImageTagDoesNotMatchDigest failure
// code, but no page says that the delete honours the pair, nor whether the pair removes
// the tag alone or the image with all its other tags. So the call carries the tag alone,
// and the tag's digest is read again just before it; a tag that moved is refused.
//
// The window that remains is one round trip: between DescribeImages' answer and ECR
// carrying out the delete, a pull that re-imports the tag would still lose its new image
// (the plan's next step pulls the tag again, which re-imports it once more).
func deleteTag(ctx context.Context, a *Account, s model.Step, _ string) (middleware.Metadata, error) {
	now, err := readTag(ctx, a, s)
	if err != nil {
		return middleware.Metadata{}, fmt.Errorf("reading the tag again just before deleting it: %w", err)
	}
	if err := mustBeTheFindingsImage(s, now); err != nil {
		return middleware.Metadata{}, &PreconditionError{Step: s, Refusal: err}
	}
	out, err := a.ecr.BatchDeleteImage(ctx, &ecr.BatchDeleteImageInput{RepositoryName: aws.String(s.Param("repositoryName")),
		ImageIds: []ecrtypes.ImageIdentifier{{ImageTag: aws.String(s.Param("imageTag"))}}})
	if err != nil {
		return middleware.Metadata{}, err
	}
	if len(out.Failures) > 0 {
		f := out.Failures[0]
		return out.ResultMetadata, fmt.Errorf("%s: %s", f.FailureCode, aws.ToString(f.FailureReason))
	}
	return out.ResultMetadata, nil
}

// --- the registry policy ---

func readRegistryPolicy(ctx context.Context, a *Account, _ model.Step) (map[string]string, error) {
	out, err := a.ecr.GetRegistryPolicy(ctx, &ecr.GetRegistryPolicyInput{})
	var nf *ecrtypes.RegistryPolicyNotFoundException
	if errors.As(err, &nf) {
		return map[string]string{"policy": ""}, nil
	}
	if err != nil {
		return nil, err
	}
	return map[string]string{"policy": aws.ToString(out.PolicyText)}, nil
}

// addStatement merges one statement into the registry policy: what is there stays; a
// statement already there is not added twice; a Sid already taken gets a new one.
func addStatement(ctx context.Context, a *Account, s model.Step, _ string) (middleware.Metadata, error) {
	return a.changeRegistryPolicy(ctx, func(policy string) (string, error) { return MergeStatement(policy, s.Param("statement")) })
}

// removeStatement takes one statement out of the registry policy, leaving the others.
func removeStatement(ctx context.Context, a *Account, s model.Step, _ string) (middleware.Metadata, error) {
	return a.changeRegistryPolicy(ctx, func(policy string) (string, error) { return RemoveStatement(policy, s.Param("statement")) })
}

// testHookPolicyRead, when set by a test, runs between the first read of the policy and
// the read that compares: where another writer's put would fall.
var testHookPolicyRead func()

// registryPolicyAttempts bounds the merges of one change while others keep writing.
const registryPolicyAttempts = 5

// changeRegistryPolicy is read, change, compare, put, verify. ECR's PutRegistryPolicy
// replaces the whole policy and takes no condition, so a statement merged into a policy
// read a moment ago could erase one that another writer put in between. The policy is
// read again just before the put, and the change is made again on what is there when it
// moved; after the put it is read once more, and when a later put dropped what this one
// wrote, the change is made again on that. Runs on one machine also hold the write lock.
// A change that leaves no statement deletes the policy (ECR refuses an empty one).
func (a *Account) changeRegistryPolicy(ctx context.Context, change func(string) (string, error)) (middleware.Metadata, error) {
	s := model.Step{}
	for attempt := 0; attempt < registryPolicyAttempts; attempt++ {
		now, err := readRegistryPolicy(ctx, a, s)
		if err != nil {
			return middleware.Metadata{}, err
		}
		if testHookPolicyRead != nil {
			testHookPolicyRead()
		}
		changed, err := change(now["policy"])
		if err != nil {
			return middleware.Metadata{}, err
		}
		if samePolicy(changed, now["policy"]) || changed == now["policy"] {
			return middleware.Metadata{}, nil // already as wanted: nothing to write
		}
		again, err := readRegistryPolicy(ctx, a, s)
		if err != nil {
			return middleware.Metadata{}, err
		}
		if !sameValue(again["policy"], now["policy"]) {
			continue // it moved between the read and now: change what is there
		}
		var md middleware.Metadata
		if len(statements(changed)) == 0 {
			out, err := a.ecr.DeleteRegistryPolicy(ctx, &ecr.DeleteRegistryPolicyInput{})
			if err != nil {
				return middleware.Metadata{}, err
			}
			md = out.ResultMetadata
		} else {
			out, err := a.ecr.PutRegistryPolicy(ctx, &ecr.PutRegistryPolicyInput{PolicyText: aws.String(changed)})
			if err != nil {
				return middleware.Metadata{}, err
			}
			md = out.ResultMetadata
		}
		after, err := readRegistryPolicy(ctx, a, s)
		if err != nil {
			return md, err
		}
		if sameValue(after["policy"], changed) {
			return md, nil
		}
		if redo, err := change(after["policy"]); err == nil && samePolicy(redo, after["policy"]) {
			return md, nil // another writer came after, and kept what this change wanted
		}
	}
	return middleware.Metadata{}, fmt.Errorf("the registry policy kept changing while ptcdoctor merged into it (%d attempts); run the fix again", registryPolicyAttempts)
}

// statements are a policy's statements, each as compact JSON (nil for none, or not JSON).
func statements(policy string) []string {
	var doc map[string]any
	if policy == "" || json.Unmarshal([]byte(policy), &doc) != nil {
		return nil
	}
	var list []any
	switch st := doc["Statement"].(type) {
	case []any:
		list = st
	case map[string]any:
		list = []any{st}
	}
	var out []string
	for _, x := range list {
		b, _ := json.Marshal(x)
		out = append(out, string(b))
	}
	return out
}

// statementChanges lists the statements one policy has and the other lacks; ok is
// false when either is not a policy document.
func statementChanges(was, is string) (added, removed []string, ok bool) {
	isPolicy := func(p string) bool {
		var doc map[string]any
		return p == "" || json.Unmarshal([]byte(p), &doc) == nil && doc["Statement"] != nil
	}
	if was+is == "" || !isPolicy(was) || !isPolicy(is) {
		return nil, nil, false
	}
	old, cur := statements(was), statements(is)
	for _, x := range cur {
		if !contains(old, x) {
			added = append(added, x)
		}
	}
	for _, x := range old {
		if !contains(cur, x) {
			removed = append(removed, x)
		}
	}
	return added, removed, true
}

// RemoveStatement takes a statement (JSON) out of a policy document; a statement that
// is not there leaves the policy as it is.
func RemoveStatement(policy, statement string) (string, error) {
	var want any
	if err := json.Unmarshal([]byte(statement), &want); err != nil {
		return "", fmt.Errorf("the statement is not JSON: %w", err)
	}
	if policy == "" {
		return "", nil
	}
	doc := map[string]any{}
	if err := json.Unmarshal([]byte(policy), &doc); err != nil {
		return "", fmt.Errorf("the registry policy in place is not JSON: %w", err)
	}
	wantJSON, _ := json.Marshal(want)
	var kept []any
	for _, x := range statements(policy) {
		if x == string(wantJSON) {
			continue
		}
		var v any
		json.Unmarshal([]byte(x), &v)
		kept = append(kept, v)
	}
	doc["Statement"] = kept
	out, err := json.Marshal(doc)
	return string(out), err
}

// MergeStatement adds a statement (JSON) to a policy document (JSON, or "" for none).
func MergeStatement(policy, statement string) (string, error) {
	var stmt map[string]any
	if err := json.Unmarshal([]byte(statement), &stmt); err != nil {
		return "", fmt.Errorf("the statement is not JSON: %w", err)
	}
	doc := map[string]any{"Version": "2012-10-17"}
	if policy != "" {
		if err := json.Unmarshal([]byte(policy), &doc); err != nil {
			return "", fmt.Errorf("the registry policy in place is not JSON: %w", err)
		}
	}
	var stmts []any
	switch st := doc["Statement"].(type) {
	case []any:
		stmts = st
	case map[string]any:
		stmts = []any{st}
	}
	sids := map[string]bool{}
	want, _ := json.Marshal(stmt)
	for _, x := range stmts {
		if b, _ := json.Marshal(x); string(b) == string(want) {
			out, _ := json.Marshal(doc)
			return string(out), nil // already there
		}
		if m, ok := x.(map[string]any); ok {
			if sid, ok := m["Sid"].(string); ok {
				sids[sid] = true
			}
		}
	}
	if sid, ok := stmt["Sid"].(string); ok && sids[sid] {
		for n := 2; ; n++ {
			if cand := fmt.Sprintf("%s%d", sid, n); !sids[cand] {
				stmt["Sid"] = cand
				break
			}
		}
	}
	doc["Statement"] = append(stmts, stmt)
	out, err := json.Marshal(doc)
	return string(out), err
}

func putRegistryPolicy(ctx context.Context, a *Account, s model.Step, _ string) (middleware.Metadata, error) {
	out, err := a.ecr.PutRegistryPolicy(ctx, &ecr.PutRegistryPolicyInput{PolicyText: aws.String(s.Param("policyText"))})
	if err != nil {
		return middleware.Metadata{}, err
	}
	return out.ResultMetadata, nil
}

func deleteRegistryPolicy(ctx context.Context, a *Account, _ model.Step, _ string) (middleware.Metadata, error) {
	out, err := a.ecr.DeleteRegistryPolicy(ctx, &ecr.DeleteRegistryPolicyInput{})
	if err != nil {
		return middleware.Metadata{}, err
	}
	return out.ResultMetadata, nil
}

// invertAddStatement removes the statement the step added (under the Sid it got), and
// nothing else: statements others added since stay.
func invertAddStatement(s model.Step, before, after map[string]string) *model.Step {
	added := addedStatement(s.Param("statement"), before["policy"], after["policy"])
	if added == "" {
		return nil // it was there already: the step changed nothing
	}
	return &model.Step{Kind: model.StepRemoveRegistryPolicyStatement, Operation: "ecr:PutRegistryPolicy", Target: "registry policy",
		Params: map[string]string{"statement": added}, Summary: "Take the statement out of the registry policy again", Destructive: true}
}

func invertRemoveStatement(s model.Step, _, _ map[string]string) *model.Step {
	return &model.Step{Kind: model.StepAddRegistryPolicyStatement, Operation: "ecr:PutRegistryPolicy", Target: "registry policy",
		Params: map[string]string{"statement": s.Param("statement")}, Summary: "Put the statement back into the registry policy"}
}

// addedStatement finds, among the statements after has and before lacks, the one the
// step added: the same statement, its Sid perhaps renamed by the merge.
func addedStatement(statement, before, after string) string {
	var want map[string]any
	if json.Unmarshal([]byte(statement), &want) != nil {
		return ""
	}
	delete(want, "Sid")
	wantJSON, _ := json.Marshal(want)
	added, _, _ := statementChanges(before, after)
	for _, x := range added {
		var m map[string]any
		if json.Unmarshal([]byte(x), &m) != nil {
			continue
		}
		delete(m, "Sid")
		if b, _ := json.Marshal(m); string(b) == string(wantJSON) {
			return x
		}
	}
	return ""
}

func invertRegistryPolicy(s model.Step, before, _ map[string]string) *model.Step {
	if before["policy"] == "" {
		return &model.Step{Kind: model.StepDeleteRegistryPolicy, Operation: "ecr:DeleteRegistryPolicy", Target: "registry policy",
			Params: map[string]string{}, Summary: "Remove the registry policy again", Destructive: true}
	}
	return &model.Step{Kind: model.StepPutRegistryPolicy, Operation: "ecr:PutRegistryPolicy", Target: "registry policy",
		Params: map[string]string{"policyText": before["policy"]}, Summary: "Put the former registry policy back"}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// StepKinds lists the repair steps ecrops can carry out, and whether each can be undone.
func StepKinds() map[model.StepKind]bool {
	out := map[model.StepKind]bool{}
	for k, impl := range stepImpls {
		out[k] = impl.inverse != nil
	}
	return out
}

func samePolicy(a, b string) bool {
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return string(xa) == string(ya)
}
