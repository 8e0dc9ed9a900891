package diagnose

import (
	"regexp"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/ptcdoctor/ptcdoctor/model"
)

// Reading a pasted error line needs no account: what it says (its shape), the image
// reference and the hosts it names, and the causes that shape allows. Deciding between
// those causes may need the account; explain_error.go does that.

// ErrorReading is what one pasted error line says by itself.
type ErrorReading struct {
	Line    string // the line, made printable
	Shape   string // the family of message (see shapes)
	Matched string // the words that gave the shape away
	// Reference is the image reference the line names, as written ("" when none).
	Reference string
	// InvalidReference is what the line gives as its image when that does not parse as
	// a reference (a stray backtick, a space, a shell command): the line then names no
	// image and no cause; Reference stays "".
	InvalidReference string
	// Hosts are the hosts the failing requests went to, in the line's order.
	Hosts []string
	// Action is the IAM action an AccessDenied names (ecr:BatchGetImage).
	Action string
	// Principal is the IAM principal an AccessDenied names.
	Principal string
	// RateLimit is the ratelimit-* header text the line quotes, if any.
	RateLimit string
	// Candidates are the causes the line allows, most likely first; one when the line
	// alone settles it.
	Candidates []string
	// APICall is set for the aws CLI's (or an SDK's) words, "An error occurred (…) when
	// calling the … operation": the caller talked to ECR's API, so a repository name in
	// it is a path in the account, never an upstream reference.
	APICall bool
}

// shape is one family of error message: the words that give it away, and how to turn
// the line's reference and hosts into candidate causes.
type shape struct {
	id     string
	re     *regexp.Regexp
	causes func(r *ErrorReading) []string
}

func fixed(ids ...string) func(*ErrorReading) []string {
	return func(*ErrorReading) []string { return ids }
}

// shapes are tried in order: the most specific words first, so that ECR's own message
// inside a client's wrapper ("pull access denied …: denied: The authentication to the
// upstream registry failed") is read for what ECR said.
var shapes = []shape{
	{"ecr-throttled", regexp.MustCompile(`(?i)(?:toomanyrequests|ThrottlingException|ThrottledException)[:)]?[^\n]{0,80}Rate exceeded`), fixed("ecr-throttled")},
	{"rule-secret-missing", regexp.MustCompile(`(?i)SecretNotFoundException`), fixed("rule-secret-missing")},
	{"mirror-override-path", overridePathRE, fixed("mirror-override-path")},
	{"platform-missing", regexp.MustCompile(`(?i)no match for platform in manifest|no matching manifest for \S+ in the manifest list`), platformCauses},
	{"rule-needs-credentials", regexp.MustCompile(`(?i)UnsupportedUpstreamRegistryException[^\n]*requires authentication|upstream registry requires authentication`), fixed("rule-needs-credentials")},
	{"unsupported-upstream", regexp.MustCompile(`(?i)UnsupportedUpstreamRegistryException|upstream registry isn't supported|upstream registry URL \S+ is invalid`), fixed("unsupported-upstream")},
	{"secret-unusable", regexp.MustCompile(`(?i)UnableToGetUpstream(Image|Layer)Exception|unable to be pulled using the pull through cache rule`), fixed("secret-unusable")},
	{"kms-error", regexp.MustCompile(`(?i)\bKmsError\b|KmsException|kms:Decrypt`), fixed("kms-error")},
	{"image-archived", regexp.MustCompile(`(?i)\bImageInaccessible\b|ImageArchivedException|image is archived|archived images? cannot be pulled|imageStatus[^\n]{0,8}ARCHIVED`), fixed("image-archived")},
	{"upstream-unavailable", regexp.MustCompile(`(?i)\bUpstreamUnavailable\b`), fixed("upstream-unavailable")},
	{"upstream-denied", regexp.MustCompile(`(?i)authentication to the upstream registry failed|\bUpstreamAccessDenied(?:Exception)?\b|upstream registry denied access`), upstreamDeniedCauses},
	{"cross-account", regexp.MustCompile(`(?i)no resource-based policy allows the ecr:`), fixed("cross-account-policy")},
	{"access-denied", regexp.MustCompile(`(?i)not authorized to perform:? (ecr:[A-Za-z]+)`), accessDeniedCauses},
	{"rate-limited", regexp.MustCompile(`(?i)toomanyrequests|too many requests|\b429\b|pull rate limit|UpstreamTooManyRequests|HAP429`), rateLimitCauses},
	{"client-credentials", regexp.MustCompile(`(?i)no basic auth credentials|authorization token has expired|credential required for basic auth|unauthorized: authentication required|\b401\b|Not Authorized|failed to fetch (oauth|anonymous) token|unable to retrieve auth token`), clientCredentialsCauses},
	{"tag-listing", regexp.MustCompile(`(?i)unable to locate any tags|could not fetch tags|fetching tags list|/tags/list`), fixed("tag-listing")},
	{"forbidden", regexp.MustCompile(`(?i)403 Forbidden|status code \[manifests [^\]]*\]: 403|\b403\b`), forbiddenCauses},
	{"cdn", regexp.MustCompile(`(?i)production\.cloudflare\.docker\.com|docker-images-prod\.[a-z0-9.]+|[a-z0-9]+\.cloudfront\.net|r2\.cloudflarestorage\.com`), cdnCauses},
	{"network", regexp.MustCompile(`(?i)dial tcp|i/o timeout|TLS handshake timeout|connection timed out|no such host|connection refused|network is unreachable|DeadlineExceeded|Client\.Timeout exceeded`), networkCauses},
	{"not-found", regexp.MustCompile(`(?i)manifest[ _]unknown|requested image not found|name[ _]unknown|does not exist in the registry|repository does not exist|requested access to the resource is denied|pull access denied|\bnot found\b|NotFound|access to the requested resource is not authorized`), notFoundCauses},
	// Last: a back-off says only that pulls failed before; any other words win.
	{"back-off", regexp.MustCompile(`(?i)Back-off pulling image|\bImagePullBackOff\b|Error: ErrImagePull\b`), fixed("back-off")},
}

// overridePathRE is a request path that repeats /v2/: containerd put /v2/ after a mirror
// server URL that already names a path (…/v2/docker-hub), because hosts.toml lacks
// override_path = true.
var overridePathRE = regexp.MustCompile(`(?i)https?://[^\s"/]+/v2/[^\s"]*?/v2/[^\s"]*`)

// secretInLineRE finds credentials a client may print with an error.
var secretInLineRE = regexp.MustCompile(`(?i)(Authorization: (?:Basic|Bearer) |X-Amz-(?:Security-Token|Signature|Credential)=)[^\s&"',]+`)

// awsAPIRE is the aws CLI's (and the SDKs') wrapper around an API error.
var awsAPIRE = regexp.MustCompile(`An error occurred \(([A-Za-z]+)\) when calling the ([A-Za-z]+) operation`)

// ReadError reads a pasted error line (or several lines of one failure) without an
// account. ok is false when no shape fits.
func ReadError(text string) (ErrorReading, bool) {
	if len(text) > 16384 {
		text = text[:16384]
	}
	// A pasted line may carry credentials (an Authorization header, a presigned URL's
	// token): they never reach the screen.
	text = secretInLineRE.ReplaceAllString(text, "${1}<redacted>")
	r := ErrorReading{Line: model.Printable(strings.TrimSpace(text))}
	r.APICall = awsAPIRE.MatchString(text)
	r.Reference, r.InvalidReference = findReference(text)
	if r.InvalidReference != "" {
		r.InvalidReference = model.Printable(r.InvalidReference)
	}
	r.Hosts = findHosts(text)
	if m := rateHeaderRE.FindString(text); m != "" {
		r.RateLimit = model.Printable(m)
	}
	if m := principalRE.FindStringSubmatch(text); m != nil {
		r.Principal = m[1]
	}
	for _, s := range shapes {
		m := s.re.FindStringSubmatch(text)
		if m == nil {
			continue
		}
		r.Shape, r.Matched = s.id, model.Printable(m[0])
		if len(m) > 1 && strings.HasPrefix(m[1], "ecr:") {
			r.Action = m[1]
		}
		if r.InvalidReference == "" {
			r.Candidates = s.causes(&r)
		}
		return r, true
	}
	return r, false
}

// WantsAccount reports whether the account would add to the line: it allows several
// causes, blames the account (which the chain may contradict), or names an upstream
// reference that a rule maps to a cache URI for the fix. A line without a reference gives
// the account nothing to walk.
func (r ErrorReading) WantsAccount() bool {
	if r.Reference == "" {
		return false // nothing to walk: the account cannot settle it
	}
	return len(r.Candidates) > 1 || needsChain(r.Candidates[0]) || r.Candidates[0] == "bypassed-cache"
}

// --- what a line names ---

// refPatterns find the reference a client names, in the wordings of containerd, the
// kubelet, dockerd, CRI-O, skopeo, BuildKit and the ECS agent.
var refPatterns = []*regexp.Regexp{
	// Quoted: whatever the quotes hold, spaces too, so that a broken image is seen
	// whole and refused (validReference), not cut at its first space.
	regexp.MustCompile(`(?i)failed to resolve reference \\?"([^"\\]+)\\?"`),
	regexp.MustCompile(`(?i)failed to (?:pull and unpack|pull|get sandbox) image \\?"([^"\\]+)\\?"`),
	regexp.MustCompile(`(?i)(?:Failed to pull|Back-off pulling|Pulling) image \\?"([^"\\]+)\\?"`),
	regexp.MustCompile(`(?i)pull access denied for ([^\s,]+),`),
	regexp.MustCompile(`(?i)manifest for (\S+) not found`),
	regexp.MustCompile(`(?i)(?:^|\s)repository (\S+) not found`),
	regexp.MustCompile(`(?i)(?:initializing|from) source docker://(\S+?)[:]?\s`),
	regexp.MustCompile(`(?i)load metadata for (\S+?):?\s*$`),
	regexp.MustCompile(`(?i)load metadata for (\S+?):?(?:\s|$)`),
	regexp.MustCompile(`(?i)failed to resolve source metadata for (\S+?):?(?:\s|$)`),
	regexp.MustCompile(`(?i)oci://(\S+?)["'\s:]`),
	regexp.MustCompile(`(?i)invalid from flag value (\S+?):\s`),
}

var (
	// A cache URI, with the account written or masked (<awsid>, XXXX, ***, AWSACCOUNTID).
	cacheRefRE   = regexp.MustCompile(`(?:[0-9]{12}|<[^>\s]+>|[A-Za-z_*]+)\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com/[a-z0-9._/-]+(?::[A-Za-z0-9_][A-Za-z0-9._-]{0,127})?(?:@sha256:[a-f0-9]{64})?`)
	readingRE    = regexp.MustCompile(`(?i)reading manifest (\S+) in ([^\s:]+)`)
	tagInRepoRE  = regexp.MustCompile(`(?i)Tag (\S+) not found in repository (\S+)`)
	repoNamedRE  = regexp.MustCompile(`The repository with name '([^']+)' does not exist in the registry with id '([0-9]{12})'`)
	hostRE       = regexp.MustCompile(`(?i)(?:https?://|pulling from host |dial tcp: lookup |request to |Get "?https?://)([A-Za-z0-9*<>_-]+(?:\.[A-Za-z0-9*<>_-]+)+(?::[0-9]+)?)`)
	rateHeaderRE = regexp.MustCompile(`(?i)ratelimit-(?:limit|remaining):\s*[0-9]+;w=[0-9]+`)
	principalRE  = regexp.MustCompile(`(arn:aws[a-z-]*:(?:iam|sts)::[0-9]{12}:[A-Za-z0-9+=,.@_/-]+)`)
	ecrHostRE    = regexp.MustCompile(`(?i)^(?:[0-9]+|<[^>]+>|[A-Za-z_*]+)\.dkr\.ecr(?:-fips)?\.([a-z0-9<>_*-]+)\.amazonaws\.com(?::443)?$`)
	// containerd's wording (the kubelet's too): the reference it names is the original
	// one even when a mirror (hosts.toml) was asked.
	containerdRE   = regexp.MustCompile(`(?i)failed to resolve reference|failed to pull and unpack`)
	maskedAccount  = regexp.MustCompile(`^(?:<[^>]+>|[A-Za-z_*]+)\.dkr\.ecr\.`)
	publicECRHosts = []string{"public.ecr.aws"}
	// Docker Hub's own words for a spent pull budget, anonymous or not.
	unauthenticatedBudgetRE = regexp.MustCompile(`(?i)unauthenticated pull rate limit`)
	budgetTextRE            = regexp.MustCompile(`(?i)pull rate limit`)
	// ECR's words for a repository that does not exist, and for an image it does not hold.
	repoMissingRE  = regexp.MustCompile(`(?i)name[ _]unknown|does not exist in the registry|repository \S+ not found`)
	imageMissingRE = regexp.MustCompile(`(?i)manifest[ _]unknown|requested image not found|manifest for \S+ not found`)
)

// findReference is the image reference the line names, or, when what the line gives as
// its image does not parse as one, that text as invalid.
func findReference(text string) (ref, invalid string) {
	for _, re := range refPatterns {
		if m := re.FindStringSubmatch(text); m != nil {
			return checked(strings.Trim(m[1], `"'\`))
		}
	}
	for _, loc := range cacheRefRE.FindAllStringIndex(text, -1) {
		// A cache URI cut short by a character no reference holds (…/quay/`rm -rf`/x)
		// is not the name of …/quay/: the whole word is the line's image.
		_, path, _ := strings.Cut(text[loc[0]:loc[1]], "/")
		if path == "v2" || strings.HasPrefix(path, "v2/") {
			continue // the registry API's path, read by apiURLReference
		}
		if end := loc[1]; end < len(text) && !strings.ContainsRune(refEnds, rune(text[end])) {
			word := text[loc[0]:]
			if i := strings.IndexAny(word, "\"'\n"); i >= 0 {
				word = word[:i]
			}
			return "", strings.TrimSpace(word)
		}
	}
	return checked(findOtherReference(text))
}

// refEnds are the characters that may follow a reference in a line.
const refEnds = " \t\r\n\"'\\,;)]}>:.?&"

// checked keeps a reference that parses (go-containerregistry's name, weakly: no tag is
// fine) and hands back one that does not as invalid. A poster's mask (<AWS_ACCOUNT>,
// ***, upper case) is not a broken reference.
func checked(ref string) (string, string) {
	if ref == "" {
		return "", ""
	}
	n := maskRE.ReplaceAllString(ref, "x")
	if _, err := name.ParseReference(strings.ToLower(n), name.WeakValidation); err != nil {
		return "", ref
	}
	return ref, ""
}

var maskRE = regexp.MustCompile(`<[^<>\s]*>|\*+`)

func findOtherReference(text string) string {
	if m := tagInRepoRE.FindStringSubmatch(text); m != nil {
		return m[2] + ":" + m[1]
	}
	if m := readingRE.FindStringSubmatch(text); m != nil {
		return m[2] + ":" + m[1]
	}
	if ref := apiURLReference(text); ref != "" {
		return ref
	}
	for _, m := range cacheRefRE.FindAllString(text, -1) {
		// …amazonaws.com/v2/… is the registry API's path, read above; never a name.
		if _, path, _ := strings.Cut(m, "/"); path != "v2" && !strings.HasPrefix(path, "v2/") {
			return m
		}
	}
	if m := repoNamedRE.FindStringSubmatch(text); m != nil {
		return m[1]
	}
	if m := deniedForRepoRE.FindStringSubmatch(text); m != nil && awsAPIRE.MatchString(text) {
		return m[1]
	}
	return ""
}

// apiURLRE is a registry API request (crane, go-containerregistry, containerd): the
// repository name sits between /v2/ and /manifests/<tag or digest>, /blobs/<digest> or
// /tags/list.
var apiURLRE = regexp.MustCompile(`https?://([A-Za-z0-9.<>_*-]+(?::[0-9]+)?)/v2/([a-z0-9._/-]+?)/(manifests|blobs|tags)/(sha256:[a-f0-9]+|[A-Za-z0-9_][A-Za-z0-9_.-]*)`)

// apiURLReference is the reference a registry API URL names: the name with the tag or
// digest of a manifest request (a blob's digest is a layer's, not the image's).
func apiURLReference(text string) string {
	for _, m := range apiURLRE.FindAllStringSubmatch(text, -1) {
		if strings.Contains("/"+m[2]+"/", "/v2/") {
			continue // a mirror path repeated (override_path); not a name
		}
		ref := m[1] + "/" + m[2]
		if m[3] == "manifests" {
			if strings.HasPrefix(m[4], "sha256:") {
				ref += "@" + m[4]
			} else {
				ref += ":" + m[4]
			}
		}
		return ref
	}
	return ""
}

// deniedForRepoRE is the repository an API error names ("… denied access for the
// repository docker-hub/library/nginx").
var deniedForRepoRE = regexp.MustCompile(`(?i)for the repository '?([a-z0-9._/-]+[a-z0-9])'?`)

// helpHosts serve documentation and help pages that messages link to
// ("…upgrading: https://www.docker.com/increase-rate-limit"): no pull goes there.
var helpHosts = []string{"www.docker.com", "docker.com", "docs.docker.com", "docs.aws.amazon.com", "aws.amazon.com", "github.com", "kubernetes.io", "aka.ms"}

func findHosts(text string) []string {
	var out []string
	for _, m := range hostRE.FindAllStringSubmatch(text, 8) {
		h := strings.ToLower(strings.TrimSuffix(m[1], ":443"))
		if !contains(out, h) && !contains(helpHosts, h) {
			out = append(out, h)
		}
	}
	return out
}

// --- the hosts, sorted ---

// upstreamHosts are registries a rule can name, and the others people pull from; a
// request to one of them went around the cache.
var upstreamHosts = []string{"registry-1.docker.io", "index.docker.io", "docker.io", "auth.docker.io", "ghcr.io", "quay.io",
	"registry.k8s.io", "k8s.gcr.io", "gcr.io", "registry.gitlab.com", "cgr.dev", "mcr.microsoft.com", "nvcr.io", "public.ecr.aws"}

func isECRHost(h string) bool { return ecrHostRE.MatchString(h) }

func isUpstreamHost(h string) bool {
	return contains(upstreamHosts, h) || strings.HasSuffix(h, ".azurecr.io") || strings.HasSuffix(h, ".docker.io") || strings.HasSuffix(h, ".docker.com")
}

func isPublicECR(h string) bool { return contains(publicECRHosts, h) }

// refHost is the registry host a reference names (docker.io for a bare name).
func refHost(ref string) string {
	if ref == "" {
		return ""
	}
	first, _, found := strings.Cut(ref, "/")
	if !found || (!strings.ContainsAny(first, ".:") && first != "localhost" && !strings.HasPrefix(first, "<")) {
		return "docker.io"
	}
	return strings.ToLower(first)
}

// throughECR reports whether the line's reference is a cache URI.
// An API call's repository name is a path in the account.
func (r *ErrorReading) throughECR() bool { return r.APICall || isECRHost(refHost(r.Reference)) }

// direct reports whether the failing request went to an upstream rather than to ECR:
// the reference names an upstream and no ECR host (a mirror) appears in the line.
func (r *ErrorReading) direct() bool {
	if r.Reference != "" && r.throughECR() {
		return false
	}
	for _, h := range r.Hosts {
		if isECRHost(h) {
			return false
		}
	}
	for _, h := range r.Hosts {
		if isOtherRegistry(h) {
			return true
		}
	}
	if len(r.Hosts) == 0 && containerdRE.MatchString(r.Line) {
		// containerd names the original reference whether or not a mirror was asked:
		// the line alone cannot tell.
		return false
	}
	return r.Reference != "" && isOtherRegistry(refHost(r.Reference))
}

// isOtherRegistry reports a registry host that is not ECR's (nor public.ecr.aws, whose
// stale login has a cause of its own, nor a CDN that serves layers): any host, not a
// list of known ones, since a pull to Harbor, Artifactory or a GitLab of one's own went
// around the cache as surely as one to ghcr.io.
func isOtherRegistry(h string) bool {
	return h != "" && !isECRHost(h) && !isPublicECR(h) && !isLayerStorage(h)
}

// isLayerStorage reports a host that serves an ECR registry's layers, not a registry: the
// S3 bucket ECR redirects a layer to (prod-REGION-starport-layer-bucket.s3.REGION.amazonaws.com)
// or a CDN in front of it. A request to one went through ECR, not around it.
func isLayerStorage(h string) bool {
	return strings.HasSuffix(h, ".cloudfront.net") || isS3Host(h)
}

// isS3Host reports an S3 endpoint, where ECR keeps the layers it serves.
func isS3Host(h string) bool {
	return strings.HasSuffix(h, ".amazonaws.com") && (strings.Contains(h, ".s3.") || strings.HasPrefix(h, "s3."))
}

// namesECR reports a line whose reference or hosts name an ECR registry.
func (r *ErrorReading) namesECR() bool {
	if r.Reference != "" && r.throughECR() {
		return true
	}
	for _, h := range r.Hosts {
		if isECRHost(h) {
			return true
		}
	}
	return false
}

// maybeMirrored reports a containerd line naming an upstream reference and no host:
// the pull may have gone through a mirror to the cache, or straight to the upstream.
func (r *ErrorReading) maybeMirrored() bool {
	return len(r.Hosts) == 0 && containerdRE.MatchString(r.Line) && r.Reference != "" && !r.throughECR()
}

// mirrored reports whether the request went to a host other than the reference's own:
// a registry mirror (containerd hosts.toml, Bottlerocket, a daemon mirror).
func (r *ErrorReading) mirrored() bool {
	rh := refHost(r.Reference)
	if rh == "" {
		return false
	}
	for _, h := range r.Hosts {
		if h != rh && !(rh == "docker.io" && isUpstreamHost(h)) && !isLayerStorage(h) {
			return true
		}
	}
	return false
}

// cachePath is the repository path of the line's cache URI, without registry or tag.
func (r *ErrorReading) cachePath() string {
	ref := r.Reference
	if !r.throughECR() {
		return ""
	}
	path := ref
	if !r.APICall || isECRHost(refHost(ref)) {
		_, path, _ = strings.Cut(ref, "/")
	}
	path, _, _ = strings.Cut(path, "@")
	if i := strings.LastIndex(path, ":"); i > strings.LastIndex(path, "/") {
		path = path[:i]
	}
	return path
}

// --- candidate causes per shape ---

func upstreamDeniedCauses(r *ErrorReading) []string {
	// ECR reports an upstream 401 as an authentication failure: Docker Hub answers 401 for
	// a repository that does not exist, library/org/app among them.
	_, rest, _ := strings.Cut(r.cachePath(), "/")
	// A rule whose secret ECR cannot use (deleted, elsewhere, a customer managed key)
	// sends no credentials at all: the same refusal, another cause.
	if strings.HasPrefix(rest, "library/") && strings.Count(rest, "/") >= 2 {
		return []string{"library-before-org", "upstream-credentials", "secret-unusable"}
	}
	return []string{"upstream-credentials", "library-before-org", "name-not-upstream", "secret-unusable"}
}

func platformCauses(r *ErrorReading) []string {
	if r.throughECR() || r.maybeMirrored() {
		return []string{"missing-platform", "platform-not-published"}
	}
	return []string{"platform-not-published"}
}

func accessDeniedCauses(r *ErrorReading) []string {
	switch r.Action {
	case "ecr:BatchImportUpstreamImage":
		return []string{"missing-import-permission"}
	case "ecr:CreateRepository":
		return []string{"missing-create-permission"}
	}
	return []string{"iam-permission"}
}

func rateLimitCauses(r *ErrorReading) []string {
	switch {
	case r.direct():
		return []string{"bypassed-cache"}
	case strings.Contains(strings.ToUpper(r.Line), "HAP429"):
		return []string{"abuse-limit"}
	case r.throughECR() || strings.Contains(r.Line, "UpstreamTooManyRequests"):
		return []string{"pull-budget-spent"}
	case unauthenticatedBudgetRE.MatchString(r.Line):
		// A Docker Hub rule always pulls with the rule's credentials: an anonymous
		// client's budget is spent only by pulls that went to Docker Hub directly.
		return []string{"bypassed-cache"}
	case budgetTextRE.MatchString(r.Line):
		// Docker Hub's own budget text: the client asked Docker Hub itself.
		return []string{"bypassed-cache"}
	}
	// A bare 429, without Docker Hub's budget text: the abuse limit, per address.
	return []string{"abuse-limit"}
}

// refusedByWhom names the cause of a 401 or 403 that is not the account's doing: a stale
// public.ecr.aws login, a mirror asked without credentials, a pull that went to the
// upstream directly. "" when the refusal came from the cache itself.
func refusedByWhom(r *ErrorReading) string {
	for _, h := range append([]string{refHost(r.Reference)}, r.Hosts...) {
		if isPublicECR(h) {
			return "public-ecr-stale-login"
		}
	}
	switch {
	case r.mirrored():
		return "mirror-credentials"
	case r.direct():
		return "bypassed-cache"
	}
	return ""
}

// tokenServiceRE is a client fetching a bearer token. ECR challenges with Basic auth
// (the token from GetAuthorizationToken is a password), so a token service that
// refused belongs to another registry.
var tokenServiceRE = regexp.MustCompile(`(?i)failed to fetch (?:oauth|anonymous) token`)

// ecrLoginWordsRE are the words of a missing or expired ECR login: a Basic-auth
// challenge the client had no credentials for, ECR's own "authorization token has
// expired", the credential helper's failure, ECR's 401 body ("Not Authorized").
var ecrLoginWordsRE = regexp.MustCompile(`(?i)no basic auth credentials|authorization token has expired|credential required for basic auth|unable to retrieve auth token|(?-i:Not Authorized)`)

func clientCredentialsCauses(r *ErrorReading) []string {
	if c := refusedByWhom(r); c != "" {
		return []string{c}
	}
	switch {
	case r.namesECR():
		return []string{"ecr-login"}
	case r.Reference != "" || tokenServiceRE.MatchString(r.Line):
		// The line names a registry that is not ECR (or a token service ECR does not
		// have): the pull did not go through the cache, whatever the login.
		return []string{"bypassed-cache"}
	case ecrLoginWordsRE.MatchString(r.Line):
		return []string{"ecr-login"}
	}
	// "unauthorized: authentication required" and a bare 401 name no registry: Docker
	// Hub, GitLab and Quay answer with the same words as a mirror or ECR would.
	return []string{"ecr-login", "bypassed-cache", "mirror-credentials"}
}

func forbiddenCauses(r *ErrorReading) []string {
	if c := refusedByWhom(r); c != "" {
		return []string{c}
	}
	// The cache answers 403 also when the rule's pull from the upstream was refused, or
	// its secret could not be used (deleted, elsewhere, a customer managed key): a client
	// that prints only the status (containerd) leaves the chain to say which.
	_, rest, _ := strings.Cut(r.cachePath(), "/")
	if rest != "" && !strings.Contains(rest, "/") {
		return []string{"library-prefix", "iam-permission", "secret-unusable", "upstream-credentials"}
	}
	return []string{"iam-permission", "library-prefix", "secret-unusable", "upstream-credentials"}
}

func cdnCauses(r *ErrorReading) []string {
	switch {
	case r.throughECR():
		return []string{"uncached-layer-redirect"}
	case r.Reference != "":
		return []string{"bypassed-cache"}
	}
	return []string{"cdn-unreachable"}
}

func networkCauses(r *ErrorReading) []string {
	for _, h := range r.Hosts {
		if isECRHost(h) || isS3Host(h) { // ECR's layers come from S3: reaching it is reaching ECR
			return []string{"registry-unreachable"}
		}
	}
	if r.direct() {
		return []string{"bypassed-cache"}
	}
	if r.throughECR() {
		return []string{"registry-unreachable"}
	}
	return []string{"bypassed-cache", "registry-unreachable"}
}

func notFoundCauses(r *ErrorReading) []string {
	if r.direct() {
		return []string{"bypassed-cache"}
	}
	if r.mirrored() && !r.throughECR() {
		return []string{"mirror-not-found"}
	}
	ref := r.Reference
	if r.maybeMirrored() && strings.Contains(ref, "@sha256:") {
		return []string{"digest-first-pull", "name-not-upstream"}
	}
	byDigest := strings.Contains(ref, "@sha256:")
	repoMissing := repoMissingRE.MatchString(r.Line)
	imageMissing := imageMissingRE.MatchString(r.Line)
	var out []string
	switch {
	case byDigest:
		out = []string{"digest-first-pull"}
	case repoMissing:
		// The repository does not exist: what fails after it is made (the import, the
		// image) is not why.
		out = []string{"no-rule", "missing-create-permission", "template-cannot-create", "name-not-upstream", "library-prefix", "ecr-login"}
		return withoutLoginForAPI(r, out)
	case imageMissing:
		out = []string{"name-not-upstream", "missing-import-permission", "missing-platform"}
	}
	for _, c := range []string{"no-rule", "missing-create-permission", "template-cannot-create", "name-not-upstream", "missing-import-permission", "private-image-missing", "image-archived", "library-prefix", "ecr-login"} {
		if !contains(out, c) {
			out = append(out, c)
		}
	}
	return withoutLoginForAPI(r, out)
}

// withoutLoginForAPI drops the client's ECR login from an API call's causes: the aws CLI
// signs with IAM credentials, and says so in other words when it has none.
func withoutLoginForAPI(r *ErrorReading, causes []string) []string {
	if !r.APICall {
		return causes
	}
	out := causes[:0:0]
	for _, c := range causes {
		if c != "ecr-login" {
			out = append(out, c)
		}
	}
	return out
}
