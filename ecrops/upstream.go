package ecrops

import (
	"bytes"
	"context"
	"errors"
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
// once per probe (200 probes of one upstream made 200 pings). A host whose ping fails
// twice is learned as failing for the scan: its later probes are "not checked" with that
// failed call at once, without asking again or sleeping through retries (200 probes of an
// upstream answering 503 made 400 pings and waited 200 ms each).

// upstreamTransport reaches registries, through the resolve map where it names the host.
func (a *Account) upstreamTransport() http.RoundTripper {
	a.upstreamOnce.Do(func() {
		base := a.registryTransport()
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
		a.upstream = roundTripFunc(func(req *http.Request) (*http.Response, error) {
			return a.pingsNow().roundTrip(counted, req)
		})
	})
	return a.upstream
}

// registryTransport is the pool of connections under the account's registry calls. The
// targets of a fleet share one, and it opens at most fleetRegistryConns connections to a
// host: 150 targets probing at once opened 1,200 to one upstream (Docker Hub sees one
// client: this machine), 30 MB of buffers and goroutines, and a probe only waits its turn.
func (a *Account) registryTransport() *http.Transport {
	if a.sdk == nil {
		return newRegistryTransport(16, 0)
	}
	a.sdk.registryOnce.Do(func() { a.sdk.registry = newRegistryTransport(fleetRegistryConns, fleetRegistryConns) })
	return a.sdk.registry
}

const fleetRegistryConns = 64

// newRegistryTransport keeps up to idle connections to a host for the next call (the
// standard 2 made 6 of a diagnosis's 8 probes at once dial again, a TLS handshake each),
// and opens at most conns to a host (0: no limit).
func newRegistryTransport(idle, conns int) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = (&net.Dialer{Timeout: 10 * time.Second}).DialContext
	t.ResponseHeaderTimeout = 30 * time.Second
	t.MaxIdleConns, t.MaxIdleConnsPerHost, t.MaxConnsPerHost = max(t.MaxIdleConns, idle), idle, conns
	return t
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

// pingCache keeps each registry's answer to the anonymous GET /v2/, by scheme and host.
// Probes that start together wait for the one ping in flight.
//
// An answer (200, or 401 with its WWW-Authenticate challenge) is kept for the scan. A
// failure (a 5xx or other refusal, a refused connection, no answer in the probe's time)
// is asked once more, by the next probe (or by go-containerregistry's own retry of a
// 5xx), before it is learned: one transient failure must not stand for the host. Once
// learned, every later ping of that host gets the same failed answer without asking
// (the probes that need it are each "not checked" with that one failed call), for
// failureMemory at most: then the host is asked again (a TUI probes long after its scan).
// A ping whose caller gave up (cancelled) says nothing about the host and is not counted.
type pingCache struct {
	mu      sync.Mutex
	answers map[string]*pingEntry
	now     func() time.Time // time.Now; tests move it
}

// pingTries is how many failed pings in a row make a host's failure learned.
const pingTries = 2

// failureMemory is how long a learned failure is replayed before the host is asked again.
const failureMemory = time.Minute

type pingEntry struct {
	asking  chan struct{} // open while a ping is in flight, closed when it is answered
	kept    bool          // ans is the registry's answer
	failed  int           // failed pings in a row
	learned time.Time     // when the failure was learned (failed reached pingTries)
	ans     pingAnswer    // the answer kept, or the failed answer learned
	err     error         // the failure learned, when no answer came
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

func (c *pingCache) clock() time.Time {
	if c.now != nil {
		return c.now()
	}
	return time.Now()
}

// failing reports whether a registry (host[:port], as go-containerregistry names it) has
// a failure learned: a retry of its calls would only replay it.
func (c *pingCache) failing(registry string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, scheme := range []string{"https://", "http://"} {
		if e := c.answers[scheme+registry]; e != nil && c.replaysFailure(e) {
			return true
		}
	}
	return false
}

// replaysFailure: the entry's failure is learned and still remembered. c.mu is held.
func (c *pingCache) replaysFailure(e *pingEntry) bool {
	if e.failed < pingTries {
		return false
	}
	if c.clock().Sub(e.learned) < failureMemory {
		return true
	}
	e.failed = 0 // forgotten: the next ping asks again, twice if need be
	return false
}

// roundTrip answers an anonymous ping from the cache, or asks it of next; any other
// call goes to next.
func (c *pingCache) roundTrip(next http.RoundTripper, req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodGet || req.URL.Path != "/v2/" || req.Header.Get("Authorization") != "" {
		return next.RoundTrip(req)
	}
	key := req.URL.Scheme + "://" + req.URL.Host
	e, err := c.turn(req, key)
	if e == nil || err != nil {
		return nil, err
	}
	if e.asking == nil { // answered, or failing: replayed
		return e.replay(req)
	}
	return c.ask(next, req, e)
}

// turn waits until the ping of key is answered, failing, or this request's to make; in
// the last case the entry is returned with asking open.
func (c *pingCache) turn(req *http.Request, key string) (*pingEntry, error) {
	for {
		c.mu.Lock()
		if c.answers == nil {
			c.answers = map[string]*pingEntry{}
		}
		e := c.answers[key]
		if e == nil {
			e = &pingEntry{}
			c.answers[key] = e
		}
		switch {
		case e.kept || c.replaysFailure(e):
			out := *e
			c.mu.Unlock()
			out.asking = nil
			return &out, nil
		case e.asking == nil:
			e.asking = make(chan struct{})
			c.mu.Unlock()
			return e, nil
		}
		wait := e.asking
		c.mu.Unlock()
		select {
		case <-wait:
		case <-req.Context().Done():
			return nil, req.Context().Err()
		}
	}
}

// ask makes the ping and records what it says about the host.
func (c *pingCache) ask(next http.RoundTripper, req *http.Request, e *pingEntry) (*http.Response, error) {
	resp, err := next.RoundTrip(req)
	var ans pingAnswer
	answered := err == nil
	if answered {
		var body []byte
		body, err = io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		from := req.URL
		if resp.Request != nil {
			from = resp.Request.URL
		}
		ans = pingAnswer{status: resp.StatusCode, header: resp.Header.Clone(), body: body, url: *from}
		answered = err == nil
	}
	gaveUp := errors.Is(req.Context().Err(), context.Canceled)
	c.mu.Lock()
	switch {
	case answered && (ans.status == http.StatusOK || ans.status == http.StatusUnauthorized):
		e.kept, e.failed, e.ans, e.err = true, 0, ans, nil
	case gaveUp: // says nothing about the registry
	default:
		e.failed++
		e.ans, e.err = ans, err
		if e.failed >= pingTries {
			e.learned = c.clock()
		}
	}
	close(e.asking)
	e.asking = nil
	c.mu.Unlock()
	if !answered {
		return nil, err
	}
	return ans.response(req), nil
}

// replay gives the kept answer, or the learned failure, again.
func (e *pingEntry) replay(req *http.Request) (*http.Response, error) {
	if e.err != nil {
		return nil, e.err
	}
	return e.ans.response(req), nil
}

// response is the answer for req. Its Request is a shallow copy of req with the URL the
// answer came from: go-containerregistry reads only that URL (its scheme) and the
// request is never sent; a deep Clone (headers, context) cost 4 % of a fleet's CPU.
func (p pingAnswer) response(req *http.Request) *http.Response {
	from := new(http.Request)
	*from = *req
	u := p.url
	from.URL = &u
	return &http.Response{Status: http.StatusText(p.status), StatusCode: p.status, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: p.header.Clone(), Body: io.NopCloser(bytes.NewReader(p.body)), ContentLength: int64(len(p.body)), Request: from}
}
