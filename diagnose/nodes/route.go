package nodes

import (
	"net/url"
	"path"
	"regexp"
	"strings"
)

// Route is one way a node's runtime pulls images of an upstream registry: through a
// mirror endpoint, with or without credentials.
type Route struct {
	Source   string // the file that configures it
	Runtime  string // containerd, docker, bottlerocket, kops
	Upstream string // the registry namespace whose pulls take it: docker.io, ghcr.io, _default
	Endpoint string // the mirror as written
	// APIRoot is the path the runtime puts before <repository>/manifests/<ref>.
	APIRoot string
	// Cache is the ECR registry the endpoint names; nil when it names none.
	Cache *Cache
	// Reaches says whether requests land under the cache's prefix (Cache.Prefix).
	Reaches bool
	// Credentials: "yes", "no", or "not checked" (and Why says what was missing).
	Credentials string
	Why         string
}

// Cache is an ECR private registry and the cache prefix a mirror asks it for.
type Cache struct {
	Host, Account, Region string
	Prefix                string // "ROOT" when the requests carry no prefix
}

// ecrHostRE is an ECR private registry host, as the ecr-credential-provider reads one
// (kubernetes/cloud-provider-aws cmd/ecr-credential-provider), FIPS and dual-stack included.
var ecrHostRE = regexp.MustCompile(`^([0-9]{12})\.dkr[.-]ecr(-fips)?\.([a-z0-9-]+)\.(amazonaws\.com(\.cn)?|amazonaws\.eu|on\.aws|on\.amazonwebservices\.com\.cn|sc2s\.sgov\.gov|c2s\.ic\.gov|cloud\.adc-e\.uk|csp\.hci\.ic\.gov)$`)

// ecrHost reads an ECR registry host (no port, no scheme).
func ecrHost(host string) (account, region string, ok bool) {
	m := ecrHostRE.FindStringSubmatch(strings.ToLower(host))
	if m == nil {
		return "", "", false
	}
	return m[1], m[3], true
}

// endpoint is a parsed mirror URL.
type endpoint struct {
	raw    string
	scheme string
	host   string // with the port, as in the URL
	path   string // cleaned, "" for none
	bad    string // why it is not a usable URL
}

func parseEndpoint(raw string) endpoint {
	e := endpoint{raw: raw}
	u, err := url.Parse(strings.TrimSpace(raw))
	switch {
	case err != nil:
		e.bad = "not a URL"
	case u.Scheme != "http" && u.Scheme != "https":
		e.bad = "no http:// or https:// scheme"
	case u.Host == "":
		e.bad = "no host"
	case u.RawQuery != "" || u.Fragment != "":
		e.bad = "a query or fragment"
	}
	if e.bad != "" {
		// A scheme-less "host/path" is a common slip: read it for the hint.
		if u2, err := url.Parse("https://" + strings.TrimSpace(raw)); err == nil && u != nil && u.Scheme == "" {
			e.host, e.path = u2.Host, cleanPath(u2.Path)
		}
		return e
	}
	e.scheme, e.host, e.path = u.Scheme, u.Host, cleanPath(u.Path)
	return e
}

func cleanPath(p string) string {
	if p == "" || p == "/" {
		return ""
	}
	return path.Clean("/" + p)
}

// hostname is the host without its port.
func (e endpoint) hostname() string {
	h := e.host
	if i := strings.LastIndex(h, ":"); i >= 0 && !strings.Contains(h[i:], "]") {
		h = h[:i]
	}
	return strings.ToLower(h)
}

// cacheOf reads which cache prefix requests under apiRoot reach on an ECR host: ECR
// serves a cache repository <prefix>/<path> at /v2/<prefix>/<path>, so the root must be
// /v2 followed by the prefix.
func cacheOf(e endpoint, apiRoot string) (*Cache, bool) {
	acct, region, ok := ecrHost(e.hostname())
	if !ok {
		return nil, false
	}
	c := &Cache{Host: e.hostname(), Account: acct, Region: region}
	switch {
	case apiRoot == "/v2":
		c.Prefix = "ROOT"
		return c, true
	case strings.HasPrefix(apiRoot, "/v2/") && !strings.Contains(apiRoot[3:], "/v2"):
		c.Prefix = strings.TrimPrefix(apiRoot, "/v2/")
		return c, true
	}
	c.Prefix = intendedPrefix(e.path)
	return c, false
}

// intendedPrefix guesses the cache prefix a misconfigured path meant: the path without
// its /v2 segments.
func intendedPrefix(p string) string {
	var parts []string
	for _, s := range strings.Split(strings.Trim(p, "/"), "/") {
		if s != "" && s != "v2" {
			parts = append(parts, s)
		}
	}
	if len(parts) == 0 {
		return "ROOT"
	}
	return strings.Join(parts, "/")
}

// containerdRoot is the API root containerd uses for a host (remotes/docker/config/hosts.go):
// the path as written with override_path, else the path with /v2 appended unless it ends so.
func containerdRoot(p string, overridePath bool) string {
	switch {
	case overridePath:
		return p
	case p == "":
		return "/v2"
	case strings.HasSuffix(p, "/v2"):
		return p
	}
	return p + "/v2"
}

// manifestURL is where a runtime asks for a manifest of repo through a route, for the report.
func manifestURL(e endpoint, root, repo string) string {
	return e.scheme + "://" + e.host + root + "/" + repo + "/manifests/<tag>"
}
