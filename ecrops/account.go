package ecrops

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/logging"
	"golang.org/x/time/rate"
)

// Config says which account to talk to and how. The zero value means the standard AWS
// configuration: default credential chain, AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL*.
type Config struct {
	Profile     string
	Region      string
	EndpointURL string // --endpoint-url: every AWS service at one URL (the stand-in does this)
	// Resolve maps upstream registry hosts (and the ECR registry host) to URLs, as
	// --resolve HOST=URL and PTCDOCTOR_RESOLVE say.
	Resolve map[string]string
	// ReadOnly refuses every write, in Apply, before any network traffic.
	ReadOnly bool
	// Rates caps the calls per second of operations ("DescribeImages": 20, "*": 50), so
	// that a scan runs at AWS's limits and not above them. Nil: no cap (adaptive retry).
	Rates map[string]float64
	// Concurrency bounds the calls in flight; 0 means 16.
	Concurrency int
	// Retryer replaces the SDK's adaptive retry mode (tests use a standard retryer with
	// no backoff: adaptive mode sleeps about 2 s per throttle).
	Retryer func() aws.Retryer
	// Credentials replace the default credential chain (the embedded demo uses this).
	Credentials aws.CredentialsProvider
	// AssumedRole names the role whose session Credentials are (a fleet target's), for
	// the journal: where a write was made and how to reach that account again.
	AssumedRole string
	// StateDir holds the journal; "" means $XDG_STATE_HOME/ptcdoctor.
	StateDir string
	// NoSecretRead makes probes anonymous: the rule's secret is not read.
	NoSecretRead bool
	// ProbeTimeout bounds one upstream probe, so that a hanging upstream cannot hold a
	// diagnosis; 0 means 20 seconds.
	ProbeTimeout time.Duration
}

// Account is one registry (account and region) and the clients that reach it.
type Account struct {
	cfg     Config
	aws     aws.Config
	ecr     *ecr.Client
	sm      *secretsmanager.Client
	sts     *sts.Client
	iam     *iam.Client
	meter   *meter
	http    *http.Client
	journal *Journal

	idOnce   sync.Once
	identity Identity
	idErr    error

	credMu sync.Mutex
	creds  map[string][2]string // rule secrets read for probes, by ARN; never written anywhere

	sdk          *sdkShare // what a fleet's targets share (fleet.go); nil for one account
	upstreamOnce sync.Once
	upstream     http.RoundTripper // every registry call: one connection pool, shared by the probes (upstream.go)
	pings        pingCache         // its own; a fleet run's targets share the run's (probeshare.go)
	inRun        bool              // opened by EachTarget: its probes share the run's answers
}

// Identity is the caller, with the account and region the tool looks at.
type Identity struct {
	Account, ARN, UserID, Region, Profile string
}

// NoCredentialsError says that the standard AWS chain (flags, environment, the
// profile, SSO, the instance role) gave no usable credentials.
type NoCredentialsError struct {
	Profile string
	Err     error
}

func (e *NoCredentialsError) Error() string {
	profile := e.Profile
	if profile == "" {
		profile = "default"
	}
	return fmt.Sprintf("no usable AWS credentials (profile %s): %v\n"+
		"Name a profile with --profile or AWS_PROFILE (for an SSO profile, run `aws sso login --profile NAME` first), "+
		"or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; ptcdoctor --demo needs none", profile, e.Err)
}

func (e *NoCredentialsError) Unwrap() error { return e.Err }

// ErrReadOnly is returned by every write in read-only mode, before any network traffic.
var ErrReadOnly = errors.New("read-only mode: ptcdoctor makes no changes (run without --read-only to make them; in the interface, w turns writes on)")

// Open builds an Account from the standard AWS configuration and cfg.
func Open(ctx context.Context, cfg Config) (*Account, error) {
	opts, err := loadOptions(cfg)
	if err != nil {
		return nil, err
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("AWS configuration: %w", err)
	}
	return open(ctx, cfg, awsCfg)
}

// loadOptions are the SDK's configuration options that cfg asks for.
func loadOptions(cfg Config) ([]func(*config.LoadOptions) error, error) {
	var opts []func(*config.LoadOptions) error
	if cfg.Profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(cfg.Profile))
	}
	if cfg.Region != "" {
		opts = append(opts, config.WithRegion(cfg.Region))
	}
	if cfg.EndpointURL != "" {
		if _, err := url.ParseRequestURI(cfg.EndpointURL); err != nil {
			return nil, fmt.Errorf("--endpoint-url %q is not a URL", cfg.EndpointURL)
		}
		opts = append(opts, config.WithBaseEndpoint(cfg.EndpointURL))
	}
	if cfg.Credentials != nil {
		opts = append(opts, config.WithCredentialsProvider(cfg.Credentials))
	}
	if cfg.Retryer != nil {
		opts = append(opts, config.WithRetryer(cfg.Retryer))
	} else {
		opts = append(opts, config.WithRetryer(func() aws.Retryer {
			return retry.NewAdaptiveMode(func(o *retry.AdaptiveModeOptions) {
				o.StandardOptions = append(o.StandardOptions, func(so *retry.StandardOptions) { so.MaxAttempts = 8 })
			})
		}))
	}
	// The SDK's own warnings (an IMDS fallback, a retried call) would land in the
	// middle of the TUI's screen; what matters reaches the user as an error.
	opts = append(opts, config.WithLogger(logging.Nop{}))
	return opts, nil
}

// open builds an Account on an SDK configuration loaded with cfg's options.
func open(ctx context.Context, cfg Config, awsCfg aws.Config) (*Account, error) {
	// Credentials are looked for once, here, so that their absence is one clear
	// message rather than the same failure repeated by every call of the scan.
	// The SDK caches what it finds, so the scan does not look again.
	if _, err := awsCfg.Credentials.Retrieve(ctx); err != nil {
		return nil, &NoCredentialsError{Profile: cfg.Profile, Err: err}
	}
	// The meter goes in front of the client the configuration built (with AWS_CA_BUNDLE
	// and the like applied), below the SDK's retries, so it sees every attempt.
	m := newMeter(cfg.Rates)
	inner := awsCfg.HTTPClient
	if inner == nil {
		inner = awshttp.NewBuildableClient()
	}
	awsCfg.HTTPClient = meteredClient{inner: inner, meter: m}
	if awsCfg.Region == "" {
		return nil, errors.New("no AWS region: set --region, AWS_REGION, or a region in your profile")
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 16
	}
	a := &Account{cfg: cfg, aws: awsCfg, meter: m, http: &http.Client{Transport: http.DefaultTransport, Timeout: 60 * time.Second},
		ecr: ecr.NewFromConfig(awsCfg), sm: secretsmanager.NewFromConfig(awsCfg),
		sts: sts.NewFromConfig(awsCfg), iam: iam.NewFromConfig(awsCfg), creds: map[string][2]string{}}
	dir := cfg.StateDir
	if dir == "" {
		dir = DefaultStateDir()
	}
	a.journal = &Journal{Dir: dir}
	return a, nil
}

// Region is the region the account is looked at in.
func (a *Account) Region() string { return a.aws.Region }

// ReadOnly reports whether writes are refused.
func (a *Account) ReadOnly() bool { return a.cfg.ReadOnly }

// SetReadOnly turns writes off or on (the TUI's toggle).
func (a *Account) SetReadOnly(ro bool) { a.cfg.ReadOnly = ro }

// Journal is where this account's writes are recorded.
func (a *Account) Journal() *Journal { return a.journal }

// Whoami asks STS who the caller is, once.
func (a *Account) Whoami(ctx context.Context) (Identity, error) {
	a.idOnce.Do(func() {
		out, err := a.sts.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			a.idErr = err
			return
		}
		a.identity = Identity{Account: aws.ToString(out.Account), ARN: aws.ToString(out.Arn),
			UserID: aws.ToString(out.UserId), Region: a.aws.Region, Profile: a.cfg.Profile}
	})
	return a.identity, a.idErr
}

func DefaultStateDir() string {
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return d + "/ptcdoctor"
	}
	if h, err := os.UserHomeDir(); err == nil {
		return h + "/.local/state/ptcdoctor"
	}
	return os.TempDir() + "/ptcdoctor"
}

// ParseResolve reads HOST=URL pairs, separated by commas (PTCDOCTOR_RESOLVE) or given one
// by one (--resolve).
func ParseResolve(items []string) (map[string]string, error) {
	out := map[string]string{}
	for _, item := range items {
		for _, pair := range strings.Split(item, ",") {
			pair = strings.TrimSpace(pair)
			if pair == "" {
				continue
			}
			host, target, ok := strings.Cut(pair, "=")
			if !ok || host == "" {
				return nil, fmt.Errorf("--resolve %q: want HOST=URL, like registry-1.docker.io=http://127.0.0.1:5000", pair)
			}
			u, err := url.Parse(target)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return nil, fmt.Errorf("--resolve %q: %q is not an http(s) URL", pair, target)
			}
			out[host] = u.Scheme + "://" + u.Host
		}
	}
	return out, nil
}

// meter counts every attempt per operation, the throttled ones, and caps each
// operation's rate when asked to. It sits below the SDK's retries, so it sees each attempt.
type meter struct {
	mu        sync.Mutex
	calls     map[string]int
	throttled map[string]int
	failed    int
	rates     map[string]float64
	limiters  map[string]*rate.Limiter
}

func newMeter(rates map[string]float64) *meter {
	return &meter{calls: map[string]int{}, throttled: map[string]int{}, rates: rates, limiters: map[string]*rate.Limiter{}}
}

// do sends one attempt through inner, within op's rate, and counts it.
func (m *meter) do(req *http.Request, inner aws.HTTPClient) (*http.Response, error) {
	op := operationOf(req)
	if lim := m.limiter(op); lim != nil {
		if err := lim.Wait(req.Context()); err != nil {
			return nil, err
		}
	}
	resp, err := inner.Do(req)
	if err == nil {
		resp.Body = &bodyWatcher{ReadCloser: resp.Body, meter: m}
	}
	m.count(op, resp, err, true)
	return resp, err
}

// count records one attempt of op and how it ended; failed counts the AWS attempts that
// failed (the SDK sends them again), not a registry's errors, which are the probes' answers.
func (m *meter) count(op string, resp *http.Response, err error, aws bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls[op]++
	switch {
	case err != nil:
		if aws {
			m.failed++
		}
	case isThrottle(resp):
		m.throttled[op]++
		if aws {
			m.failed++
		}
	case resp.StatusCode >= 500:
		if aws {
			m.failed++
		}
	}
}

func (m *meter) limiter(op string) *rate.Limiter {
	if m.rates == nil {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if l, ok := m.limiters[op]; ok {
		return l
	}
	r, ok := m.rates[op]
	if !ok {
		r, ok = m.rates["*"]
	}
	var l *rate.Limiter
	if ok && r > 0 {
		// A burst of one: a bucket the size of the rate lets a burst through at the start
		// that the service, whose bucket may be partly spent, throttles.
		l = rate.NewLimiter(rate.Limit(r), 1)
	}
	m.limiters[op] = l
	return l
}

// operationOf names the AWS operation of a request, as the SDK's stack put it in the
// request's context (X-Amz-Target for a request from elsewhere).
func operationOf(req *http.Request) string {
	if op := awsmiddleware.GetOperationName(req.Context()); op != "" {
		return op
	}
	if t := req.Header.Get("X-Amz-Target"); t != "" {
		if _, op, ok := strings.Cut(t, "."); ok {
			return op
		}
		return t
	}
	return "Unknown"
}

func isThrottle(resp *http.Response) bool {
	if resp.StatusCode == http.StatusTooManyRequests {
		return true
	}
	t := resp.Header.Get("X-Amzn-ErrorType")
	return strings.HasPrefix(t, "ThrottlingException") || strings.HasPrefix(t, "Throttling") || strings.HasPrefix(t, "TooManyRequestsException")
}

// Calls counts every call the account made since it was opened, AWS's and the
// registries', per operation: the throttled ones, and the attempts that failed (which
// the SDK retried). A verb takes the difference over what it did (doctor --stats).
func (a *Account) Calls() (calls, throttled map[string]int, failed int) {
	return a.meter.snapshotStats()
}

// snapshotStats copies the counters.
func (m *meter) snapshotStats() (calls, throttled map[string]int, failed int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	calls, throttled = map[string]int{}, map[string]int{}
	for k, v := range m.calls {
		calls[k] = v
	}
	for k, v := range m.throttled {
		throttled[k] = v
	}
	return calls, throttled, m.failed
}

// bodyWatcher counts an answer whose body broke off as a failed attempt: the SDK retries it.
type bodyWatcher struct {
	io.ReadCloser
	meter  *meter
	failed bool // counted once: Read is not called concurrently
}

func (b *bodyWatcher) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF && !b.failed {
		b.failed = true
		b.meter.mu.Lock()
		b.meter.failed++
		b.meter.mu.Unlock()
	}
	return n, err
}

// meteredClient is an HTTP client with the meter in front of it.
type meteredClient struct {
	inner aws.HTTPClient
	meter *meter
}

func (c meteredClient) Do(req *http.Request) (*http.Response, error) {
	return c.meter.do(req, c.inner)
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// NoBackoff is a standard retryer that retries at once, up to attempts times, without the
// retry quota: for tests and the stand-in, where the adaptive mode's pauses (about two
// seconds a throttle) would only slow things down.
func NoBackoff(attempts int) func() aws.Retryer {
	return func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = attempts
			o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
			o.RateLimiter = noRetryQuota{}
		})
	}
}

type noRetryQuota struct{}

func (noRetryQuota) GetToken(context.Context, uint) (func() error, error) {
	return func() error { return nil }, nil
}
func (noRetryQuota) AddTokens(uint) error { return nil }
