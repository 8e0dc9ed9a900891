package sim_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
)

// signedDelete signs a DeleteRepository, as a client would send it.
func (s *stand) signedDelete(body string) (*http.Request, string) {
	s.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.srv.Info().Endpoint+"/", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "AmazonEC2ContainerRegistry_V20150921.DeleteRepository")
	sum := sha256.Sum256([]byte(body))
	hash := hex.EncodeToString(sum[:])
	creds, _ := s.cfg.Credentials.Retrieve(context.Background())
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hash, "ecr", s.cfg.Region, time.Now()); err != nil {
		s.t.Fatal(err)
	}
	return req, hash
}

func (s *stand) send(req *http.Request) int {
	s.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// A signed request replayed with another body is refused, whatever X-Amz-Content-Sha256
// says: the signature covers the body that arrived.
func TestAForgedBodyIsRefused(t *testing.T) {
	s := startScenario(t, "demo")
	c := ctx(t)
	for _, name := range []string{"victim", "decoy1"} {
		must[*ecr.CreateRepositoryOutput](t)(s.ecr.CreateRepository(c, &ecr.CreateRepositoryInput{RepositoryName: aws.String(name)}))
	}
	// The forged body has the signed one's length, so that the signed Content-Length
	// still holds: only the payload hash can tell them apart.
	genuine := `{"repositoryName":"decoy1","force":false}`
	forged := `{"repositoryName":"victim","force":true }`
	for _, tc := range []struct {
		name  string
		forge func(req *http.Request, hash string)
	}{
		// The original's hash in an unsigned X-Amz-Content-Sha256 header: the replay the
		// stand-in used to accept.
		{"unsigned header with the original hash", func(req *http.Request, hash string) { req.Header.Set("X-Amz-Content-Sha256", hash) }},
		{"unsigned header saying UNSIGNED-PAYLOAD", func(req *http.Request, _ string) { req.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD") }},
		{"no header", func(*http.Request, string) {}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, hash := s.signedDelete(genuine)
			tc.forge(req, hash)
			req.Body = io.NopCloser(strings.NewReader(forged))
			req.ContentLength = int64(len(forged))
			if code := s.send(req); code != http.StatusBadRequest {
				t.Fatalf("the forged request answered %d, want 400 InvalidSignatureException", code)
			}
		})
	}
	names := map[string]bool{}
	for _, r := range must[*ecr.DescribeRepositoriesOutput](t)(s.ecr.DescribeRepositories(c, &ecr.DescribeRepositoriesInput{})).Repositories {
		names[*r.RepositoryName] = true
	}
	if !names["victim"] || !names["decoy1"] {
		t.Fatalf("a forged request deleted a repository: %v", names)
	}
	// The genuine request, header or not, still works.
	req, hash := s.signedDelete(genuine)
	req.Header.Set("X-Amz-Content-Sha256", hash)
	if code := s.send(req); code != http.StatusOK {
		t.Fatalf("the genuine request answered %d", code)
	}
}
