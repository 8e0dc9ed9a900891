package sim_test

import (
	"testing"

	"github.com/ptcdoctor/ptcdoctor/ecrops/sim"
)

func FuzzLifecyclePolicy(f *testing.F) {
	f.Add(`{"rules":[{"rulePriority":1,"selection":{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":1},"action":{"type":"expire"}}]}`)
	f.Add(`{"rules":[]}`)
	f.Add(`{"rules":[{"rulePriority":-1}]}`)
	f.Add(`[`)
	f.Fuzz(func(t *testing.T, text string) { sim.CheckLifecyclePolicy(text) })
}

func FuzzPolicyDocument(f *testing.F) {
	f.Add(`{"Statement":[{"Effect":"Allow","Action":"ecr:*"}]}`)
	f.Add(`{"Statement":{"Effect":"Deny","NotAction":"x"}}`)
	f.Add(`{}`)
	f.Fuzz(func(t *testing.T, text string) { sim.CheckPolicyDocument(text) })
}

func FuzzSecretValue(f *testing.F) {
	f.Add(`{"username":"u","accessToken":"t"}`)
	f.Add(`{"username":1}`)
	f.Add(`null`)
	f.Fuzz(func(t *testing.T, text string) {
		if u, ok := sim.ParseUpstreamCredentials(text); ok && (u == "") {
			t.Fatal("accepted credentials without a user name")
		}
	})
}
