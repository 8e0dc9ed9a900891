package ecrops

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Every call to a registry (an upstream's, or the cache's own for warming) goes through
// one transport per account (issue 15): one pool of connections instead of a new one per
// probe; each call counted in the meter, so --stats shows what reached the registries as
// well as AWS; and the registry's answer to the anonymous ping (GET /v2/), which says how
// to log in and is the same whoever asks, learned once per host and scheme instead of
// once per probe (200 probes of one upstream made 200 pings).

// upstreamTransport reaches registries, through the resolve map where it names the host.
func (a *Account) upstreamTransport() http.RoundTripper {
	a.upstreamOnce.Do(func() {
		base := http.DefaultTransport.(*http.Transport).Clone()
		base.DialContext = (&net.Dialer{Timeout: 10 * time.Second}).DialContext
		base.ResponseHeaderTimeout = 30 * time.Second
		var rt http.RoundTripper = base
		if len(a.cfg.Resolve) > 0 {
			rt = roundTripFunc(func(req *http.Request) (*http.Response, error) {
				if target, ok := a.cfg.Resolve[req.URL.Hostname()]; ok {
					u, _ := url.Parse(target)
					req = req.Clone(req.Context())
					req.URL.Scheme, req.URL.Host = u.Scheme, u.Host
				}
				return base.RoundTrip(req)
			})
		}
		counted := roundTripFunc(func(req *http.Request) (*http.Response, error) {
			resp, err := rt.RoundTrip(req)
			a.meter.count(registryOperation(req), resp, err, false)
			return resp, err
		})
		a.upstream = a.pings.wrap(counted)
	})
	return a.upstream
}

// registryOperation names a registry call for the meter: "registry <host> <kind>", the
// host as asked (before the resolve map).
func registryOperation(req *http.Request) string {
	p := req.URL.Path
	kind := "other"
	switch {
	case p == "/v2/" || p == "/v2":
		kind = "ping"
	case strings.Contains(p, "/manifests/"):
		kind = req.Method + " manifest"
	case strings.HasSuffix(p, "/tags/list"):
		kind = "tags"
	case strings.Contains(p, "/blobs/"):
		kind = req.Method + " blob"
	case !strings.HasPrefix(p, "/v2/"):
		kind = "token" // a token service's realm (auth.docker.io/token, ghcr.io/token)
	}
	return "registry " + req.URL.Host + " " + kind
}

// pingCache keeps each registry's answer to the anonymous GET /v2/ (200, or 401 with its
// WWW-Authenticate challenge), by scheme and host. Probes that start together wait for
// the first one's ping. Other answers (5xx, no answer) are not kept: each waiting probe,
// and the next, asks again.
type pingCache struct {
	mu      sync.Mutex
	answers map[string]*pingEntry
}

type pingEntry struct {
	done chan struct{} // closed when the first ping is answered
	ok   bool          // the answer is kept
	ans  pingAnswer
}

type pingAnswer struct {
	status int
	header http.Header
	body   []byte
	url    url.URL // the URL the answer came from (after the resolve map): its scheme
	// tells go-containerregistry whether the registry is reached over plain HTTP
}

func (c *pingCache) forget() {
	c.mu.Lock()
	c.answers = nil
	c.mu.Unlock()
}

func (c *pingCache) wrap(next http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(req *http.Request) (*http.Response, error) {
		if req.Method != http.MethodGet || req.URL.Path != "/v2/" || req.Header.Get("Authorization") != "" {
			return next.RoundTrip(req)
		}
		key := req.URL.Scheme + "://" + req.URL.Host
		c.mu.Lock()
		if c.answers == nil {
			c.answers = map[string]*pingEntry{}
		}
		e, asked := c.answers[key]
		if !asked {
			e = &pingEntry{done: make(chan struct{})}
			c.answers[key] = e
		}
		c.mu.Unlock()
		if asked {
			select {
			case <-e.done:
			case <-req.Context().Done():
				return nil, req.Context().Err()
			}
			if e.ok {
				return e.ans.response(req), nil
			}
			return next.RoundTrip(req)
		}
		resp, err := next.RoundTrip(req)
		keep := err == nil && (resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusUnauthorized)
		if keep {
			var body []byte
			body, err = io.ReadAll(io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
			from := req.URL
			if resp.Request != nil {
				from = resp.Request.URL
			}
			e.ans, e.ok = pingAnswer{status: resp.StatusCode, header: resp.Header.Clone(), body: body, url: *from}, err == nil
		}
		if !e.ok { // not kept: the next probe asks again
			c.mu.Lock()
			if c.answers[key] == e {
				delete(c.answers, key)
			}
			c.mu.Unlock()
		}
		close(e.done)
		switch {
		case keep && err != nil:
			return nil, err
		case keep:
			return e.ans.response(req), nil
		}
		return resp, err
	})
}

func (p pingAnswer) response(req *http.Request) *http.Response {
	from := req.Clone(req.Context())
	u := p.url
	from.URL = &u
	return &http.Response{Status: http.StatusText(p.status), StatusCode: p.status, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: p.header.Clone(), Body: io.NopCloser(bytes.NewReader(p.body)), ContentLength: int64(len(p.body)), Request: from}
}
