package sim

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// The registry data plane at the proxyEndpoint that GetAuthorizationToken names. A client
// logs in with the token ("AWS" and the password it carries); manifests, blobs and tag
// lists are served from the cache, and a manifest miss under a rule pulls through.
// What a client sees when something fails follows the facts page, section 6.

var registryPathRE = regexp.MustCompile(`^/v2/(.+)/(manifests|blobs|tags)/(.+)$`)

func (s *Server) serveRegistry(w http.ResponseWriter, r *http.Request) {
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	m := registryPathRE.FindStringSubmatch(r.URL.Path) // once: the request and its event read it
	p := s.serveRegistryRequest(rec, r, m)
	op := r.URL.Path
	if m != nil {
		op = m[2]
	}
	ev := Event{Service: "registry", Operation: r.Method + " " + op, Outcome: outcomeOf(rec.status),
		Status: rec.status, Detail: rec.detail}
	if p != nil {
		ev.Principal = p.CallerARN
	}
	s.events.add(s.clock.Now(), ev)
}

// serveRegistryRequest serves a registry request whose path matched registryPathRE as m
// (nil when it did not).
func (s *Server) serveRegistryRequest(w *statusRecorder, r *http.Request, m []string) *principal {
	w.Header().Set("Docker-Distribution-API-Version", "registry/2.0")
	p, status, why := s.registryPrincipal(r)
	if p == nil {
		if status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Basic realm="`+s.info.Registry+`",service="ecr.amazonaws.com"`)
		}
		writeRegistryError(w, status, "DENIED", why)
		return nil
	}
	s.mu.Lock()
	s.evaluateLifecycles()
	s.mu.Unlock()
	if r.URL.Path == "/v2/" || r.URL.Path == "/v2" {
		w.WriteHeader(http.StatusOK)
		return p
	}
	if m == nil {
		writeRegistryError(w, http.StatusNotFound, "NOT_FOUND", "Not Found")
		return p
	}
	repo, kind, ref := m[1], m[2], m[3]
	w.detail = repo + ":" + ref
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		writeRegistryError(w, http.StatusMethodNotAllowed, "UNSUPPORTED", "The stand-in serves pulls only; pushes are not supported")
		return p
	}
	switch kind {
	case "manifests":
		s.serveManifest(w, r, p, repo, ref)
	case "blobs":
		s.serveBlob(w, r, p, repo, ref)
	case "tags":
		s.serveTagList(w, r, p, repo)
	}
	return p
}

// registryPrincipal is the principal whose token the request carries. A missing or
// unknown token is answered 401 with a challenge; an expired one 403, as ECR does (docker
// reports "error parsing HTTP 403 response body: ... Your Authorization Token has
// expired", awslabs/amazon-ecr-credential-helper#7).
func (s *Server) registryPrincipal(r *http.Request) (*principal, int, string) {
	auth, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Basic ")
	if !ok {
		return nil, http.StatusUnauthorized, "Not Authorized"
	}
	raw, err := base64.StdEncoding.DecodeString(auth)
	if err != nil {
		return nil, http.StatusUnauthorized, "Not Authorized"
	}
	user, password, _ := strings.Cut(string(raw), ":")
	s.mu.Lock()
	defer s.mu.Unlock()
	tok := s.st.tokens[password]
	if user != "AWS" || tok == nil {
		return nil, http.StatusUnauthorized, "Not Authorized"
	}
	if s.clock.Now().After(tok.Expires) {
		return nil, http.StatusForbidden, "Your authorization token has expired. Reauthenticate and try again."
	}
	return tok.Principal, http.StatusOK, ""
}

// registryDenied writes the answer to an action the principal may not take.
func (s *Server) registryDenied(w http.ResponseWriter, p *principal, action, repo string) bool {
	s.mu.Lock()
	arn := s.st.repoARN(repo)
	ok, d := s.st.allows(p, action, arn)
	s.mu.Unlock()
	if ok {
		return false
	}
	why := "because no identity-based policy allows the " + action + " action"
	if d == decisionExplicitDeny {
		why = "with an explicit deny in an identity-based policy"
	}
	writeRegistryError(w, http.StatusForbidden, "DENIED",
		fmt.Sprintf("User: %s is not authorized to perform: %s on resource: %s %s", p.CallerARN, action, arn, why))
	return true
}

func (s *Server) serveManifest(w *statusRecorder, r *http.Request, p *principal, repo, ref string) {
	if s.registryDenied(w, p, "ecr:BatchGetImage", repo) {
		return
	}
	id := imageID{ImageTag: ref}
	if strings.Contains(ref, ":") {
		id = imageID{ImageDigest: ref}
	}
	img, f := s.pullImage(r.Context(), p, repo, id)
	if f != nil {
		s.writePullFailure(w, repo, f)
		return
	}
	s.mu.Lock()
	if r.Method == http.MethodGet {
		s.recordPull(p, img)
	}
	raw, mt, d := img.manifest(), string(img.MediaType), img.Digest.String()
	s.mu.Unlock()
	h := w.Header()
	h.Set("Content-Type", mt)
	h.Set("Docker-Content-Digest", d)
	h.Set("Content-Length", strconv.Itoa(len(raw)))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		w.Write(raw)
	}
}

// writePullFailure says what went wrong as ECR's registry says it to docker and containerd.
func (s *Server) writePullFailure(w *statusRecorder, repo string, f *imageFailure) {
	w.detail += " " + f.FailureCode
	switch f.FailureCode {
	case "RepositoryNotFound":
		writeRegistryError(w, http.StatusNotFound, "NAME_UNKNOWN",
			fmt.Sprintf("The repository with name '%s' does not exist in the registry with id '%s'", repo, s.st.accountID))
	case "UpstreamAccessDenied":
		if f.officialImage {
			// An official Docker Hub image pulled without library/: a bare 403.
			w.WriteHeader(http.StatusForbidden)
			return
		}
		writeRegistryError(w, http.StatusForbidden, "DENIED",
			"The authentication to the upstream registry failed. Verify that the credentials provided in the pull through cache rule are correct, and try again.")
	case "Secret":
		writeRegistryError(w, http.StatusForbidden, "DENIED",
			"The image was unable to be pulled using the pull through cache rule because of an issue with the Secrets Manager secret: "+f.FailureReason)
	case "UpstreamTooManyRequests":
		writeRegistryError(w, http.StatusTooManyRequests, "TOOMANYREQUESTS",
			"The upstream registry rate limited the request (429 Too Many Requests). Try again later.")
	case "UpstreamUnavailable":
		writeRegistryError(w, http.StatusServiceUnavailable, "UNAVAILABLE", "The upstream registry is unavailable. Try again later.")
	default:
		writeRegistryError(w, http.StatusNotFound, "MANIFEST_UNKNOWN", "Requested image not found")
	}
}

func (s *Server) serveBlob(w http.ResponseWriter, r *http.Request, p *principal, repo, ref string) {
	action := "ecr:GetDownloadUrlForLayer"
	if r.Method == http.MethodHead {
		action = "ecr:BatchCheckLayerAvailability"
	}
	if s.registryDenied(w, p, action, repo) {
		return
	}
	d, err := v1.NewHash(ref)
	if err != nil {
		writeRegistryError(w, http.StatusBadRequest, "DIGEST_INVALID", "Invalid digest")
		return
	}
	s.mu.Lock()
	rs := s.st.repos[repo]
	var blob []byte
	if rs != nil && rs.referencesPullable(d, s.clock.Now()) {
		blob = s.st.blobs[d]
	}
	location := ""
	if blob != nil && r.Method == http.MethodGet {
		location = s.layerURL(rs, d)
	}
	s.mu.Unlock()
	switch {
	case rs == nil:
		writeRegistryError(w, http.StatusNotFound, "NAME_UNKNOWN",
			fmt.Sprintf("The repository with name '%s' does not exist in the registry with id '%s'", repo, s.st.accountID))
		return
	case blob == nil:
		// Blobs are served only once a manifest that references them has been pulled through.
		writeRegistryError(w, http.StatusNotFound, "BLOB_UNKNOWN", "The specified blob does not exist")
		return
	}
	if location != "" {
		// ECR redirects a layer download to a pre-signed S3 URL (see dataplane.go).
		w.Header().Set("Docker-Content-Digest", d.String())
		w.Header().Set("Location", location)
		w.WriteHeader(http.StatusTemporaryRedirect)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Docker-Content-Digest", d.String())
	w.Header().Set("Content-Length", strconv.Itoa(len(blob)))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		w.Write(blob)
	}
}

// references reports whether an image of the repository uses blob d.
func (r *repoState) references(d v1.Hash) bool {
	for _, img := range r.images {
		for _, b := range img.Blobs {
			if b == d {
				return true
			}
		}
	}
	return false
}

// serveTagList lists the cached tags only: ECR cannot list an upstream's tags.
func (s *Server) serveTagList(w http.ResponseWriter, r *http.Request, p *principal, repo string) {
	if s.registryDenied(w, p, "ecr:ListImages", repo) {
		return
	}
	s.mu.Lock()
	rs := s.st.repos[repo]
	var tags []string
	if rs != nil {
		for t := range rs.tags {
			tags = append(tags, t)
		}
	}
	s.mu.Unlock()
	if rs == nil {
		writeRegistryError(w, http.StatusNotFound, "NAME_UNKNOWN",
			fmt.Sprintf("The repository with name '%s' does not exist in the registry with id '%s'", repo, s.st.accountID))
		return
	}
	sort.Strings(tags)
	q := r.URL.Query()
	if last := q.Get("last"); last != "" {
		i := sort.SearchStrings(tags, last)
		if i < len(tags) && tags[i] == last {
			i++
		}
		tags = tags[i:]
	}
	if n, err := strconv.Atoi(q.Get("n")); err == nil && n >= 0 && n < len(tags) {
		tags = tags[:n]
		if n > 0 {
			w.Header().Set("Link", fmt.Sprintf(`</v2/%s/tags/list?n=%d&last=%s>; rel="next"`, repo, n, tags[n-1]))
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"name": repo, "tags": emptyIfNil(tags)})
}

func writeRegistryError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	raw, _ := json.Marshal(registryErrors{Errors: []registryError{{Code: code, Message: msg}}})
	w.Write(raw)
}

// registryErrors is the registry API's error body (written as its map was, keys sorted).
type registryErrors struct {
	Errors []registryError `json:"errors"`
}

type registryError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}
