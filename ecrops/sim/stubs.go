package sim

import (
	"net"
	"net/http"
	"sort"
	"strings"
	"time"
)

// No scenario may point the tool beyond loopback. A client follows a rule to its upstream
// (ptcdoctor probes public.ecr.aws for an ECR Public rule) and reaches it through the
// resolve map the stand-in prints; a host missing from the map would be looked up in the
// real DNS and dialled on the internet. So every host a rule can name (each upstream of
// the upstreamRegistry enum, and the URL of every rule the scenario lists or generates) is
// in the map: the scenario's look-alike where it lists one under upstreams, otherwise a
// refusing stub on loopback, which answers every request 503 UNAVAILABLE saying so.
//
// Not covered: a rule created at run time for a host no scenario rule names (another
// account's private ECR, an Azure registry): the stand-in cannot know it in advance.

// stubUpstream answers for an upstream host the scenario does not serve.
type stubUpstream struct {
	srv  *Server
	host string
	ln   net.Listener
	http *http.Server
	url  string
}

func (u *stubUpstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	msg := "ptcdoctor sim: the scenario serves no upstream " + u.host + " (list it under upstreams: to serve content); the stand-in reaches no other host"
	writeRegistryError(w, http.StatusServiceUnavailable, "UNAVAILABLE", msg)
	u.srv.events.add(u.srv.clock.Now(), Event{Service: "upstream:" + u.host, Operation: r.Method + " " + r.URL.Path,
		Outcome: "not-served", Status: http.StatusServiceUnavailable, Detail: "no upstream " + u.host + " in the scenario"})
}

func (u *stubUpstream) listen(host string) error {
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return err
	}
	u.ln, u.url = ln, "http://"+ln.Addr().String()
	u.http = &http.Server{Handler: u, ReadHeaderTimeout: 10 * time.Second}
	go u.http.Serve(ln)
	return nil
}

// ruleHosts lists every host a rule of the scenario can name: the fixed upstreams of the
// enum, the rules it lists, the upstream it generates rules for, and Docker Hub's token
// host beside Docker Hub.
func ruleHosts(sc *Scenario) []string {
	set := map[string]bool{}
	add := func(u string) {
		if h := hostOf(u); h != "" {
			set[h] = true
		}
	}
	for _, u := range upstreamURLs {
		add(u)
	}
	for _, r := range sc.Rules {
		add(r.URL)
	}
	if g := sc.Generate; g != nil {
		add(upstreamURLs[orDefault(g.Upstream, "ecr-public")])
	}
	if set[dockerHubHost] {
		set[dockerHubAuthHost] = true
	}
	out := make([]string, 0, len(set))
	for h := range set {
		out = append(out, h)
	}
	sort.Strings(out)
	return out
}

// hostOf is the host name of a registry URL ("quay.io", "https://host:5000/path").
func hostOf(u string) string {
	u = strings.TrimPrefix(strings.TrimPrefix(u, "https://"), "http://")
	u, _, _ = strings.Cut(u, "/")
	if h, _, err := net.SplitHostPort(u); err == nil {
		return h
	}
	return u
}

// newStubs makes a stub for each host of ruleHosts the scenario serves no upstream for.
func (s *Server) newStubs() {
	s.stubs = map[string]*stubUpstream{}
	for _, h := range ruleHosts(s.scenario) {
		if s.upstreams[h] != nil || (h == dockerHubAuthHost && s.upstreams[dockerHubHost] != nil) {
			continue
		}
		s.stubs[h] = &stubUpstream{srv: s, host: h}
	}
}
