package sim

import (
	"encoding/json"
	"errors"
	"mime"
	"net"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"
)

// The admin endpoints under /_sim/ let tests and rehearsals steer the stand-in: move its
// clock, inject faults, read the event log, and start over. They are served beside the
// AWS APIs, on loopback unless told otherwise, and need no signature, so they refuse what
// a web page could send: a browser on this machine can reach a loopback port, and a page
// whose host name is re-pointed at 127.0.0.1 (DNS rebinding) would read the answers.
func (s *Server) serveAdmin(w http.ResponseWriter, r *http.Request) {
	if status, why := s.refuseAdmin(r); status != 0 {
		adminError(w, status, why)
		return
	}
	switch "/" + strings.TrimLeft(path.Clean(r.URL.Path), "/") {
	case "/_sim/clock":
		s.adminClock(w, r)
	case "/_sim/faults":
		s.adminFaults(w, r)
	case "/_sim/events":
		since := 0
		if v := r.URL.Query().Get("since"); v != "" || r.URL.Query().Has("since") {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				adminError(w, http.StatusBadRequest, "since: a sequence number, 0 or more (got "+strconv.Quote(sanitizeForMessage(v))+")")
				return
			}
			since = n
		}
		writeJSON(w, http.StatusOK, map[string]any{"events": emptyIfNil(s.events.since(since))})
	case "/_sim/reset":
		if r.Method != http.MethodPost {
			adminError(w, http.StatusMethodNotAllowed, "POST to reset")
			return
		}
		if err := s.Reset(); err != nil {
			adminError(w, http.StatusInternalServerError, err.Error())
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "reset"})
	case "/_sim/upstreams":
		out := map[string]any{}
		for h, u := range s.upstreams {
			out[h] = map[string]any{"url": u.url, "pullWindows": u.windowsNow()}
		}
		writeJSON(w, http.StatusOK, map[string]any{"upstreams": out})
	case "/_sim/expire-key":
		s.adminExpireKey(w, r)
	case "/_sim/upstreams/move":
		s.adminMoveTag(w, r)
	case "/_sim/info":
		writeJSON(w, http.StatusOK, s.info)
	default:
		adminError(w, http.StatusNotFound, "unknown admin endpoint; try /_sim/clock, /_sim/faults, /_sim/events, /_sim/reset, /_sim/upstreams, /_sim/upstreams/move, /_sim/info")
	}
}

func (s *Server) adminClock(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost {
		var in struct {
			Advance string `json:"advance"`
		}
		if err := decodeStrict(w, r, 1<<16, &in); err != nil {
			adminError(w, http.StatusBadRequest, `want {"advance": "25h"}: `+err.Error())
			return
		}
		d, err := ParseDuration(in.Advance)
		if err == nil && in.Advance == "" {
			err = errors.New(`advance: how far to move the clock, as {"advance": "25h"} or "3d"`)
		}
		if err != nil {
			adminError(w, http.StatusBadRequest, err.Error())
			return
		}
		s.clock.Advance(d)
	}
	writeJSON(w, http.StatusOK, map[string]string{"now": s.clock.Now().Format(time.RFC3339)})
}

func (s *Server) adminFaults(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodPut, http.MethodPost:
		var in []Fault
		if err := decodeStrict(w, r, 1<<20, &in); err != nil {
			adminError(w, http.StatusBadRequest, `want a list of faults, like [{"operation": "DescribeImages", "throttlePerSecond": 20}]: `+err.Error())
			return
		}
		probe := Scenario{Account: Account{ID: "111122223333", Region: "us-east-1"}, Faults: in}
		if err := probe.check(); err != nil {
			adminError(w, http.StatusBadRequest, err.Error())
			return
		}
		s.faults.set(in)
	case http.MethodDelete:
		s.faults.set(nil)
	}
	writeJSON(w, http.StatusOK, map[string]any{"faults": s.faults.list()})
}

// decodeStrict reads one JSON value into v, refusing fields v does not have and anything
// after the value: a misspelt field ({"advnce": "3d"}) is an error, never a silent no-op.
func decodeStrict(w http.ResponseWriter, r *http.Request, limit int64, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, limit))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("more than one JSON value in the body")
	}
	return nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func adminError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

// adminMoveTag points an upstream tag at new content, as a publisher pushing a new
// image under the same tag does.
func (s *Server) adminMoveTag(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		adminError(w, http.StatusMethodNotAllowed, "POST to move a tag")
		return
	}
	var in struct {
		Host       string   `json:"host"`
		Repository string   `json:"repository"`
		Tag        string   `json:"tag"`
		Version    *int     `json:"version"`
		Platforms  []string `json:"platforms"`
	}
	if err := decodeStrict(w, r, 1<<16, &in); err != nil {
		adminError(w, http.StatusBadRequest, `want {"host": "registry-1.docker.io", "repository": "library/alpine", "tag": "latest"}: `+err.Error())
		return
	}
	u := s.upstreams[in.Host]
	if u == nil {
		adminError(w, http.StatusNotFound, "no upstream "+in.Host+" in this scenario")
		return
	}
	if !repoNameRE.MatchString(in.Repository) || !tagRE.MatchString(in.Tag) {
		adminError(w, http.StatusBadRequest, "not a repository and tag")
		return
	}
	if err := checkPlatforms("platforms", in.Platforms); len(err) > 0 {
		adminError(w, http.StatusBadRequest, err[0].Error())
		return
	}
	u.mu.Lock()
	version := u.versions[in.Repository+":"+in.Tag] + 1
	u.mu.Unlock()
	if in.Version != nil {
		version = *in.Version
	}
	if err := u.push(in.Repository, in.Tag, version, in.Platforms); err != nil {
		adminError(w, http.StatusInternalServerError, err.Error())
		return
	}
	u.mu.Lock()
	u.exists[in.Repository] = true
	u.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"host": in.Host, "repository": in.Repository, "tag": in.Tag, "version": version})
}

// adminExpireKey makes an access key's credentials expire, as a session's do mid-incident:
// every later call signed with it gets ExpiredTokenException.
func (s *Server) adminExpireKey(w http.ResponseWriter, r *http.Request) {
	var in struct {
		AccessKeyID string `json:"accessKeyId"`
	}
	if r.Method != http.MethodPost || decodeStrict(w, r, 1<<12, &in) != nil {
		adminError(w, http.StatusBadRequest, `POST {"accessKeyId": "AKIA..."}`)
		return
	}
	s.mu.Lock()
	p := s.st.byKey[in.AccessKeyID]
	if p != nil {
		p.expired = true
	}
	s.mu.Unlock()
	if p == nil {
		adminError(w, http.StatusNotFound, "no such access key")
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"expired": in.AccessKeyID})
}

// refuseAdmin says why an admin request is refused, if it is:
//   - its Host is not the address the stand-in serves (an IP literal, or localhost when it
//     serves loopback, with the port it listens on): a rebound name is refused;
//   - it comes from another site (Origin, or Sec-Fetch-Site from the browser);
//   - it writes with anything but Content-Type: application/json, which a page cannot
//     send to another origin without a CORS preflight this endpoint never grants.
func (s *Server) refuseAdmin(r *http.Request) (int, string) {
	if !s.servesHost(r.Host) {
		return http.StatusForbidden, "the admin API answers requests addressed to " + s.apiLn.Addr().String() + " only (Host " + sanitizeForMessage(r.Host) + ")"
	}
	if o := r.Header.Get("Origin"); o != "" && o != "http://"+r.Host {
		return http.StatusForbidden, "the admin API refuses cross-origin requests (Origin " + sanitizeForMessage(o) + ")"
	}
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		return http.StatusForbidden, "the admin API refuses cross-site requests"
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
			return http.StatusUnsupportedMediaType, "send admin writes with Content-Type: application/json"
		}
	}
	return 0, ""
}

// servesHost reports whether a request's Host names the API listener: its port, and its
// IP (any IP when it listens on all addresses; localhost too when it listens on loopback).
func (s *Server) servesHost(hostport string) bool {
	addr, ok := s.apiLn.Addr().(*net.TCPAddr)
	if !ok {
		return false
	}
	host, port, err := net.SplitHostPort(hostport)
	if err != nil || port != strconv.Itoa(addr.Port) {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return addr.IP.IsLoopback()
	}
	ip := net.ParseIP(host)
	return ip != nil && (addr.IP.IsUnspecified() || ip.Equal(addr.IP))
}
