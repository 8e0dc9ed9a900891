package ecrops

import (
	"context"
	"encoding/json"
	"errors"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/ptcdoctor/ptcdoctor/model"
)

// Steps that bring an existing repository in line with its creation template: its policy,
// its tag mutability and its resource tags. (Encryption cannot be changed in place.)
func init() {
	stepImpls[model.StepSetRepositoryPolicy] = stepImpl{read: readRepositoryPolicy, write: setRepositoryPolicy, inverse: invertRepositoryPolicy}
	stepImpls[model.StepDeleteRepositoryPolicy] = stepImpl{read: readRepositoryPolicy, write: deleteRepositoryPolicy, inverse: invertRepositoryPolicy}
	stepImpls[model.StepPutImageTagMutability] = stepImpl{read: readMutability, write: putMutability, inverse: invertMutability}
	stepImpls[model.StepTagRepository] = stepImpl{read: readRepositoryTags, write: tagRepository}
}

func readRepositoryPolicy(ctx context.Context, a *Account, s model.Step) (map[string]string, error) {
	out, err := a.ecr.GetRepositoryPolicy(ctx, &ecr.GetRepositoryPolicyInput{RepositoryName: aws.String(s.Target)})
	var nf *ecrtypes.RepositoryPolicyNotFoundException
	if errors.As(err, &nf) {
		return map[string]string{"repositoryPolicy": ""}, nil
	}
	if err != nil {
		return nil, err
	}
	return map[string]string{"repositoryPolicy": aws.ToString(out.PolicyText)}, nil
}

func setRepositoryPolicy(ctx context.Context, a *Account, s model.Step, _ string) (middleware.Metadata, error) {
	out, err := a.ecr.SetRepositoryPolicy(ctx, &ecr.SetRepositoryPolicyInput{RepositoryName: aws.String(s.Target), PolicyText: aws.String(s.Param("policyText"))})
	if err != nil {
		return middleware.Metadata{}, err
	}
	return out.ResultMetadata, nil
}

func deleteRepositoryPolicy(ctx context.Context, a *Account, s model.Step, _ string) (middleware.Metadata, error) {
	out, err := a.ecr.DeleteRepositoryPolicy(ctx, &ecr.DeleteRepositoryPolicyInput{RepositoryName: aws.String(s.Target)})
	if err != nil {
		return middleware.Metadata{}, err
	}
	return out.ResultMetadata, nil
}

func invertRepositoryPolicy(s model.Step, before, _ map[string]string) *model.Step {
	if before["repositoryPolicy"] == "" {
		return &model.Step{Kind: model.StepDeleteRepositoryPolicy, Operation: "ecr:DeleteRepositoryPolicy", Target: s.Target,
			Params: map[string]string{"repositoryName": s.Target}, Summary: "Remove the repository policy of " + s.Target + " again"}
	}
	return &model.Step{Kind: model.StepSetRepositoryPolicy, Operation: "ecr:SetRepositoryPolicy", Target: s.Target,
		Params:  map[string]string{"repositoryName": s.Target, "policyText": before["repositoryPolicy"]},
		Summary: "Put the former repository policy of " + s.Target + " back", Expect: map[string]string{"repositoryPolicy": s.Param("policyText")}}
}

func readMutability(ctx context.Context, a *Account, s model.Step) (map[string]string, error) {
	out, err := a.ecr.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{s.Target}})
	if err != nil {
		return nil, err
	}
	if len(out.Repositories) == 0 {
		return map[string]string{"exists": "false"}, nil
	}
	r := out.Repositories[0]
	return map[string]string{"exists": "true", "imageTagMutability": string(r.ImageTagMutability),
		"imageTagMutabilityExclusionFilters": strings.Join(exclusionPatterns(r.ImageTagMutabilityExclusionFilters), ",")}, nil
}

func putMutability(ctx context.Context, a *Account, s model.Step, _ string) (middleware.Metadata, error) {
	in := &ecr.PutImageTagMutabilityInput{RepositoryName: aws.String(s.Target), ImageTagMutability: ecrtypes.ImageTagMutability(s.Param("imageTagMutability"))}
	if v := s.Param("imageTagMutabilityExclusionFilters"); v != "" {
		for _, f := range strings.Split(v, ",") {
			in.ImageTagMutabilityExclusionFilters = append(in.ImageTagMutabilityExclusionFilters,
				ecrtypes.ImageTagMutabilityExclusionFilter{FilterType: ecrtypes.ImageTagMutabilityExclusionFilterTypeWildcard, Filter: aws.String(f)})
		}
	}
	out, err := a.ecr.PutImageTagMutability(ctx, in)
	if err != nil {
		return middleware.Metadata{}, err
	}
	return out.ResultMetadata, nil
}

func invertMutability(s model.Step, before, _ map[string]string) *model.Step {
	p := map[string]string{"repositoryName": s.Target, "imageTagMutability": before["imageTagMutability"]}
	if v := before["imageTagMutabilityExclusionFilters"]; v != "" {
		p["imageTagMutabilityExclusionFilters"] = v
	}
	return &model.Step{Kind: model.StepPutImageTagMutability, Operation: "ecr:PutImageTagMutability", Target: s.Target, Params: p,
		Summary: "Put the former tag mutability of " + s.Target + " back"}
}

// readRepositoryTags reads the resource tags as JSON, by the repository's ARN (Params["resourceArn"]).
func readRepositoryTags(ctx context.Context, a *Account, s model.Step) (map[string]string, error) {
	out, err := a.ecr.ListTagsForResource(ctx, &ecr.ListTagsForResourceInput{ResourceArn: aws.String(s.Param("resourceArn"))})
	if err != nil {
		return nil, err
	}
	m := map[string]string{}
	for _, t := range out.Tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	b, _ := json.Marshal(m)
	return map[string]string{"resourceTags": string(b)}, nil
}

// tagRepository adds or overwrites the tags in Params["tags"] (JSON); it removes none.
func tagRepository(ctx context.Context, a *Account, s model.Step, _ string) (middleware.Metadata, error) {
	m := map[string]string{}
	if err := json.Unmarshal([]byte(s.Param("tags")), &m); err != nil {
		return middleware.Metadata{}, errors.New("tags: " + err.Error())
	}
	var tags []ecrtypes.Tag
	for _, k := range sortedKeys(m) {
		tags = append(tags, ecrtypes.Tag{Key: aws.String(k), Value: aws.String(m[k])})
	}
	out, err := a.ecr.TagResource(ctx, &ecr.TagResourceInput{ResourceArn: aws.String(s.Param("resourceArn")), Tags: tags})
	if err != nil {
		return middleware.Metadata{}, err
	}
	return out.ResultMetadata, nil
}
