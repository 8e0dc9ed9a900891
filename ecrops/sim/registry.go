package sim

import (
	"encoding/base64"
	"net/http"
	"strings"
)

// serveRegistry is the registry data plane at the proxyEndpoint that GetAuthorizationToken
// names. Every request needs the Basic credentials that token carries.
func (s *Server) serveRegistry(w http.ResponseWriter, r *http.Request) {
	p, why := s.registryPrincipal(r)
	if p == nil {
		w.Header().Set("WWW-Authenticate", `Basic realm="`+s.info.Registry+`",service="ecr.amazonaws.com"`)
		writeRegistryError(w, http.StatusUnauthorized, "DENIED", why)
		return
	}
	if r.URL.Path == "/v2/" || r.URL.Path == "/v2" {
		w.Header().Set("Docker-Distribution-API-Version", "registry/2.0")
		w.WriteHeader(http.StatusOK)
		return
	}
	writeRegistryError(w, http.StatusNotFound, "NAME_UNKNOWN", "The registry data plane serves /v2/ only so far")
}

func (s *Server) registryPrincipal(r *http.Request) (*principal, string) {
	auth, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Basic ")
	if !ok {
		return nil, "Not Authorized"
	}
	raw, err := base64.StdEncoding.DecodeString(auth)
	if err != nil {
		return nil, "Not Authorized"
	}
	user, password, _ := strings.Cut(string(raw), ":")
	s.mu.Lock()
	defer s.mu.Unlock()
	tok := s.st.tokens[password]
	if user != "AWS" || tok == nil {
		return nil, "Not Authorized"
	}
	if s.clock.Now().After(tok.Expires) {
		return nil, "Your authorization token has expired. Reauthenticate and try again."
	}
	return tok.Principal, ""
}

func writeRegistryError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write([]byte(mustJSON(map[string]any{"errors": []map[string]string{{"code": code, "message": msg}}})))
}
