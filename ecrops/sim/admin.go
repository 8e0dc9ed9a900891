package sim

import (
	"encoding/json"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"
)

// The admin endpoints under /_sim/ let tests and rehearsals steer the stand-in: move its
// clock, inject faults, read the event log, and start over. They are served on loopback
// only, beside the AWS APIs, and need no signature.
func (s *Server) serveAdmin(w http.ResponseWriter, r *http.Request) {
	switch "/" + strings.TrimLeft(path.Clean(r.URL.Path), "/") {
	case "/_sim/clock":
		s.adminClock(w, r)
	case "/_sim/faults":
		s.adminFaults(w, r)
	case "/_sim/events":
		since, _ := strconv.Atoi(r.URL.Query().Get("since"))
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
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&in); err != nil {
			adminError(w, http.StatusBadRequest, `want {"advance": "25h"}: `+err.Error())
			return
		}
		d, err := ParseDuration(in.Advance)
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
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&in); err != nil {
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
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&in); err != nil {
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
	if r.Method != http.MethodPost || json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<12)).Decode(&in) != nil {
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
