package ecrops

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

// The credentials a call sent are masked in what it got back: the token, the Basic
// authorization made of it, its escaped forms, and a secret value written whole.
func TestEchoedCredentialsAreMasked(t *testing.T) {
	k := secrets{user: "ptcdemo", token: "dckr_pat_s3cr/t+x"}
	basic := base64.StdEncoding.EncodeToString([]byte("ptcdemo:dckr_pat_s3cr/t+x"))
	for _, echoed := range []string{"token dckr_pat_s3cr/t+x refused", "Authorization: Basic " + basic, "q=dckr_pat_s3cr%2Ft%2Bx", "path dckr_pat_s3cr%2Ft+x"} {
		if got := k.mask(echoed); strings.Contains(got, "s3cr") || !strings.Contains(got, "****") {
			t.Errorf("%q → %q", echoed, got)
		}
	}
	if got := (secrets{}).mask("nothing to hide"); got != "nothing to hide" {
		t.Fatal(got)
	}
	value := `{"username":"me","accessToken":"ghp_CANARY"}`
	err := maskValueIn(errors.New("ValidationException: bad SecretString "+value+" (token ghp_CANARY)"), value)
	if strings.Contains(err.Error(), "CANARY") {
		t.Fatalf("the value leaked: %v", err)
	}
	plain := errors.New("AccessDeniedException")
	if maskValueIn(plain, value) != plain {
		t.Fatal("an error without the value was rewritten")
	}
}
