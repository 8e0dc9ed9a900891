package sim_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/ptcdoctor/ptcdoctor/ecrops"
	"github.com/ptcdoctor/ptcdoctor/ecrops/sim"
	"github.com/ptcdoctor/ptcdoctor/ecrops/sim/simtest"
)

// stand is a running stand-in and SDK clients signed as one of its principals.
type stand struct {
	t   *testing.T
	srv *sim.Server
	cfg aws.Config
	ecr *ecr.Client
	sm  *secretsmanager.Client
	sts *sts.Client
	iam *iam.Client
}

func startScenario(t *testing.T, name string) *stand { return startWith(t, simtest.Start(t, name)) }

func startYAML(t *testing.T, doc string) *stand {
	t.Helper()
	sc, err := sim.ParseScenario([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return startWith(t, simtest.StartScenario(t, sc))
}

func startWith(t *testing.T, srv *sim.Server) *stand {
	t.Helper()
	info := srv.Info()
	s := &stand{t: t, srv: srv}
	s.as(info.AccessKeyID, info.SecretAccessKey)
	return s
}

// as signs the clients with another access key.
func (s *stand) as(keyID, secret string) *stand {
	info := s.srv.Info()
	s.cfg = aws.Config{
		Region:       info.Region,
		Credentials:  credentials.NewStaticCredentialsProvider(keyID, secret, ""),
		BaseEndpoint: aws.String(info.Endpoint),
		// As ecrops.Open does: else a large answer is sometimes broken off by the SDK
		// closing the request's body under net/http (ecrops/sdkbody.go).
		HTTPClient: ecrops.SDKHTTPClient(awshttp.NewBuildableClient()),
		// Tests want to see each answer as the stand-in gave it: one attempt, no backoff.
		Retryer: func() aws.Retryer {
			return retry.AddWithMaxAttempts(retry.NewStandard(func(o *retry.StandardOptions) {
				o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
			}), 1)
		},
	}
	s.ecr = ecr.NewFromConfig(s.cfg)
	s.sm = secretsmanager.NewFromConfig(s.cfg)
	s.sts = sts.NewFromConfig(s.cfg)
	s.iam = iam.NewFromConfig(s.cfg)
	return s
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// wantCode checks that err is the AWS error with this code, and its message has want in it.
func wantCode(t *testing.T, err error, code, want string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want %s, got %v", code, err)
	}
	if ae.ErrorCode() != code {
		t.Fatalf("want code %s, got %s: %s", code, ae.ErrorCode(), ae.ErrorMessage())
	}
	if !strings.Contains(ae.ErrorMessage(), want) {
		t.Fatalf("%s: message %q lacks %q", code, ae.ErrorMessage(), want)
	}
}

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// admin calls one of the stand-in's /_sim/ endpoints and decodes its JSON answer.
func (s *stand) admin(method, path, body string, out any) {
	s.t.Helper()
	simtest.Admin(s.t, s.srv, method, path, body, out)
}

// writes counts the events that changed the account.
func (s *stand) writes() int {
	n := 0
	for _, e := range s.srv.Events(0) {
		if e.Write && e.Outcome == "ok" {
			n++
		}
	}
	return n
}

// raw sends a signed JSON 1.1 request with any body, bypassing the SDK's own input checks,
// so that the stand-in's checks can be tested with what a careless client would send.
func (s *stand) raw(service, target, body string) (int, map[string]any) {
	s.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.srv.Info().Endpoint+"/", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", target)
	sum := sha256.Sum256([]byte(body))
	creds, _ := s.cfg.Credentials.Retrieve(context.Background())
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), service, s.cfg.Region, time.Now()); err != nil {
		s.t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func decodeJSON(t *testing.T, resp *http.Response, v any) {
	t.Helper()
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}
