package sim_test

import (
	"strings"
	"testing"
)

// Every operation refuses what AWS refuses, with AWS's exception name. The requests go
// out raw, because the SDK would refuse some of them itself before sending.
func TestEveryOperationValidatesItsInput(t *testing.T) {
	s := startScenario(t, "demo")
	const ecrT = "AmazonEC2ContainerRegistry_V20150921."
	cases := []struct {
		service, op, body, code, want string
	}{
		{"ecr", "CreatePullThroughCacheRule", `{"upstreamRegistryUrl":"quay.io"}`, "ValidationException", "'ecrRepositoryPrefix' failed to satisfy constraint: Member must not be null"},
		{"ecr", "CreatePullThroughCacheRule", `{"ecrRepositoryPrefix":"quay","upstreamRegistryUrl":"quay.io","upstreamRegistry":"harbor"}`, "ValidationException", "enum value set"},
		{"ecr", "CreatePullThroughCacheRule", `{"ecrRepositoryPrefix":"quay","upstreamRegistryUrl":"quay.io","registryId":"12"}`, "ValidationException", "'registryId'"},
		{"ecr", "DescribePullThroughCacheRules", `{"maxResults":0}`, "ValidationException", "greater than or equal to 1"},
		{"ecr", "DescribePullThroughCacheRules", `{"ecrRepositoryPrefixes":[]}`, "ValidationException", "'ecrRepositoryPrefixes'"},
		{"ecr", "UpdatePullThroughCacheRule", `{}`, "ValidationException", "'ecrRepositoryPrefix'"},
		{"ecr", "UpdatePullThroughCacheRule", `{"ecrRepositoryPrefix":"github"}`, "InvalidParameterException", "credentialArn or customRoleArn"},
		{"ecr", "DeletePullThroughCacheRule", `{"ecrRepositoryPrefix":"A"}`, "ValidationException", "'ecrRepositoryPrefix'"},
		{"ecr", "ValidatePullThroughCacheRule", `{}`, "ValidationException", "must not be null"},
		{"ecr", "CreateRepositoryCreationTemplate", `{"prefix":"x1"}`, "ValidationException", "'appliedFor' failed to satisfy constraint: Member must not be null"},
		{"ecr", "CreateRepositoryCreationTemplate", `{"prefix":"x1","appliedFor":["SOMETIMES"]}`, "ValidationException", "appliedFor.1.member"},
		{"ecr", "CreateRepositoryCreationTemplate", `{"prefix":"x1","appliedFor":["PULL_THROUGH_CACHE"],"description":"` + strings.Repeat("d", 257) + `"}`, "ValidationException", "length less than or equal to 256"},
		{"ecr", "CreateRepositoryCreationTemplate", `{"prefix":"x1","appliedFor":["PULL_THROUGH_CACHE"],"encryptionConfiguration":{"encryptionType":"ROT13"}}`, "ValidationException", "encryptionType"},
		{"ecr", "DescribeRepositoryCreationTemplates", `{"maxResults":1001}`, "ValidationException", "less than or equal to 1000"},
		{"ecr", "UpdateRepositoryCreationTemplate", `{}`, "ValidationException", "'prefix'"},
		{"ecr", "DeleteRepositoryCreationTemplate", `{"prefix":""}`, "ValidationException", "'prefix'"},
		{"ecr", "CreateRepository", `{"repositoryName":"a"}`, "InvalidParameterException", "length greater than or equal to 2"},
		{"ecr", "CreateRepository", `{"repositoryName":"UPPER"}`, "InvalidParameterException", "regular expression"},
		{"ecr", "DescribeRepositories", `{"repositoryNames":[]}`, "InvalidParameterException", "'repositoryNames'"},
		{"ecr", "DeleteRepository", `{}`, "InvalidParameterException", "'repositoryName'"},
		{"ecr", "DescribeImages", `{"repositoryName":"my-proxy","filter":{"tagStatus":"SOME"}}`, "InvalidParameterException", "tagStatus"},
		{"ecr", "ListImages", `{"repositoryName":"my-proxy","maxResults":5000}`, "InvalidParameterException", "maxResults"},
		{"ecr", "BatchDeleteImage", `{"repositoryName":"my-proxy"}`, "InvalidParameterException", "'imageIds'"},
		{"ecr", "BatchGetImage", `{"repositoryName":"my-proxy","imageIds":[{"imageTag":""}]}`, "InvalidParameterException", "imageTag"},
		{"ecr", "GetAuthorizationToken", `{"registryIds":[]}`, "InvalidParameterException", "'registryIds'"},
		{"ecr", "PutLifecyclePolicy", `{"repositoryName":"my-proxy"}`, "ValidationException", "'lifecyclePolicyText'"},
		{"ecr", "GetLifecyclePolicy", `{}`, "ValidationException", "'repositoryName'"},
		{"ecr", "DeleteLifecyclePolicy", `{}`, "ValidationException", "'repositoryName'"},
		{"ecr", "PutRegistryPolicy", `{}`, "ValidationException", "'policyText'"},
		{"ecr", "GetRepositoryPolicy", `{}`, "InvalidParameterException", "'repositoryName'"},
		{"ecr", "SetRepositoryPolicy", `{"repositoryName":"my-proxy","policyText":"` + strings.Repeat("x", 10241) + `"}`, "InvalidParameterException", "10240"},
		{"ecr", "TagResource", `{"resourceArn":"arn:aws:ecr:us-east-1:111122223333:repository/my-proxy"}`, "InvalidParameterException", "'tags'"},
		{"ecr", "ListTagsForResource", `{}`, "InvalidParameterException", "'resourceArn'"},
		{"ecr", "DescribeImages", `{"repositoryName":7}`, "SerializationException", "repositoryName"},
		{"ecr", "DescribeImages", `not json`, "SerializationException", ""},
		{"secretsmanager", "CreateSecret", `{}`, "ValidationException", "'Name'"},
		{"secretsmanager", "CreateSecret", `{"Name":"ecr-pullthroughcache/x","SecretString":"a","SecretBinary":"Yg=="}`, "InvalidParameterException", "both"},
		{"secretsmanager", "GetSecretValue", `{"SecretId":""}`, "ValidationException", "'SecretId'"},
		{"secretsmanager", "PutSecretValue", `{}`, "ValidationException", "'SecretId'"},
		{"secretsmanager", "DescribeSecret", `{"SecretId":"` + strings.Repeat("n", 2049) + `"}`, "ValidationException", "2048"},
		{"secretsmanager", "ListSecrets", `{"MaxResults":101}`, "ValidationException", "less than or equal to 100"},
		{"secretsmanager", "ListSecrets", `{"Filters":[{"Key":"colour","Values":["x"]}]}`, "ValidationException", "enum value set"},
		{"secretsmanager", "DeleteSecret", `{"SecretId":"ecr-pullthroughcache/github","RecoveryWindowInDays":3}`, "InvalidParameterException", "between 7 and 30"},
		{"secretsmanager", "DeleteSecret", `{"SecretId":"ecr-pullthroughcache/github","RecoveryWindowInDays":7,"ForceDeleteWithoutRecovery":true}`, "InvalidParameterException", "conjunction"},
	}
	seen := map[string]bool{}
	for _, tc := range cases {
		seen[tc.op] = true
		t.Run(tc.op, func(t *testing.T) {
			target := ecrT + tc.op
			if tc.service == "secretsmanager" {
				target = "secretsmanager." + tc.op
			}
			status, out := s.raw(tc.service, target, tc.body)
			if status != 400 || out["__type"] != tc.code || !strings.Contains(out["message"].(string), tc.want) {
				t.Fatalf("%s %s: %d %v; want %s with %q", tc.op, tc.body, status, out, tc.code, tc.want)
			}
		})
	}
	// Every operation the stand-in serves has at least one refusal above.
	for _, op := range []string{"CreatePullThroughCacheRule", "DescribePullThroughCacheRules", "UpdatePullThroughCacheRule",
		"DeletePullThroughCacheRule", "ValidatePullThroughCacheRule", "CreateRepositoryCreationTemplate",
		"DescribeRepositoryCreationTemplates", "UpdateRepositoryCreationTemplate", "DeleteRepositoryCreationTemplate",
		"CreateRepository", "DescribeRepositories", "DeleteRepository", "DescribeImages", "ListImages", "BatchDeleteImage",
		"BatchGetImage", "GetAuthorizationToken", "PutLifecyclePolicy", "GetLifecyclePolicy", "DeleteLifecyclePolicy",
		"PutRegistryPolicy", "GetRepositoryPolicy", "SetRepositoryPolicy", "TagResource", "ListTagsForResource",
		"CreateSecret", "GetSecretValue", "PutSecretValue", "DescribeSecret", "ListSecrets", "DeleteSecret"} {
		if !seen[op] {
			t.Errorf("no validation case for %s", op)
		}
	}
	if n := s.writes(); n != 0 {
		t.Fatalf("%d refused requests still wrote", n)
	}
}

func TestUnknownOperation(t *testing.T) {
	s := startScenario(t, "demo")
	status, out := s.raw("ecr", "AmazonEC2ContainerRegistry_V20150921.DescribeEverything", `{}`)
	if status != 400 || out["__type"] != "UnknownOperationException" {
		t.Fatalf("%d %v", status, out)
	}
}
