package ecrops

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/smithy-go/middleware"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/ptcdoctor/ptcdoctor/model"
)

// The probes read without changing anything: an upstream's answer for a reference, the
// cache's state for a reference, a principal's permissions for pulling through.

// ProbeUpstream asks the rule's upstream about a reference, with the rule's credentials
// (read from its secret and held in memory for this call only) unless NoSecretRead is set.
// In a fleet run, a target gets the answer another target had for the same reference and
// credentials (probeshare.go).
func (a *Account) ProbeUpstream(ctx context.Context, rule model.Rule, upstreamRef string) model.UpstreamProbe {
	return a.probeUpstream(ctx, rule, upstreamRef, a.sharedRun())
}

// probeUpstream is ProbeUpstream, sharing the answer in run (nil: asked afresh, as a
// write's premise always is).
func (a *Account) probeUpstream(ctx context.Context, rule model.Rule, upstreamRef string, run *sharedProbes) model.UpstreamProbe {
	ctx, cancel := context.WithTimeout(ctx, a.probeTimeout())
	defer cancel()
	p := model.UpstreamProbe{Reference: upstreamRef}
	ref, err := name.ParseReference(upstreamRef, name.WeakValidation)
	if err != nil {
		p.Class, p.Message = "invalid", model.Printable(err.Error())
		return p
	}
	auth, known := a.ruleAuth(ctx, rule, &p)
	if run == nil {
		return a.probeWith(ctx, ref, auth, p, known)
	}
	return run.answer(ctx, ref, known, p, func() model.UpstreamProbe { return a.probeWith(ctx, ref, auth, p, known) })
}

// ruleAuth is how a probe logs in to a rule's upstream: with the rule's credentials, or
// anonymously, and then why (set in p, with the secret's read error when it failed).
func (a *Account) ruleAuth(ctx context.Context, rule model.Rule, p *model.UpstreamProbe) (authn.Authenticator, secrets) {
	switch {
	case rule.CredentialArn == "":
		p.Anonymous, p.Why = true, "the rule has no credentials"
	case a.cfg.NoSecretRead:
		p.Anonymous, p.Why = true, "--no-secret-read: probed anonymously from this machine"
	default:
		user, token, err := a.readCredentials(ctx, rule.CredentialArn)
		if err == nil {
			return &authn.Basic{Username: user, Password: token}, secrets{user: user, token: token}
		}
		pe := secretReadError(rule.CredentialArn, err)
		p.Anonymous, p.Why, p.SecretError = true, "the rule's secret could not be read ("+pe.Message+"); probed anonymously", &pe
	}
	return authn.Anonymous, secrets{}
}

// secretReadError words a failed read of a rule's secret as the part of a probe it is.
func secretReadError(arn string, err error) model.PartError {
	var pe model.PartError
	if errors.As(err, &pe) {
		return pe
	}
	return model.PartError{Part: "secret " + arn, Operation: "GetSecretValue", Message: model.Printable(err.Error())}
}

// secrets are the credentials a probe sent. An upstream may echo them in its error text
// (a misconfigured proxy, a login page): every text a probe keeps is masked with them
// first, here where they are known, so that no later path can show, store or print them.
type secrets struct{ user, token string }

// mask replaces the token with ****: as written, in any case (upper, lower or mixed),
// URL-escaped, spaced out letter by letter, and the token and user:token (the Basic
// authorization) in base64 (standard and URL alphabets, padded or not) and in hex.
func (k secrets) mask(s string) string {
	if k.token == "" {
		return s
	}
	pair := k.user + ":" + k.token
	var exact, anyCase []string // base64 is case-sensitive; the rest is not
	for _, v := range []string{k.token, pair} {
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
			b := enc.EncodeToString([]byte(v))
			exact = append(exact, b, strings.TrimRight(b, "="))
		}
		anyCase = append(anyCase, hex.EncodeToString([]byte(v)))
	}
	anyCase = append(anyCase, k.token, url.QueryEscape(k.token), url.PathEscape(k.token), strings.Join(strings.Split(k.token, ""), " "))
	for _, v := range exact {
		if len(v) >= 4 {
			s = strings.ReplaceAll(s, v, "****")
		}
	}
	for _, v := range anyCase {
		if len(v) >= 4 {
			s = regexp.MustCompile("(?i)"+regexp.QuoteMeta(v)).ReplaceAllLiteralString(s, "****")
		}
	}
	return s
}

// CheckCredentials tries an upstream user name and token before anything is stored: it
// logs in to the upstream's token service and, for Docker Hub, reads the pull budget the
// credentials get. Exists is true when the upstream accepted them.
func (a *Account) CheckCredentials(ctx context.Context, registryURL, username, token string) model.UpstreamProbe {
	ctx, cancel := context.WithTimeout(ctx, a.probeTimeout())
	defer cancel()
	auth := &authn.Basic{Username: username, Password: token}
	known := secrets{user: username, token: token}
	if registryURL == model.DockerHubRegistry {
		ref, _ := name.ParseReference(registryURL+"/ratelimitpreview/test:latest", name.WeakValidation)
		return a.probeWith(ctx, ref, auth, model.UpstreamProbe{Reference: ref.String()}, known)
	}
	p := model.UpstreamProbe{Reference: registryURL}
	reg, err := name.NewRegistry(registryURL)
	if err != nil {
		p.Class, p.Message = "invalid", model.Printable(err.Error())
		return p
	}
	_, err = transport.NewWithContext(ctx, reg, auth, a.upstreamTransport(), []string{reg.Scope(transport.PullScope)})
	if err != nil {
		p.Status, p.Class, p.Message = classifyRegistryError(err, known.mask)
		if p.Class == "network" && strings.Contains(err.Error(), "401") {
			p.Status, p.Class = http.StatusUnauthorized, "unauthorized"
		}
		return p
	}
	p.Exists, p.Status = true, http.StatusOK
	return p
}

// retryServerErrors is the retry every call to an upstream makes: 5xx only, for 429 must
// reach the person, not be retried away.
var retryServerErrors = remote.WithRetryStatusCodes(http.StatusInternalServerError, http.StatusBadGateway,
	http.StatusServiceUnavailable, http.StatusGatewayTimeout)

// retryUnlessFailing is go-containerregistry's own retry predicate (a temporary error, a
// connection cut), except for a registry whose ping failure is learned: a retry would only
// replay that failure after its backoff, and 200 probes would each wait for nothing.
func (a *Account) retryUnlessFailing(registry string) remote.Option {
	return remote.WithRetryPredicate(func(err error) bool {
		if err == nil || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) || a.pingsNow().failing(registry) {
			return false
		}
		var t interface{ Temporary() bool }
		return errors.As(err, &t) && t.Temporary() || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
			errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, net.ErrClosed)
	})
}

func (a *Account) probeWith(ctx context.Context, ref name.Reference, auth authn.Authenticator, p model.UpstreamProbe, known secrets) model.UpstreamProbe {
	rec := &headerRecorder{}
	opts := []remote.Option{remote.WithContext(ctx), remote.WithAuth(auth),
		remote.WithTransport(rec.wrap(a.upstreamTransport())),
		retryServerErrors, a.retryUnlessFailing(ref.Context().RegistryStr()),
		remote.WithRetryBackoff(remote.Backoff{Steps: 2, Duration: 200 * time.Millisecond, Factor: 2})}
	desc, err := remote.Head(ref, opts...)
	p.RateLimit = rec.rateLimit()
	if err != nil {
		p.Status, p.Class, p.Message = classifyRegistryError(err, known.mask)
		return p
	}
	p.Exists, p.Digest, p.MediaType, p.Status = true, desc.Digest.String(), string(desc.MediaType), http.StatusOK
	if desc.MediaType.IsIndex() {
		// The platforms need the index itself: a GET, which an upstream may count or refuse.
		full, err := remote.Get(ref, opts...)
		p.RateLimit = rec.rateLimit()
		if err != nil {
			p.Status, p.Class, p.Message = classifyRegistryError(err, known.mask)
			return p
		}
		if idx, err := full.ImageIndex(); err == nil {
			if im, err := idx.IndexManifest(); err == nil {
				for _, m := range im.Manifests {
					if m.Platform != nil {
						p.Platforms = append(p.Platforms, m.Platform.String())
					}
				}
			}
		}
	}
	return p
}

func (a *Account) probeTimeout() time.Duration {
	if a.cfg.ProbeTimeout > 0 {
		return a.cfg.ProbeTimeout
	}
	return 20 * time.Second
}

// readCredentials reads a rule's secret: {"username", "accessToken"}. The value is kept
// in memory for the probes that follow a scan, and forgotten at the next scan or write.
func (a *Account) readCredentials(ctx context.Context, arn string) (string, string, error) {
	a.credMu.Lock()
	c, ok := a.creds[arn]
	a.credMu.Unlock()
	if ok {
		return c[0], c[1], nil
	}
	user, token, err := a.fetchCredentials(ctx, arn)
	if err == nil {
		a.credMu.Lock()
		a.creds[arn] = [2]string{user, token}
		a.credMu.Unlock()
	}
	return user, token, err
}

// forgetCredentials forgets the secrets read, and what the registries answered to their
// pings: a new scan starts from what is there now. The fleet run's answers stay: the run
// is a fleet scan's freshness, and the other targets are using them.
func (a *Account) forgetCredentials() {
	a.credMu.Lock()
	a.creds = map[string][2]string{}
	a.credMu.Unlock()
	a.pings.forget()
}

// forgetAfterWrite is forgetCredentials after a write, which forgets the fleet run's
// answers too: nothing learned before a write is kept across it.
func (a *Account) forgetAfterWrite() {
	a.forgetCredentials()
	if a.sdk != nil {
		a.sdk.probes.renew()
	}
}

func (a *Account) fetchCredentials(ctx context.Context, arn string) (string, string, error) {
	out, err := a.sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)})
	if err != nil {
		return "", "", partError("secret "+arn, "GetSecretValue", err)
	}
	var c struct {
		Username    string `json:"username"`
		AccessToken string `json:"accessToken"`
	}
	if json.Unmarshal([]byte(aws.ToString(out.SecretString)), &c) != nil || c.Username == "" || c.AccessToken == "" {
		return "", "", model.PartError{Part: "secret " + arn, Operation: "GetSecretValue", Message: "the secret value is not {\"username\", \"accessToken\"}"}
	}
	return c.Username, c.AccessToken, nil
}

// classifyRegistryError sorts a registry's error; mask hides the credentials the
// request carried before the text is kept.
func classifyRegistryError(err error, mask func(string) string) (int, string, string) {
	var te *transport.Error
	if !errors.As(err, &te) {
		return 0, "network", model.Printable(mask(err.Error()))
	}
	msg := ""
	for _, d := range te.Errors {
		msg = strings.TrimSpace(msg + " " + string(d.Code) + ": " + d.Message)
	}
	if msg == "" {
		msg = http.StatusText(te.StatusCode)
	}
	class := "server-error"
	switch {
	case te.StatusCode == http.StatusUnauthorized:
		class = "unauthorized"
	case te.StatusCode == http.StatusForbidden:
		class = "forbidden"
	case te.StatusCode == http.StatusNotFound:
		class = "not-found"
	case te.StatusCode == http.StatusTooManyRequests:
		class = "rate-limited"
	case te.StatusCode < 500:
		class = "client-error"
	}
	return te.StatusCode, class, model.Printable(mask(msg))
}

func noMask(s string) string { return s }

// headerRecorder keeps the rate-limit headers of the last manifest answer.
type headerRecorder struct {
	mu sync.Mutex
	h  http.Header
}

func (r *headerRecorder) wrap(base http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(req *http.Request) (*http.Response, error) {
		resp, err := base.RoundTrip(req)
		if err == nil && strings.Contains(req.URL.Path, "/manifests/") && resp.Header.Get("ratelimit-limit") != "" {
			r.mu.Lock()
			r.h = resp.Header.Clone()
			r.mu.Unlock()
		}
		return resp, err
	})
}

func (r *headerRecorder) rateLimit() *model.RateLimit {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.h == nil {
		return nil
	}
	limit, window := parseRateHeader(r.h.Get("ratelimit-limit"))
	remaining, _ := parseRateHeader(r.h.Get("ratelimit-remaining"))
	return &model.RateLimit{Limit: limit, Remaining: remaining, WindowSeconds: window, Source: model.Printable(r.h.Get("docker-ratelimit-source"))}
}

// parseRateHeader reads "100;w=21600".
func parseRateHeader(v string) (n, window int) {
	head, rest, _ := strings.Cut(v, ";")
	n, _ = strconv.Atoi(strings.TrimSpace(head))
	if w, ok := strings.CutPrefix(strings.TrimSpace(rest), "w="); ok {
		window, _ = strconv.Atoi(w)
	}
	return max(0, n), max(0, window)
}

// ParseRateHeader is parseRateHeader for fuzzing and for callers that read headers themselves.
func ParseRateHeader(v string) (n, window int) { return parseRateHeader(v) }

// --- the cache ---

// ProbeCache looks a reference up in the cache without pulling it: DescribeImages, and
// for an index its manifest by digest, which never pulls through.
func (a *Account) ProbeCache(ctx context.Context, repo, tagOrDigest string) model.CacheProbe {
	p := model.CacheProbe{Repository: repo}
	id := ecrtypes.ImageIdentifier{ImageTag: aws.String(tagOrDigest)}
	if strings.HasPrefix(tagOrDigest, "sha256:") {
		id = ecrtypes.ImageIdentifier{ImageDigest: aws.String(tagOrDigest)}
	}
	out, err := a.ecr.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String(repo), ImageIds: []ecrtypes.ImageIdentifier{id}})
	var rnf *ecrtypes.RepositoryNotFoundException
	var inf *ecrtypes.ImageNotFoundException
	switch {
	case errors.As(err, &rnf):
		return p
	case errors.As(err, &inf):
		p.RepositoryExists = true
		return p
	case err != nil:
		pe := partError("cache "+repo+":"+tagOrDigest, "DescribeImages", err)
		p.Error = &pe
		return p
	}
	d := out.ImageDetails[0]
	p.RepositoryExists, p.Cached = true, true
	p.Digest, p.MediaType, p.LastPull = aws.ToString(d.ImageDigest), aws.ToString(d.ImageManifestMediaType), aws.ToTime(d.LastRecordedPullTime)
	p.Archived = d.ImageStatus == ecrtypes.ImageStatusArchived || d.ImageStatus == ecrtypes.ImageStatusActivating
	img := model.Image{Digest: model.ParseDigest(p.Digest), MediaType: model.MediaTypeOf(p.MediaType)}
	if !img.IsIndex() {
		return p
	}
	repoModel := model.Repository{Name: repo, Images: []model.Image{img}}
	// The children's presence: ask for them by digest.
	a.readIndexes(ctx, &repoModel, func(part, op string, err error) {
		pe := partError(part, op, err)
		p.Error = &pe
	})
	children := repoModel.Images[0].Children()
	if len(children) > 0 {
		var ids []ecrtypes.ImageIdentifier
		for _, c := range children {
			ids = append(ids, ecrtypes.ImageIdentifier{ImageDigest: aws.String(c.Digest)})
		}
		found := map[string]bool{}
		for len(ids) > 0 {
			n := min(100, len(ids))
			out, err := a.ecr.BatchGetImage(ctx, &ecr.BatchGetImageInput{RepositoryName: aws.String(repo), ImageIds: ids[:n], AcceptedMediaTypes: manifestMediaTypes})
			ids = ids[n:]
			if err != nil {
				pe := partError("cache "+repo+" platforms", "BatchGetImage", err)
				p.Error = &pe
				break
			}
			for _, im := range out.Images {
				found[aws.ToString(im.ImageId.ImageDigest)] = true
			}
		}
		for i := range children {
			children[i].Present = found[children[i].Digest]
		}
	}
	p.Children = children
	return p
}

// --- permissions ---

// PullActions are the actions a principal needs to pull through the cache; the last two
// only when the repository must be created, and when the template adds tags.
var PullActions = []string{"ecr:GetAuthorizationToken", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer",
	"ecr:BatchCheckLayerAvailability", "ecr:BatchImportUpstreamImage", "ecr:CreateRepository", "ecr:TagResource"}

// PermissionProbe says, for each pull-through action, whether the principal may take it.

// ProbePermissions simulates the principal's policies for the pull-through actions on a
// repository, and reads the registry policy for grants that IAM's simulation does not see.
func (a *Account) ProbePermissions(ctx context.Context, principal, repoARN, registryPolicy string, actions []string) model.PermissionProbe {
	p := model.PermissionProbe{Principal: IAMPrincipal(principal), Repository: repoARN, Decisions: map[string]string{}, RegistryPolicy: map[string]bool{}}
	out, err := a.iam.SimulatePrincipalPolicy(ctx, &iam.SimulatePrincipalPolicyInput{
		PolicySourceArn: aws.String(p.Principal), ActionNames: actions, ResourceArns: []string{repoARN}})
	if err != nil {
		pe := partError("permissions of "+p.Principal, "SimulatePrincipalPolicy", err)
		p.Error = &pe
		return p
	}
	for _, r := range out.EvaluationResults {
		p.Decisions[aws.ToString(r.EvalActionName)] = string(r.EvalDecision)
	}
	for _, act := range actions {
		grant, deny := registryPolicyDecision(registryPolicy, principal, p.Principal, act, repoARN)
		p.RegistryPolicy[act] = grant
		if p.Decisions[act] == "explicitDeny" || deny || (p.Decisions[act] != "allowed" && !grant) {
			p.Missing = append(p.Missing, act)
		}
	}
	return p
}

// IAMPrincipal turns the ARN a role calls with (arn:aws:sts::…:assumed-role/NAME/session)
// into the role's ARN, which IAM's simulation wants.
func IAMPrincipal(arn string) string {
	if rest, ok := strings.CutPrefix(arn, "arn:aws:sts::"); ok {
		acct, role, ok := strings.Cut(rest, ":assumed-role/")
		if ok {
			name, _, _ := strings.Cut(role, "/")
			return fmt.Sprintf("arn:aws:iam::%s:role/%s", acct, name)
		}
	}
	return arn
}

// --- warming ---

// registry returns the ECR registry's host and login, from GetAuthorizationToken.
func (a *Account) registry(ctx context.Context) (string, []name.Option, authn.Authenticator, error) {
	out, err := a.ecr.GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{})
	if err != nil {
		return "", nil, nil, err
	}
	if len(out.AuthorizationData) == 0 {
		return "", nil, nil, errors.New("GetAuthorizationToken returned no token")
	}
	d := out.AuthorizationData[0]
	raw, err := base64.StdEncoding.DecodeString(aws.ToString(d.AuthorizationToken))
	if err != nil {
		return "", nil, nil, fmt.Errorf("GetAuthorizationToken: the token is not base64: %w", err)
	}
	user, pass, _ := strings.Cut(string(raw), ":")
	u, err := url.Parse(aws.ToString(d.ProxyEndpoint))
	if err != nil || u.Host == "" {
		return "", nil, nil, fmt.Errorf("GetAuthorizationToken: proxyEndpoint %q is not a URL", aws.ToString(d.ProxyEndpoint))
	}
	var opts []name.Option
	if u.Scheme == "http" {
		opts = append(opts, name.Insecure)
	}
	return u.Host, opts, &authn.Basic{Username: user, Password: pass}, nil
}

// Warm pulls a reference through the cache by tag, with every platform's manifest, so
// that ECR imports it now rather than at the next pull.
func (a *Account) Warm(ctx context.Context, repo, tag string) (string, error) {
	host, nameOpts, auth, err := a.registry(ctx)
	if err != nil {
		return "", err
	}
	ref, err := name.NewTag(host+"/"+repo+":"+tag, nameOpts...)
	if err != nil {
		return "", err
	}
	opts := []remote.Option{remote.WithContext(ctx), remote.WithAuth(auth), remote.WithTransport(a.upstreamTransport()),
		remote.WithRetryStatusCodes(http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable),
		a.retryUnlessFailing(ref.Context().RegistryStr())}
	desc, err := remote.Get(ref, opts...)
	if err != nil {
		_, _, msg := classifyRegistryError(err, noMask)
		return "", fmt.Errorf("pulling %s through the cache: %s", ref, msg)
	}
	if desc.MediaType.IsIndex() {
		idx, err := desc.ImageIndex()
		if err != nil {
			return "", err
		}
		im, err := idx.IndexManifest()
		if err != nil {
			return "", err
		}
		for _, m := range im.Manifests {
			if _, err := remote.Get(ref.Context().Digest(m.Digest.String()), opts...); err != nil {
				_, _, msg := classifyRegistryError(err, noMask)
				return "", fmt.Errorf("platform %v of %s: %s", m.Platform, ref, msg)
			}
		}
	}
	return desc.Digest.String(), nil
}

func warm(ctx context.Context, a *Account, s model.Step, _ string) (middleware.Metadata, error) {
	_, err := a.Warm(ctx, s.Param("repositoryName"), s.Param("imageTag"))
	return middleware.Metadata{}, err
}

// DescribeSecret reads one secret's metadata (never its value).
func (a *Account) DescribeSecret(ctx context.Context, arn string) model.SecretRef {
	ref := model.SecretRef{ARN: arn}
	a.describeSecret(ctx, &ref)
	return ref
}

// ValidateRule asks ValidatePullThroughCacheRule about one rule.
func (a *Account) ValidateRule(ctx context.Context, prefix string) model.Validation {
	return *a.validateRule(ctx, prefix)
}

// RuleSecrets lists the secrets a pull through cache rule can use (ecr-pullthroughcache/...),
// with their metadata; never their values.
func (a *Account) RuleSecrets(ctx context.Context) ([]model.SecretRef, error) {
	var out []model.SecretRef
	p := secretsmanager.NewListSecretsPaginator(a.sm, &secretsmanager.ListSecretsInput{MaxResults: aws.Int32(100),
		Filters: []smtypes.Filter{{Key: smtypes.FilterNameStringTypeName, Values: []string{"ecr-pullthroughcache/"}}}})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return out, errors.New(partError("secrets", "ListSecrets", err).Error())
		}
		for _, s := range page.SecretList {
			out = append(out, model.SecretRef{ARN: aws.ToString(s.ARN), Name: aws.ToString(s.Name), Region: a.aws.Region, Exists: true,
				KMSKeyID: aws.ToString(s.KmsKeyId), LastChanged: aws.ToTime(s.LastChangedDate), Deleted: s.DeletedDate != nil})
		}
	}
	return out, nil
}
