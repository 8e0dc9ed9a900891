package ecrops_test

import (
	"encoding/json"
	"testing"

	"github.com/ptcdoctor/ptcdoctor/ecrops"
)

func FuzzParseRateHeader(f *testing.F) {
	for _, s := range []string{"100;w=21600", "0;w=21600", "", ";", "abc;w=x", "-5;w=-1", "99999999999999999999;w=1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, w := ecrops.ParseRateHeader(s)
		if n < 0 || w < 0 {
			t.Fatalf("%q gave %d, %d", s, n, w)
		}
	})
}

func FuzzMergeStatement(f *testing.F) {
	f.Add(``, `{"Sid":"A","Effect":"Allow","Action":"ecr:*","Resource":"*"}`)
	f.Add(`{"Version":"2012-10-17","Statement":{"Sid":"A","Effect":"Allow"}}`, `{"Sid":"A","Effect":"Deny"}`)
	f.Add(`{"Statement":[]}`, `[]`)
	f.Add(`not json`, `{}`)
	f.Fuzz(func(t *testing.T, policy, stmt string) {
		merged, err := ecrops.MergeStatement(policy, stmt)
		if err != nil {
			return
		}
		var doc map[string]any
		if json.Unmarshal([]byte(merged), &doc) != nil {
			t.Fatalf("the merge is not JSON: %s", merged)
		}
		again, err := ecrops.MergeStatement(merged, stmt)
		if err != nil || len(again) < len(merged) {
			t.Fatalf("merging twice lost something: %v", err)
		}
	})
}

func FuzzRegistryPolicyDecision(f *testing.F) {
	f.Add(`{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/x"},"Action":"ecr:*","Resource":"*"}]}`, "ecr:BatchImportUpstreamImage")
	f.Add(`{"Statement":{"Effect":"Deny","Principal":"*","Action":["ecr:*"]}}`, "ecr:CreateRepository")
	f.Add(`{"Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"*********************a","Resource":"*"}]}`, "ecr:BatchGetImage")
	f.Fuzz(func(t *testing.T, policy, action string) {
		ecrops.RegistryPolicyDecisionForFuzz(policy, "arn:aws:iam::111122223333:role/x", action, "arn:aws:ecr:us-east-1:111122223333:repository/a/b")
	})
}
