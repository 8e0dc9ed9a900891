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

	"github.com/ptcdoctor/ptcdoctor/ecrops/sim"
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

// The admin API refuses what a web page could send it: a simple (text/plain) POST, a
// request from another origin, and a request addressed to a rebound host name. Each of
// them would otherwise reset the account or read its keys.
func TestTheAdminAPIRefusesWhatAWebPageCouldSend(t *testing.T) {
	s := startScenario(t, "demo")
	admin := s.srv.Info().Admin
	port := admin[strings.LastIndex(admin, ":")+1 : strings.Index(admin, "/_sim")]
	for _, tc := range []struct {
		name, method, path, contentType string
		header                          map[string]string
		host                            string
		want                            int
	}{
		{"a text/plain reset (a form or fetch without preflight)", http.MethodPost, "reset", "text/plain", nil, "", http.StatusUnsupportedMediaType},
		{"a form-encoded clock move", http.MethodPost, "clock", "application/x-www-form-urlencoded", nil, "", http.StatusUnsupportedMediaType},
		{"a reset with no content type", http.MethodPost, "reset", "", nil, "", http.StatusUnsupportedMediaType},
		{"a cross-origin reset", http.MethodPost, "reset", "application/json", map[string]string{"Origin": "http://evil.example"}, "", http.StatusForbidden},
		{"a cross-origin read of the keys", http.MethodGet, "info", "", map[string]string{"Origin": "http://evil.example"}, "", http.StatusForbidden},
		{"a cross-site fetch", http.MethodGet, "info", "", map[string]string{"Sec-Fetch-Site": "cross-site"}, "", http.StatusForbidden},
		{"a DNS-rebound read of the keys", http.MethodGet, "info", "", nil, "evil.example:" + port, http.StatusForbidden},
		{"a DNS-rebound reset", http.MethodPost, "reset", "application/json", nil, "rebind.evil.example:" + port, http.StatusForbidden},
		{"another port", http.MethodGet, "info", "", nil, "127.0.0.1:1", http.StatusForbidden},
		// What the tool's own clients send.
		{"a JSON reset", http.MethodPost, "reset", "application/json", nil, "", http.StatusOK},
		{"a same-origin read", http.MethodGet, "info", "", map[string]string{"Origin": strings.TrimSuffix(admin, "/_sim")}, "", http.StatusOK},
		{"localhost", http.MethodGet, "info", "", nil, "localhost:" + port, http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, admin+"/"+tc.path, strings.NewReader("{}"))
			if tc.contentType != "" {
				req.Header.Set("Content-Type", tc.contentType)
			}
			for k, v := range tc.header {
				req.Header.Set(k, v)
			}
			if tc.host != "" {
				req.Host = tc.host
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Fatalf("answered %d, want %d: %s", resp.StatusCode, tc.want, body)
			}
			if tc.want != http.StatusOK && strings.Contains(string(body), s.srv.Info().SecretAccessKey) {
				t.Fatal("a refused request was shown the keys")
			}
		})
	}
	// Nothing refused reached the account: only the JSON reset is in the event log's
	// history (it empties the log), and the clock did not move.
	var clock struct{ Now time.Time }
	s.admin(http.MethodGet, "clock", "", &clock)
	if d := time.Since(clock.Now); d < -time.Minute || d > time.Minute {
		t.Fatalf("a refused request moved the clock by %v", -d)
	}
}

// The stand-in listens beyond loopback only when told to in so many words.
func TestServingBeyondLoopbackNeedsConsent(t *testing.T) {
	sc, err := sim.LoadScenario("empty")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sim.New(sc)
	if err != nil {
		t.Fatal(err)
	}
	for _, addr := range []string{"0.0.0.0:0", "[::]:0", ":0", "192.0.2.1:0", "example.com:0"} {
		if err := srv.Start(addr); err == nil || !strings.Contains(err.Error(), "--allow-remote") {
			srv.Close()
			t.Fatalf("Start(%q) without consent: %v", addr, err)
		}
	}
	for _, addr := range []string{"127.0.0.1:0", "localhost:0", "[::1]:0", "127.0.0.2:0"} {
		if !sim.IsLoopback(addr) {
			t.Errorf("%s is loopback", addr)
		}
	}
}
