package sim

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// The stand-in's own cost of one request, as the fleet benchmark (make bench-fleet) makes
// them by the thousand a second: it serves 150 account-regions from one process on the
// cores the tool runs on, so what it spends per request is taken from what is measured.
//
// The requests are the SDK's own: a scan's calls are made once through the SDK (signed
// by it, with role sessions from STS AssumeRole through its provider) into the fleet in
// process, recorded, and then replayed as they were sent. Replaying is what a signature
// allows: the stand-in, as AWS within its skew, takes the same signed request again.

// recordedRequest is one request as it went over the wire.
type recordedRequest struct {
	method, host string
	url          *url.URL
	header       http.Header
	body         []byte
}

// request is a fresh server-side copy of it. The header is shared: the stand-in must not
// write into the request it was given.
func (r *recordedRequest) request() *http.Request {
	req := &http.Request{Method: r.method, URL: r.url, Host: r.host, Header: r.header, Proto: "HTTP/1.1",
		ProtoMajor: 1, ProtoMinor: 1, ContentLength: int64(len(r.body)), RemoteAddr: "127.0.0.1:40000",
		RequestURI: r.url.RequestURI(), Body: http.NoBody}
	if len(r.body) > 0 {
		req.Body = io.NopCloser(bytes.NewReader(r.body))
	}
	return req.WithContext(context.Background())
}

// recorder is an SDK transport that serves a request from the fleet in process and keeps it.
type recorder struct {
	handler http.Handler
	keep    *[]recordedRequest
}

func (t recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
	}
	rec := recordedRequest{method: req.Method, host: req.URL.Host, header: req.Header.Clone(), body: body}
	rec.url = &url.URL{Path: req.URL.Path, RawPath: req.URL.RawPath, RawQuery: req.URL.RawQuery}
	if t.keep != nil {
		*t.keep = append(*t.keep, rec)
	}
	w := httptest.NewRecorder()
	t.handler.ServeHTTP(w, rec.request())
	return w.Result(), nil
}

// discard is a ResponseWriter that keeps nothing but the status.
type discard struct {
	h      http.Header
	status int
}

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) WriteHeader(status int)      { d.status = status }
func (d *discard) Write(p []byte) (int, error) { return len(p), nil }

// benchFleet builds the fleet of make bench-fleet's default size (10 accounts x 3 regions
// x 50 repositories x 10 images), every operation of every account-region behind a token
// bucket too wide to refuse, so that the bucket is paid for but never says no.
func benchFleet(b *testing.B) *Fleet {
	sc, err := ParseScenario([]byte(`name: bench-serve
generate:
  accounts: 10
  regions: [us-east-1, eu-west-1, ap-southeast-2]
  rules: 1
  repositoriesPerRule: 50
  imagesPerRepository: 10
  faults: [{operation: "*", throttlePerSecond: 1000000000}]
`))
	if err != nil {
		b.Fatal(err)
	}
	f, err := NewFleet(sc)
	if err != nil {
		b.Fatal(err)
	}
	// Nothing listens: requests go to ServeHTTP. Info is what Start would print.
	for _, m := range f.members {
		key := m.adminPrincipal()
		m.info = Info{Registry: "http://" + m.st.accountID + "." + m.st.region + ".registry.invalid",
			Region: m.st.region, AccountID: m.st.accountID, AccessKeyID: key.AccessKeyID, SecretAccessKey: key.SecretAccessKey}
	}
	f.info = f.buildInfo("http://127.0.0.1:4566")
	return f
}

// recordScan makes, through the SDK as the audit role of every account in every region,
// the calls of a scan of each account-region: the repositories, then per repository its
// images, lifecycle policy, repository policy and tags; and a registry token. It returns
// the API requests (the AssumeRole calls left out) and one registry login per
// account-region.
func recordScan(b *testing.B, f *Fleet) (api []recordedRequest, logins []string) {
	ctx := context.Background()
	info := f.Info()
	mgmt := aws.Config{Region: info.Region, BaseEndpoint: aws.String(info.Endpoint),
		Credentials: credentials.NewStaticCredentialsProvider(info.AccessKeyID, info.SecretAccessKey, ""),
		HTTPClient:  &http.Client{Transport: recorder{handler: f}}}
	for _, a := range f.accounts {
		role := "arn:aws:iam::" + a.ID + ":role/" + GeneratedAuditRole
		creds := aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(mgmt), role))
		for _, r := range a.Regions {
			cfg := mgmt.Copy()
			cfg.Region, cfg.Credentials = r.Region, creds
			cfg.HTTPClient = &http.Client{Transport: recorder{handler: f, keep: &api}}
			client := ecr.NewFromConfig(cfg)
			tok, err := client.GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{})
			if err != nil {
				b.Fatal(err)
			}
			logins = append(logins, "Basic "+*tok.AuthorizationData[0].AuthorizationToken)
			api = api[:len(api)-1] // a token a scan asks once: not part of the mix
			repos := ecr.NewDescribeRepositoriesPaginator(client, &ecr.DescribeRepositoriesInput{})
			for repos.HasMorePages() {
				page, err := repos.NextPage(ctx)
				if err != nil {
					b.Fatal(err)
				}
				for _, repo := range page.Repositories {
					if _, err := client.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: repo.RepositoryName, MaxResults: aws.Int32(1000)}); err != nil {
						b.Fatal(err)
					}
					// A missing policy is an answer too (an error the scan reads as "none").
					client.GetLifecyclePolicy(ctx, &ecr.GetLifecyclePolicyInput{RepositoryName: repo.RepositoryName})
					client.GetRepositoryPolicy(ctx, &ecr.GetRepositoryPolicyInput{RepositoryName: repo.RepositoryName})
					if _, err := client.ListTagsForResource(ctx, &ecr.ListTagsForResourceInput{ResourceArn: repo.RepositoryArn}); err != nil {
						b.Fatal(err)
					}
				}
			}
		}
	}
	return api, logins
}

// recorded is the fleet and the scan recorded against it, made once for every run of the
// benchmarks (the testing package runs a benchmark several times to find its b.N).
var recorded struct {
	once   sync.Once
	f      *Fleet
	api    []recordedRequest
	logins []string
}

func recordedFleet(b *testing.B) (*Fleet, []recordedRequest, []string) {
	recorded.once.Do(func() {
		recorded.f = benchFleet(b)
		recorded.api, recorded.logins = recordScan(b, recorded.f)
	})
	if recorded.f == nil {
		b.Fatal("the fleet could not be built")
	}
	return recorded.f, recorded.api, recorded.logins
}

// BenchmarkServeFleetMix is the stand-in's cost per AWS API request in a scan's mix
// (DescribeRepositories, DescribeImages, GetLifecyclePolicy, GetRepositoryPolicy,
// ListTagsForResource), spread over the 30 account-regions of the fleet, signed by the
// SDK with role sessions, from the fleet's endpoint to the answer written.
func BenchmarkServeFleetMix(b *testing.B) {
	f, api, _ := recordedFleet(b)
	if len(api) < 1000 {
		b.Fatalf("recorded %d requests", len(api))
	}
	for _, r := range api[:5] {
		w := &discard{h: http.Header{}}
		f.ServeHTTP(w, r.request())
		if w.status != http.StatusOK && w.status != http.StatusBadRequest {
			b.Fatalf("%s: status %d", r.header.Get("X-Amz-Target"), w.status)
		}
	}
	w := &discard{h: http.Header{}}
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime()
	for i := range b.N {
		clear(w.h)
		f.ServeHTTP(w, api[i%len(api)].request())
	}
	b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")
	b.StopTimer()
	b.ReportMetric(float64(len(api)), "requests/scan")
}

// BenchmarkServeRegistry is the cost of the registry requests a scan's probes make of each
// account-region: a GET /v2/ with the login, and a manifest HEAD of a cached tag.
func BenchmarkServeRegistry(b *testing.B) {
	f, _, logins := recordedFleet(b)
	type probe struct {
		srv *Server
		req recordedRequest
	}
	var probes []probe
	for i, m := range f.members {
		h := http.Header{"Authorization": {logins[i]}, "User-Agent": {"go-containerregistry/v0.22.1"},
			"Accept": {"application/vnd.oci.image.index.v1+json,application/vnd.docker.distribution.manifest.v2+json"}}
		var repo, tag string
		for name, r := range m.st.repos {
			for t := range r.tags {
				repo, tag = name, t
				break
			}
			if tag != "" {
				break
			}
		}
		probes = append(probes,
			probe{m, recordedRequest{method: http.MethodGet, header: h, url: &url.URL{Path: "/v2/"}}},
			probe{m, recordedRequest{method: http.MethodHead, header: h, url: &url.URL{Path: "/v2/" + repo + "/manifests/" + tag}}})
	}
	if raw, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(logins[0], "Basic ")); !strings.HasPrefix(string(raw), "AWS:") {
		b.Fatalf("login %q", raw)
	}
	for _, p := range probes[:2] {
		w := &discard{h: http.Header{}}
		p.srv.serveRegistry(w, p.req.request())
		if w.status != 0 && w.status != http.StatusOK && w.status != http.StatusNotFound {
			b.Fatalf("%s %s: status %d", p.req.method, p.req.url.Path, w.status)
		}
	}
	w := &discard{h: http.Header{}}
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime()
	for i := range b.N {
		clear(w.h)
		p := probes[i%len(probes)]
		p.srv.serveRegistry(w, p.req.request())
	}
	b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")
}

// cpuTime is the CPU the process has used (user and system, every thread: the garbage
// collector's too), which the other loads of a shared machine disturb less than the
// wall time of ns/op.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
