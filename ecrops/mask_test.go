package ecrops

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go/middleware"
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
	// Encodings and case variants an upstream may echo (echo_up.py of the trial).
	const user, token = "ptcdemo", "dckr_pat_s3cr/t+x"
	pair := user + ":" + token
	for _, echoed := range []string{
		strings.ToUpper(token), strings.ToLower("DCKR_PAT_S3CR/T+X"), "DcKr_PaT_s3Cr/T+x",
		base64.StdEncoding.EncodeToString([]byte(token)), base64.URLEncoding.EncodeToString([]byte(token)),
		base64.RawStdEncoding.EncodeToString([]byte(token)), base64.RawURLEncoding.EncodeToString([]byte(pair)),
		base64.URLEncoding.EncodeToString([]byte(pair)),
		hex.EncodeToString([]byte(token)), strings.ToUpper(hex.EncodeToString([]byte(token))), hex.EncodeToString([]byte(pair)),
		strings.Join(strings.Split(token, ""), " "),
	} {
		if got := k.mask("bad credentials: " + echoed + " end"); strings.Contains(got, echoed) || !strings.Contains(got, "****") {
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

// A request id comes from a response header: it is journaled and shown without the
// terminal controls a hostile endpoint could put in it.
func TestRequestIDIsPrintable(t *testing.T) {
	if got := requestIDOf("abc\x1b]52;c;bad\x07"); strings.ContainsAny(got, "\x1b\x07") {
		t.Fatalf("request id kept terminal controls: %q", got)
	}
	if got := requestIDOf("4f2c-11"); got != "4f2c-11" {
		t.Fatalf("a plain request id changed: %q", got)
	}
}

func requestIDOf(id string) string {
	var md middleware.Metadata
	awsmiddleware.SetRequestIDMetadata(&md, id)
	return requestID(md)
}
