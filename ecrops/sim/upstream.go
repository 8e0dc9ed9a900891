package sim

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// An upstream registry of the scenario (Docker Hub, GHCR, Quay, ...), served on loopback
// under its real host name through the resolve map. The OCI registry itself is
// go-containerregistry's pkg/registry; what wraps it here is what makes each upstream
// behave like the real one: Docker Hub's token service, pull windows and library/
// namespace, GHCR's required credentials, tags that appear later.

type upstreamKind int

const (
	anonymousUpstream    upstreamKind = iota // ECR Public, Quay, registry.k8s.io
	dockerHubUpstream                        // tokens for anyone, pull windows, 401 for unknown repositories
	credentialedUpstream                     // GHCR, GitLab, ...: tokens only for valid credentials
	ecrUpstream                              // another ECR registry: tokens for the accounts its policy grants
)

const (
	dockerHubHost     = "registry-1.docker.io"
	dockerHubAuthHost = "auth.docker.io"
	// pullWindow is Docker Hub's rate-limit window: 6 hours.
	pullWindow    = 6 * time.Hour
	upstreamToken = 5 * time.Minute
)

type upstreamRegistry struct {
	srv   *Server
	cfg   Upstream
	kind  upstreamKind
	inner http.Handler
	start time.Time // the stand-in's clock when the upstream came up

	mu       sync.Mutex
	tokens   map[string]upstreamGrant
	windows  map[string]*pullCount
	versions map[string]int // "repo:tag" -> the version served now
	media    map[string]string
	exists   map[string]bool // repositories

	ln   net.Listener
	http *http.Server
	url  string
}

type upstreamGrant struct {
	account *UpstreamAccount // nil: anonymous
	source  string           // the address an anonymous token was issued to
	expires time.Time
}

type pullCount struct {
	limit, used int
	start       time.Time
}

func kindOf(u Upstream) upstreamKind {
	switch {
	case u.Host == dockerHubHost:
		return dockerHubUpstream
	case ecrUpstreamAccount(u.Host) != "":
		return ecrUpstream
	case len(u.Accounts) > 0:
		return credentialedUpstream
	}
	return anonymousUpstream
}

func newUpstream(s *Server, cfg Upstream) (*upstreamRegistry, error) {
	u := &upstreamRegistry{srv: s, cfg: cfg, kind: kindOf(cfg)}
	return u, u.reset()
}

// reset serves the upstream as the scenario describes it: its content, fresh windows.
func (u *upstreamRegistry) reset() error {
	cfg := u.cfg
	u.mu.Lock()
	u.start = u.srv.clock.Now()
	u.inner = registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	if !cfg.generated.empty() {
		u.inner = &generatedUpstream{host: cfg.Host, content: cfg.generated, next: u.inner}
	}
	u.tokens, u.windows = map[string]upstreamGrant{}, map[string]*pullCount{}
	u.versions, u.media, u.exists = map[string]int{}, map[string]string{}, map[string]bool{}
	u.mu.Unlock()
	for _, repo := range u.content() {
		u.mu.Lock()
		u.exists[repo.Name] = true
		u.mu.Unlock()
		for _, t := range repo.Tags {
			if err := u.push(repo.Name, t.Tag, t.Version, t.Platforms); err != nil {
				return fmt.Errorf("upstream %s: %s:%s: %w", cfg.Host, repo.Name, t.Tag, err)
			}
		}
	}
	for i := range cfg.Accounts {
		a := &u.cfg.Accounts[i]
		if a.PullLimit > 0 {
			u.windows["account:"+a.Username] = &pullCount{limit: a.PullLimit, used: a.PullsUsed, start: u.start}
		}
	}
	return nil
}

// dockerHubOfficial are Docker Hub official images that always have a latest tag on the
// real Docker Hub, and that ptcdoctor's probes and setup ask for (library/alpine:latest,
// the library/ mismatch probes). ratelimitpreview/test is the image Docker documents for
// reading the pull budget (https://docs.docker.com/docker-hub/usage/pulls/).
var dockerHubOfficial = []string{"alpine", "busybox", "debian", "golang", "httpd", "memcached", "mysql",
	"nginx", "node", "postgres", "python", "redis", "ubuntu"}

// content is what the upstream serves: the scenario's repositories, and for the Docker Hub
// look-alike what the real Docker Hub always has, so that no scenario needs to list it:
// ratelimitpreview/test:latest, and latest on the official images above and on every
// official image the scenario lists without it. A tag the scenario lists wins.
func (u *upstreamRegistry) content() []UpstreamContent {
	repos := append([]UpstreamContent(nil), u.cfg.Repositories...)
	if u.kind != dockerHubUpstream {
		return repos
	}
	index := map[string]int{}
	for i, r := range repos {
		index[r.Name] = i
	}
	ensure := func(name, tag string) {
		i, ok := index[name]
		if !ok {
			index[name] = len(repos)
			repos = append(repos, UpstreamContent{Name: name, Tags: []UpstreamTag{{Tag: tag}}})
			return
		}
		for _, t := range repos[i].Tags {
			if t.Tag == tag {
				return
			}
		}
		repos[i].Tags = append(append([]UpstreamTag(nil), repos[i].Tags...), UpstreamTag{Tag: tag})
	}
	ensure("ratelimitpreview/test", "latest")
	for _, name := range dockerHubOfficial {
		ensure("library/"+name, "latest")
	}
	for _, r := range u.cfg.Repositories {
		if strings.HasPrefix(r.Name, "library/") && strings.Count(r.Name, "/") == 1 && !r.NoLatest {
			ensure(r.Name, "latest")
		}
	}
	return repos
}

// upstreamSource names the content of an upstream tag; a cached copy made from the same
// name has the same digests.
func upstreamSource(host, repo, tag string, version int) string {
	return fmt.Sprintf("%s/%s:%s#%d", host, repo, tag, version)
}

// push puts one tag's content into the registry through its own HTTP interface.
func (u *upstreamRegistry) push(repo, tag string, version int, platforms []string) error {
	a, err := buildArtifact(upstreamSource(u.cfg.Host, repo, tag, version), platforms)
	if err != nil {
		return err
	}
	ref, err := name.NewTag("upstream.invalid/"+repo+":"+tag, name.Insecure)
	if err != nil {
		return err
	}
	opt := remote.WithTransport(handlerTransport{u.handler()})
	switch obj := a.Object.(type) {
	case v1.ImageIndex:
		err = remote.WriteIndex(ref, obj, opt)
	case v1.Image:
		err = remote.Write(ref, obj, opt)
	}
	if err != nil {
		return err
	}
	u.mu.Lock()
	u.versions[repo+":"+tag] = version
	u.media[a.Top.Digest.String()] = string(a.Top.MediaType)
	for _, c := range a.Children {
		u.media[c.Digest.String()] = string(c.MediaType)
	}
	u.mu.Unlock()
	return nil
}

func (u *upstreamRegistry) handler() http.Handler {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.inner
}

// handlerTransport sends requests straight to a handler, without a network.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body == nil {
		req.Body = http.NoBody // pkg/registry reads the body of every request
	}
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, req)
	resp := rec.Result()
	resp.Request = req // the client resolves relative Location headers against it
	return resp, nil
}

func (u *upstreamRegistry) listen(host string) error {
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return err
	}
	u.ln, u.url = ln, "http://"+ln.Addr().String()
	u.http = &http.Server{Handler: u, ReadHeaderTimeout: 10 * time.Second}
	go u.http.Serve(ln)
	return nil
}

// realm is where clients fetch tokens; it names a real host, reached through the resolve map.
func (u *upstreamRegistry) realm() (realm, service string) {
	if u.kind == dockerHubUpstream {
		return "https://" + dockerHubAuthHost + "/token", "registry.docker.io"
	}
	return "https://" + u.cfg.Host + "/token", u.cfg.Host
}

var upstreamPathRE = regexp.MustCompile(`^/v2/(.+)/(manifests|blobs|tags)/(.+)$`)

func (u *upstreamRegistry) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	// Faults named upstream:<host> make the upstream slow, hang, fail or drop connections.
	if aerr := u.srv.faults.apply(r.Context(), "upstream:"+u.cfg.Host, rec); aerr != nil {
		if aerr != errConnectionReset {
			// A registry's own words: UNAVAILABLE goes with 503 (distribution's errcode),
			// not with the 500 of ECR's ServerException the fault set speaks in.
			// Throttling keeps its 429.
			status, code, msg := http.StatusServiceUnavailable, "UNAVAILABLE", "service unavailable (injected by the stand-in)"
			if aerr.Code == "ThrottlingException" {
				status, msg = http.StatusTooManyRequests, aerr.Message
			}
			writeRegistryError(rec, status, code, msg)
		}
		u.srv.events.add(u.srv.clock.Now(), Event{Service: "upstream:" + u.cfg.Host, Operation: r.Method + " " + r.URL.Path,
			Outcome: "fault:" + aerr.Code, Status: rec.status})
		if aerr == errConnectionReset {
			resetConnection(w)
		}
		return
	}
	u.serve(rec, r)
	u.srv.events.add(u.srv.clock.Now(), Event{Service: "upstream:" + u.cfg.Host, Operation: r.Method + " " + r.URL.Path,
		Outcome: outcomeOf(rec.status), Status: rec.status, Detail: rec.detail})
}

func outcomeOf(status int) string {
	if status < 400 {
		return "ok"
	}
	return strconv.Itoa(status)
}

type statusRecorder struct {
	http.ResponseWriter
	status int
	detail string
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (u *upstreamRegistry) serve(w *statusRecorder, r *http.Request) {
	if r.URL.Path == "/token" {
		u.serveToken(w, r)
		return
	}
	if u.kind == anonymousUpstream {
		u.serveContent(w, r, nil)
		return
	}
	grant, ok := u.grantFor(r)
	repo := ""
	if m := upstreamPathRE.FindStringSubmatch(r.URL.Path); m != nil {
		repo = m[1]
	}
	if !ok {
		u.challenge(w, repo, "UNAUTHORIZED", "authentication required")
		return
	}
	u.mu.Lock()
	known := u.exists[repo]
	u.mu.Unlock()
	if _, generated := u.cfg.generated.repository(repo); generated {
		known = true
	}
	if repo != "" && !known && u.kind == dockerHubUpstream {
		// Docker Hub answers 401 for a repository that does not exist (or is private),
		// which is why a wrong path looks like a credentials problem through ECR.
		u.challenge(w, repo, "UNAUTHORIZED", "authentication required")
		return
	}
	u.serveContent(w, r, grant)
}

func (u *upstreamRegistry) challenge(w http.ResponseWriter, repo, code, msg string) {
	realm, service := u.realm()
	h := fmt.Sprintf(`Bearer realm="%s",service="%s"`, realm, service)
	if repo != "" {
		h += fmt.Sprintf(`,scope="repository:%s:pull"`, repo)
	}
	w.Header().Set("WWW-Authenticate", h)
	writeRegistryError(w, http.StatusUnauthorized, code, msg)
}

func (u *upstreamRegistry) grantFor(r *http.Request) (*upstreamGrant, bool) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return nil, false
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	g, ok := u.tokens[tok]
	if !ok || u.srv.clock.Now().After(g.expires) {
		return nil, false
	}
	return &g, true
}

// serveToken is the token service: Docker Hub gives anyone a token (anonymous pulls are
// allowed, and limited); credentialed upstreams only valid, unexpired accounts.
func (u *upstreamRegistry) serveToken(w http.ResponseWriter, r *http.Request) {
	user, pass, hasBasic := r.BasicAuth()
	var account *UpstreamAccount
	if u.kind == ecrUpstream {
		caller, ok := ecrAccountFromPassword(user, pass)
		switch {
		case !ok:
			writeJSON(w, http.StatusUnauthorized, map[string]string{"details": "authentication required"})
			return
		case !ecrUpstreamGrants(u.cfg, caller):
			writeRegistryError(w, http.StatusForbidden, "DENIED", fmt.Sprintf("no resource-based policy allows the account %s to pull from this registry", caller))
			return
		}
	} else if hasBasic {
		for i := range u.cfg.Accounts {
			a := &u.cfg.Accounts[i]
			if a.Username == user && a.Token == pass {
				account = a
			}
		}
		if account == nil || account.Expired {
			why := "incorrect username or password"
			if account != nil {
				why = "token expired"
			}
			writeJSON(w, http.StatusUnauthorized, map[string]string{"details": why})
			return
		}
	} else if u.kind == credentialedUpstream {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"details": "authentication required"})
		return
	}
	var b [16]byte
	rand.Read(b[:])
	tok := hex.EncodeToString(b[:])
	now := u.srv.clock.Now()
	u.mu.Lock()
	u.tokens[tok] = upstreamGrant{account: account, source: sourceIP(r), expires: now.Add(upstreamToken)}
	u.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"token": tok, "access_token": tok,
		"expires_in": int(upstreamToken.Seconds()), "issued_at": now.Format(time.RFC3339)})
}

func sourceIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func (u *upstreamRegistry) serveContent(w *statusRecorder, r *http.Request, grant *upstreamGrant) {
	m := upstreamPathRE.FindStringSubmatch(r.URL.Path)
	if m != nil && m[2] == "manifests" {
		repo, ref := m[1], m[3]
		w.detail = repo + ":" + ref
		if u.hidden(repo, ref) {
			writeRegistryError(w, http.StatusNotFound, "MANIFEST_UNKNOWN", "manifest unknown")
			return
		}
		if u.kind == dockerHubUpstream {
			u.serveCounted(w, r, grant, repo, ref)
			return
		}
	}
	if m != nil && m[2] == "tags" {
		u.serveTags(w, r, m[1])
		return
	}
	u.handler().ServeHTTP(w, r)
}

// hidden reports whether a tag has not appeared yet, by the stand-in's clock.
func (u *upstreamRegistry) hidden(repo, ref string) bool {
	for _, c := range u.cfg.Repositories {
		if c.Name != repo {
			continue
		}
		for _, t := range c.Tags {
			if t.Tag == ref && t.AppearsAfter > 0 {
				return u.srv.clock.Now().Before(u.start.Add(time.Duration(t.AppearsAfter)))
			}
		}
	}
	return false
}

func (u *upstreamRegistry) serveTags(w http.ResponseWriter, r *http.Request, repo string) {
	rec := httptest.NewRecorder()
	u.handler().ServeHTTP(rec, r)
	if rec.Code != http.StatusOK {
		copyResponse(w, rec)
		return
	}
	var list struct {
		Name string   `json:"name"`
		Tags []string `json:"tags"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &list); err != nil {
		copyResponse(w, rec)
		return
	}
	var shown []string
	for _, t := range list.Tags {
		if !u.hidden(repo, t) {
			shown = append(shown, t)
		}
	}
	list.Tags = emptyIfNil(shown)
	writeJSON(w, http.StatusOK, list)
}

// serveCounted serves a Docker Hub manifest: the answer carries the pull window's
// headers, a GET of an image manifest spends one pull (an index none, so that an image
// costs one pull per platform), a HEAD nothing, and a spent window answers 429.
func (u *upstreamRegistry) serveCounted(w http.ResponseWriter, r *http.Request, grant *upstreamGrant, repo, ref string) {
	key, source := "ip:"+sourceIP(r), sourceIP(r)
	if grant != nil && grant.account != nil {
		key, source = "account:"+grant.account.Username, accountSource(grant.account.Username)
	}
	u.mu.Lock()
	win := u.window(key, grant)
	u.mu.Unlock()
	if win == nil {
		u.handler().ServeHTTP(w, r)
		return
	}
	setHeaders := func(h http.Header, remaining int) {
		h.Set("ratelimit-limit", fmt.Sprintf("%d;w=%d", win.limit, int(pullWindow.Seconds())))
		h.Set("ratelimit-remaining", fmt.Sprintf("%d;w=%d", max(0, remaining), int(pullWindow.Seconds())))
		h.Set("docker-ratelimit-source", source)
	}
	u.mu.Lock()
	remaining := win.limit - win.used
	u.mu.Unlock()
	if r.Method == http.MethodGet && remaining <= 0 {
		setHeaders(w.Header(), 0)
		writeRegistryError(w, http.StatusTooManyRequests, "TOOMANYREQUESTS",
			"You have reached your pull rate limit. You may increase the limit by authenticating and upgrading: https://www.docker.com/increase-rate-limits")
		return
	}
	rec := httptest.NewRecorder()
	u.handler().ServeHTTP(rec, r)
	if r.Method == http.MethodGet && rec.Code == http.StatusOK && !isIndexMediaType(rec.Header().Get("Content-Type")) {
		u.mu.Lock()
		win.used++
		remaining = win.limit - win.used
		u.mu.Unlock()
	}
	setHeaders(w.Header(), remaining)
	copyResponse(w, rec)
}

// window returns the pull window for key, opening a new one when the last has passed;
// nil when the caller is unlimited.
func (u *upstreamRegistry) window(key string, grant *upstreamGrant) *pullCount {
	now := u.srv.clock.Now()
	win := u.windows[key]
	if win == nil {
		if strings.HasPrefix(key, "account:") || u.cfg.Anonymous == nil || u.cfg.Anonymous.PullLimit == 0 {
			return nil
		}
		win = &pullCount{limit: u.cfg.Anonymous.PullLimit, used: u.cfg.Anonymous.PullsUsed, start: u.start}
		u.windows[key] = win
	}
	if now.Sub(win.start) >= pullWindow {
		win.used, win.start = 0, now
	}
	return win
}

// accountSource is the opaque id Docker Hub reports for an authenticated account.
func accountSource(user string) string {
	h := fnv.New128a()
	h.Write([]byte(user))
	b := h.Sum(nil)
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func isIndexMediaType(mt string) bool {
	return strings.Contains(mt, "manifest.list") || strings.Contains(mt, "image.index")
}

func copyResponse(w http.ResponseWriter, rec *httptest.ResponseRecorder) {
	for k, vs := range rec.Header() {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	w.WriteHeader(rec.Code)
	w.Write(rec.Body.Bytes())
}

// windowsNow lists the pull windows, for the admin endpoint.
func (u *upstreamRegistry) windowsNow() map[string]map[string]int {
	u.mu.Lock()
	defer u.mu.Unlock()
	out := map[string]map[string]int{}
	for k, w := range u.windows {
		out[k] = map[string]int{"limit": w.limit, "used": w.used, "remaining": max(0, w.limit-w.used)}
	}
	return out
}
