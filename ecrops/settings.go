package ecrops

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"

	"github.com/ptcdoctor/ptcdoctor/model"
)

// readRepositorySettings reads what a creation template sets and DescribeRepositories
// does not show: the repository policy and the resource tags. Only for cache repositories
// a template covers, where the template-drift check compares them (two calls each).
func (a *Account) readRepositorySettings(ctx context.Context, repo *model.Repository, addErr func(part, op string, err error)) {
	pol, err := a.ecr.GetRepositoryPolicy(ctx, &ecr.GetRepositoryPolicyInput{RepositoryName: aws.String(repo.Name)})
	var nf *ecrtypes.RepositoryPolicyNotFoundException
	switch {
	case errors.As(err, &nf):
	case err != nil:
		addErr(model.PartRepositoryPolicy(repo.Name), "GetRepositoryPolicy", err)
		return
	default:
		repo.Policy = intern(aws.ToString(pol.PolicyText)) // as a template gave it, to many repositories
	}
	tags, err := a.ecr.ListTagsForResource(ctx, &ecr.ListTagsForResourceInput{ResourceArn: aws.String(repo.ARN)})
	if err != nil {
		addErr(model.PartRepositoryTags(repo.Name), "ListTagsForResource", err)
		return
	}
	if len(tags.Tags) > 0 {
		repo.ResourceTags = map[string]string{}
		for _, t := range tags.Tags {
			repo.ResourceTags[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
	}
	repo.SettingsKnown = true
}

// exclusionPatterns keeps the wildcard patterns of a tag mutability setting's exclusions.
func exclusionPatterns(filters []ecrtypes.ImageTagMutabilityExclusionFilter) []string {
	var out []string
	for _, f := range filters {
		out = append(out, model.Printable(aws.ToString(f.Filter)))
	}
	return out
}
