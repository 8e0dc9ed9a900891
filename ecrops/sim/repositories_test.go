package sim_test

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
)

const lifecycle = `{"rules":[{"rulePriority":1,"selection":{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":1},"action":{"type":"expire"}}]}`

func TestCreationTemplates(t *testing.T) {
	s := startScenario(t, "demo")
	c := ctx(t)
	out, err := s.ecr.CreateRepositoryCreationTemplate(c, &ecr.CreateRepositoryCreationTemplateInput{
		Prefix: aws.String("quay"), AppliedFor: []types.RCTAppliedFor{types.RCTAppliedForPullThroughCache},
		ImageTagMutability: types.ImageTagMutabilityMutable, LifecyclePolicy: aws.String(lifecycle),
		ResourceTags: []types.Tag{{Key: aws.String("team"), Value: aws.String("platform")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	tpl := out.RepositoryCreationTemplate
	if *tpl.Prefix != "quay" || tpl.EncryptionConfiguration.EncryptionType != types.EncryptionTypeAes256 ||
		*tpl.LifecyclePolicy != lifecycle || tpl.CreatedAt == nil || len(tpl.ResourceTags) != 1 {
		t.Fatalf("template: %+v", tpl)
	}
	_, err = s.ecr.CreateRepositoryCreationTemplate(c, &ecr.CreateRepositoryCreationTemplateInput{
		Prefix: aws.String("quay"), AppliedFor: []types.RCTAppliedFor{types.RCTAppliedForPullThroughCache}})
	wantCode(t, err, "TemplateAlreadyExistsException", "quay")
	_, err = s.ecr.CreateRepositoryCreationTemplate(c, &ecr.CreateRepositoryCreationTemplateInput{
		Prefix: aws.String("x1"), AppliedFor: []types.RCTAppliedFor{"PULL_THROUGH_CACHE"},
		LifecyclePolicy: aws.String(`{"rules":[{"rulePriority":1,"selection":{"tagStatus":"tagged","countType":"imageCountMoreThan","countNumber":3},"action":{"type":"expire"}}]}`)})
	wantCode(t, err, "InvalidParameterException", "tagPrefixList")
	_, err = s.ecr.CreateRepositoryCreationTemplate(c, &ecr.CreateRepositoryCreationTemplateInput{
		Prefix: aws.String("x1"), AppliedFor: []types.RCTAppliedFor{"PULL_THROUGH_CACHE"}, ImageTagMutability: "SOMETIMES"})
	wantCode(t, err, "ValidationException", "enum value set")

	up, err := s.ecr.UpdateRepositoryCreationTemplate(c, &ecr.UpdateRepositoryCreationTemplateInput{
		Prefix: aws.String("kubernetes"), ImageTagMutability: types.ImageTagMutabilityMutable})
	if err != nil {
		t.Fatal(err)
	}
	if up.RepositoryCreationTemplate.ImageTagMutability != types.ImageTagMutabilityMutable || *up.RepositoryCreationTemplate.LifecyclePolicy == "" {
		t.Fatalf("update lost or missed a field: %+v", up.RepositoryCreationTemplate)
	}
	_, err = s.ecr.UpdateRepositoryCreationTemplate(c, &ecr.UpdateRepositoryCreationTemplateInput{Prefix: aws.String("nope")})
	wantCode(t, err, "TemplateNotFoundException", "nope")

	var prefixes []string
	p := ecr.NewDescribeRepositoryCreationTemplatesPaginator(s.ecr, &ecr.DescribeRepositoryCreationTemplatesInput{MaxResults: aws.Int32(2)})
	for p.HasMorePages() {
		page := must[*ecr.DescribeRepositoryCreationTemplatesOutput](t)(p.NextPage(c))
		for _, x := range page.RepositoryCreationTemplates {
			prefixes = append(prefixes, *x.Prefix)
		}
	}
	if got := strings.Join(prefixes, ","); got != "docker-hub,ecr-public,github,gitlab,kubernetes,legacy-hub,quay" {
		t.Fatalf("templates: %s", got)
	}
	one := must[*ecr.DescribeRepositoryCreationTemplatesOutput](t)(s.ecr.DescribeRepositoryCreationTemplates(c,
		&ecr.DescribeRepositoryCreationTemplatesInput{Prefixes: []string{"github", "absent"}}))
	if len(one.RepositoryCreationTemplates) != 1 || *one.RegistryId != "111122223333" {
		t.Fatalf("by prefix: %+v", one)
	}
	if _, err := s.ecr.DeleteRepositoryCreationTemplate(c, &ecr.DeleteRepositoryCreationTemplateInput{Prefix: aws.String("legacy-hub")}); err != nil {
		t.Fatal(err)
	}
	_, err = s.ecr.DeleteRepositoryCreationTemplate(c, &ecr.DeleteRepositoryCreationTemplateInput{Prefix: aws.String("legacy-hub")})
	wantCode(t, err, "TemplateNotFoundException", "legacy-hub")
}

func TestRepositories(t *testing.T) {
	s := startScenario(t, "demo")
	c := ctx(t)
	created, err := s.ecr.CreateRepository(c, &ecr.CreateRepositoryInput{RepositoryName: aws.String("team/app"),
		ImageTagMutability: types.ImageTagMutabilityImmutable, Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
	if err != nil {
		t.Fatal(err)
	}
	r := created.Repository
	if *r.RepositoryUri != "111122223333.dkr.ecr.us-east-1.amazonaws.com/team/app" ||
		*r.RepositoryArn != "arn:aws:ecr:us-east-1:111122223333:repository/team/app" || r.ImageTagMutability != types.ImageTagMutabilityImmutable {
		t.Fatalf("repository: %+v", r)
	}
	_, err = s.ecr.CreateRepository(c, &ecr.CreateRepositoryInput{RepositoryName: aws.String("team/app")})
	wantCode(t, err, "RepositoryAlreadyExistsException", "team/app")
	_, err = s.ecr.CreateRepository(c, &ecr.CreateRepositoryInput{RepositoryName: aws.String("Team/App")})
	wantCode(t, err, "InvalidParameterException", "regular expression")

	var names []string
	p := ecr.NewDescribeRepositoriesPaginator(s.ecr, &ecr.DescribeRepositoriesInput{MaxResults: aws.Int32(5)})
	for p.HasMorePages() {
		for _, r := range must[*ecr.DescribeRepositoriesOutput](t)(p.NextPage(c)).Repositories {
			names = append(names, *r.RepositoryName)
		}
	}
	if len(names) != 13 || names[0] != "docker-hub/library/alpine" {
		t.Fatalf("%d repositories: %v", len(names), names)
	}
	_, err = s.ecr.DescribeRepositories(c, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{"my-proxy", "absent/repo"}})
	wantCode(t, err, "RepositoryNotFoundException", "'absent/repo' does not exist in the registry with id '111122223333'")
	_, err = s.ecr.DescribeRepositories(c, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{"my-proxy"}, MaxResults: aws.Int32(1)})
	wantCode(t, err, "InvalidParameterException", "repositoryNames")
	_, err = s.ecr.DescribeRepositories(c, &ecr.DescribeRepositoriesInput{RegistryId: aws.String("999999999999")})
	wantCode(t, err, "AccessDeniedException", "999999999999")

	_, err = s.ecr.DeleteRepository(c, &ecr.DeleteRepositoryInput{RepositoryName: aws.String("kubernetes/pause")})
	wantCode(t, err, "RepositoryNotEmptyException", "still contains images")
	if _, err := s.ecr.DeleteRepository(c, &ecr.DeleteRepositoryInput{RepositoryName: aws.String("kubernetes/pause"), Force: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ecr.DeleteRepository(c, &ecr.DeleteRepositoryInput{RepositoryName: aws.String("my-proxy")}); err != nil {
		t.Fatal(err)
	}
	_, err = s.ecr.DeleteRepository(c, &ecr.DeleteRepositoryInput{RepositoryName: aws.String("my-proxy")})
	wantCode(t, err, "RepositoryNotFoundException", "my-proxy")
}

func TestImages(t *testing.T) {
	s := startScenario(t, "demo")
	c := ctx(t)
	repo := aws.String("docker-hub/library/nginx")
	all := must[*ecr.DescribeImagesOutput](t)(s.ecr.DescribeImages(c, &ecr.DescribeImagesInput{RepositoryName: repo}))
	// Two indexes (1.27 missing arm64, latest whole): 2 + 1 + 2 manifests.
	if len(all.ImageDetails) != 5 {
		t.Fatalf("%d images", len(all.ImageDetails))
	}
	tagged := must[*ecr.DescribeImagesOutput](t)(s.ecr.DescribeImages(c, &ecr.DescribeImagesInput{RepositoryName: repo,
		Filter: &types.DescribeImagesFilter{TagStatus: types.TagStatusTagged}}))
	if len(tagged.ImageDetails) != 2 {
		t.Fatalf("%d tagged images", len(tagged.ImageDetails))
	}
	for _, d := range tagged.ImageDetails {
		if *d.ImageManifestMediaType != "application/vnd.oci.image.index.v1+json" || d.LastRecordedPullTime == nil ||
			d.ImagePushedAt == nil || *d.ImageSizeInBytes <= 0 {
			t.Fatalf("image detail: %+v", d)
		}
		// Timestamps are epoch seconds on the wire and land within the scenario's offsets.
		if age := time.Since(*d.ImagePushedAt); age < 9*24*time.Hour || age > 21*24*time.Hour {
			t.Fatalf("imagePushedAt %v is %v ago", d.ImagePushedAt, age)
		}
	}
	by := must[*ecr.DescribeImagesOutput](t)(s.ecr.DescribeImages(c, &ecr.DescribeImagesInput{RepositoryName: repo,
		ImageIds: []types.ImageIdentifier{{ImageTag: aws.String("1.27")}}}))
	if by.ImageDetails[0].ImageTags[0] != "1.27" {
		t.Fatalf("by tag: %+v", by.ImageDetails)
	}
	_, err := s.ecr.DescribeImages(c, &ecr.DescribeImagesInput{RepositoryName: repo, ImageIds: []types.ImageIdentifier{{ImageTag: aws.String("9.9")}}})
	wantCode(t, err, "ImageNotFoundException", "imageTag:'9.9'")
	_, err = s.ecr.DescribeImages(c, &ecr.DescribeImagesInput{RepositoryName: aws.String("absent")})
	wantCode(t, err, "RepositoryNotFoundException", "absent")

	var ids []types.ImageIdentifier
	p := ecr.NewListImagesPaginator(s.ecr, &ecr.ListImagesInput{RepositoryName: repo, MaxResults: aws.Int32(2)})
	for p.HasMorePages() {
		ids = append(ids, must[*ecr.ListImagesOutput](t)(p.NextPage(c)).ImageIds...)
	}
	if len(ids) != 5 {
		t.Fatalf("%d image ids", len(ids))
	}
	untagged := must[*ecr.ListImagesOutput](t)(s.ecr.ListImages(c, &ecr.ListImagesInput{RepositoryName: repo,
		Filter: &types.ListImagesFilter{TagStatus: types.TagStatusUntagged}}))
	if len(untagged.ImageIds) != 3 || untagged.ImageIds[0].ImageTag != nil {
		t.Fatalf("untagged: %+v", untagged.ImageIds)
	}

	got := must[*ecr.BatchGetImageOutput](t)(s.ecr.BatchGetImage(c, &ecr.BatchGetImageInput{RepositoryName: repo,
		ImageIds: []types.ImageIdentifier{{ImageTag: aws.String("latest")}, {ImageTag: aws.String("nope")}}}))
	if len(got.Images) != 1 || !strings.Contains(*got.Images[0].ImageManifest, `"manifests"`) ||
		len(got.Failures) != 1 || got.Failures[0].FailureCode != types.ImageFailureCodeImageNotFound {
		t.Fatalf("batch get: %+v", got)
	}

	// A child of an index cannot be deleted by digest; untagging the index deletes it.
	child := untagged.ImageIds[0].ImageDigest
	del := must[*ecr.BatchDeleteImageOutput](t)(s.ecr.BatchDeleteImage(c, &ecr.BatchDeleteImageInput{RepositoryName: repo,
		ImageIds: []types.ImageIdentifier{{ImageDigest: child}, {ImageTag: aws.String("latest")}, {ImageDigest: aws.String("sha256:zz")}}}))
	codes := map[types.ImageFailureCode]bool{}
	for _, f := range del.Failures {
		codes[f.FailureCode] = true
	}
	if len(del.ImageIds) != 1 || !codes[types.ImageFailureCodeImageReferencedByManifestList] || !codes[types.ImageFailureCodeInvalidImageDigest] {
		t.Fatalf("batch delete: ids %+v failures %+v", del.ImageIds, del.Failures)
	}
}

func TestAuthorizationTokenOpensTheRegistry(t *testing.T) {
	s := startScenario(t, "demo")
	c := ctx(t)
	out := must[*ecr.GetAuthorizationTokenOutput](t)(s.ecr.GetAuthorizationToken(c, &ecr.GetAuthorizationTokenInput{}))
	data := out.AuthorizationData[0]
	if *data.ProxyEndpoint != s.srv.Info().Registry {
		t.Fatalf("proxyEndpoint %s, registry %s", *data.ProxyEndpoint, s.srv.Info().Registry)
	}
	if d := time.Until(*data.ExpiresAt); d < 11*time.Hour || d > 13*time.Hour {
		t.Fatalf("token expires in %v, want 12h", d)
	}
	raw, _ := base64.StdEncoding.DecodeString(*data.AuthorizationToken)
	user, password, _ := strings.Cut(string(raw), ":")
	if user != "AWS" {
		t.Fatalf("user %q", user)
	}
	ping := func(u, p string) int {
		req, _ := http.NewRequest(http.MethodGet, *data.ProxyEndpoint+"/v2/", nil)
		req.SetBasicAuth(u, p)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := ping(user, password); code != http.StatusOK {
		t.Fatalf("registry answered %d with a fresh token", code)
	}
	if code := ping("AWS", "forged"); code != http.StatusUnauthorized {
		t.Fatalf("registry answered %d to a forged token", code)
	}
	s.srv.Clock().Advance(13 * time.Hour)
	// ECR answers an expired token 403, not 401 (docker: "error parsing HTTP 403 response
	// body: ... Your Authorization Token has expired", amazon-ecr-credential-helper#7).
	if code := ping(user, password); code != http.StatusForbidden {
		t.Fatalf("registry answered %d to an expired token, want 403", code)
	}
}

func TestPolicies(t *testing.T) {
	s := startScenario(t, "demo")
	c := ctx(t)
	repo := aws.String("quay/prometheus/node-exporter")
	_, err := s.ecr.GetLifecyclePolicy(c, &ecr.GetLifecyclePolicyInput{RepositoryName: repo})
	wantCode(t, err, "LifecyclePolicyNotFoundException", "quay/prometheus/node-exporter")
	if _, err := s.ecr.PutLifecyclePolicy(c, &ecr.PutLifecyclePolicyInput{RepositoryName: repo, LifecyclePolicyText: aws.String(lifecycle)}); err != nil {
		t.Fatal(err)
	}
	got := must[*ecr.GetLifecyclePolicyOutput](t)(s.ecr.GetLifecyclePolicy(c, &ecr.GetLifecyclePolicyInput{RepositoryName: repo}))
	if *got.LifecyclePolicyText != lifecycle {
		t.Fatalf("lifecycle %q", *got.LifecyclePolicyText)
	}
	_, err = s.ecr.PutLifecyclePolicy(c, &ecr.PutLifecyclePolicyInput{RepositoryName: repo,
		LifecyclePolicyText: aws.String(`{"rules":[{"rulePriority":1,"selection":{"tagStatus":"any","countType":"sinceImagePulled","countNumber":3},"action":{"type":"expire"}}]}` + strings.Repeat(" ", 20))})
	wantCode(t, err, "InvalidParameterException", "countUnit")
	_, err = s.ecr.PutLifecyclePolicy(c, &ecr.PutLifecyclePolicyInput{RepositoryName: repo, LifecyclePolicyText: aws.String("{}")})
	wantCode(t, err, "ValidationException", "length greater than or equal to 100")
	if _, err := s.ecr.DeleteLifecyclePolicy(c, &ecr.DeleteLifecyclePolicyInput{RepositoryName: repo}); err != nil {
		t.Fatal(err)
	}

	_, err = s.ecr.GetRegistryPolicy(c, &ecr.GetRegistryPolicyInput{})
	wantCode(t, err, "RegistryPolicyNotFoundException", "111122223333")
	policy := `{"Version":"2012-10-17","Statement":[{"Sid":"PTC","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/eks-node"},"Action":["ecr:CreateRepository","ecr:BatchImportUpstreamImage"],"Resource":"arn:aws:ecr:us-east-1:111122223333:repository/docker-hub/*"}]}`
	if _, err := s.ecr.PutRegistryPolicy(c, &ecr.PutRegistryPolicyInput{PolicyText: aws.String(policy)}); err != nil {
		t.Fatal(err)
	}
	if got := must[*ecr.GetRegistryPolicyOutput](t)(s.ecr.GetRegistryPolicy(c, &ecr.GetRegistryPolicyInput{})); *got.PolicyText != policy {
		t.Fatalf("registry policy %q", *got.PolicyText)
	}
	_, err = s.ecr.PutRegistryPolicy(c, &ecr.PutRegistryPolicyInput{PolicyText: aws.String(`{"Statement":[{"Effect":"Maybe","Action":"ecr:*"}]}`)})
	wantCode(t, err, "InvalidParameterException", "Effect")
	if _, err := s.ecr.DeleteRegistryPolicy(c, &ecr.DeleteRegistryPolicyInput{}); err != nil {
		t.Fatal(err)
	}

	_, err = s.ecr.GetRepositoryPolicy(c, &ecr.GetRepositoryPolicyInput{RepositoryName: repo})
	wantCode(t, err, "RepositoryPolicyNotFoundException", "node-exporter")
	if _, err := s.ecr.SetRepositoryPolicy(c, &ecr.SetRepositoryPolicyInput{RepositoryName: repo, PolicyText: aws.String(policy)}); err != nil {
		t.Fatal(err)
	}
	if got := must[*ecr.GetRepositoryPolicyOutput](t)(s.ecr.GetRepositoryPolicy(c, &ecr.GetRepositoryPolicyInput{RepositoryName: repo})); *got.PolicyText != policy {
		t.Fatalf("repository policy %q", *got.PolicyText)
	}
	_, err = s.ecr.SetRepositoryPolicy(c, &ecr.SetRepositoryPolicyInput{RepositoryName: repo, PolicyText: aws.String("not json")})
	wantCode(t, err, "InvalidParameterException", "policy")
}

func TestTags(t *testing.T) {
	s := startScenario(t, "demo")
	c := ctx(t)
	arn := aws.String("arn:aws:ecr:us-east-1:111122223333:repository/my-proxy")
	if _, err := s.ecr.TagResource(c, &ecr.TagResourceInput{ResourceArn: arn,
		Tags: []types.Tag{{Key: aws.String("owner"), Value: aws.String("sre")}}}); err != nil {
		t.Fatal(err)
	}
	tags := must[*ecr.ListTagsForResourceOutput](t)(s.ecr.ListTagsForResource(c, &ecr.ListTagsForResourceInput{ResourceArn: arn})).Tags
	if len(tags) != 1 || *tags[0].Key != "owner" || *tags[0].Value != "sre" {
		t.Fatalf("tags %+v", tags)
	}
	_, err := s.ecr.ListTagsForResource(c, &ecr.ListTagsForResourceInput{ResourceArn: aws.String("arn:aws:ecr:us-east-1:111122223333:repository/absent")})
	wantCode(t, err, "RepositoryNotFoundException", "absent")
	_, err = s.ecr.TagResource(c, &ecr.TagResourceInput{ResourceArn: aws.String("arn:aws:s3:::bucket"),
		Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
	wantCode(t, err, "InvalidParameterException", "resourceArn")
	var many []types.Tag
	for i := range 51 {
		many = append(many, types.Tag{Key: aws.String(strings.Repeat("k", i+1)), Value: aws.String("v")})
	}
	_, err = s.ecr.TagResource(c, &ecr.TagResourceInput{ResourceArn: arn, Tags: many})
	wantCode(t, err, "TooManyTagsException", "50")
}
