package sim

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"time"
)

// Server is the stand-in for one AWS account: the AWS APIs and the admin endpoints on
// one listener, the registry data plane on another.
type Server struct {
	scenario *Scenario
	clock    *Clock
	// sharedClock is set in a fleet, whose account-regions read one clock: resetting one
	// of them does not rewind the others' time.
	sharedClock bool
	events      *eventLog
	faults      *faultSet

	ecrModel, smModel *apiModel

	mu sync.Mutex
	st *state

	upstreams map[string]*upstreamRegistry // by host
	s3        *blobStore                   // where layer downloads are redirected (dataplane.go)
	stubs     map[string]*stubUpstream     // by host: the rule hosts no upstream serves

	apiLn, regLn   net.Listener
	apiSrv, regSrv *http.Server
	info           Info
	allowRemote    bool
	// member: one account-region of a Fleet, whose upstreams and stubs are the fleet's,
	// listened for by the fleet's first member.
	member bool
}

// Info is what `ptcdoctor sim` prints on its first line. Scripts rely on it: add fields, never rename.
type Info struct {
	Endpoint        string            `json:"endpoint"`
	Registry        string            `json:"registry"`
	Resolve         map[string]string `json:"resolve"`
	Region          string            `json:"region"`
	AccountID       string            `json:"accountId"`
	AccessKeyID     string            `json:"accessKeyId"`
	SecretAccessKey string            `json:"secretAccessKey"`
	Admin           string            `json:"admin"`
	Scenario        string            `json:"scenario"`
}

// New builds a stand-in for the scenario. It serves nothing until Start.
func New(sc *Scenario) (*Server, error) {
	m, err := models()
	if err != nil {
		return nil, err
	}
	sc = sc.withGenerated() // once: Reset starts again from the expanded scenario
	s := &Server{scenario: sc, clock: NewClock(time.Now()), events: &eventLog{},
		ecrModel: m.ecr, smModel: m.secretsManager}
	s.faults = newFaultSet(sc.Faults)
	st, err := newState(sc, s.clock.Now())
	if err != nil {
		return nil, err
	}
	s.st = st
	s.upstreams = map[string]*upstreamRegistry{}
	for _, u := range sc.Upstreams {
		ur, err := newUpstream(s, u)
		if err != nil {
			return nil, err
		}
		s.upstreams[u.Host] = ur
	}
	s.newStubs()
	return s, nil
}

// AllowRemote lets Start listen on an address other than loopback. Everything the
// stand-in serves, its admin API and its keys included, is then open to that network.
func (s *Server) AllowRemote() { s.allowRemote = true }

// IsLoopback reports whether a host:port listens on loopback only (127.0.0.0/8, ::1,
// localhost); an empty host means every interface.
func IsLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Start listens on addr (host:port; port 0 picks one) for the APIs, and on another port
// of the same host for the registry and the upstreams. An address beyond loopback is
// refused unless AllowRemote was called.
func (s *Server) Start(addr string) error {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--addr %q: %w", addr, err)
	}
	if !s.allowRemote && !IsLoopback(addr) {
		return fmt.Errorf("--addr %q is not a loopback address: the stand-in's admin API and keys would be open to the network; pass --allow-remote to do so anyway", addr)
	}
	if s.apiLn, err = net.Listen("tcp", addr); err != nil {
		return err
	}
	if s.regLn, err = net.Listen("tcp", net.JoinHostPort(host, "0")); err != nil {
		s.apiLn.Close()
		return err
	}
	s.apiSrv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	s.regSrv = &http.Server{Handler: http.HandlerFunc(s.serveRegistry), ReadHeaderTimeout: 10 * time.Second}
	for _, h := range sortedHosts(s.upstreams) {
		if s.member {
			break
		}
		if err := s.upstreams[h].listen(host); err != nil {
			s.Close()
			return err
		}
	}
	if err := s.startBlobStore(host); err != nil {
		s.Close()
		return err
	}
	for _, stub := range s.stubs {
		if s.member {
			break
		}
		if err := stub.listen(host); err != nil {
			s.Close()
			return err
		}
	}
	go s.apiSrv.Serve(s.apiLn)
	go s.regSrv.Serve(s.regLn)

	endpoint := "http://" + s.apiLn.Addr().String()
	key := s.adminPrincipal()
	s.info = Info{
		Endpoint: endpoint, Registry: "http://" + s.regLn.Addr().String(), Resolve: s.resolveMap(),
		Region: s.st.region, AccountID: s.st.accountID, AccessKeyID: key.AccessKeyID,
		SecretAccessKey: key.SecretAccessKey, Admin: endpoint + "/_sim", Scenario: s.scenario.Name,
	}
	return nil
}

// adminPrincipal is the first principal allowed every action.
func (s *Server) adminPrincipal() *principal {
	for _, p := range s.st.principals {
		if contains(p.Allow, "*") && len(p.Deny) == 0 && !p.deniesAnything() {
			return p
		}
	}
	return s.st.principals[0]
}

func (s *Server) Info() Info { return s.info }

// Clock is the stand-in's clock, which tests advance instead of sleeping.
func (s *Server) Clock() *Clock { return s.clock }

// Close stops the listeners. Requests in flight get a moment to finish; connections
// that never sent a request (which http.Server.Shutdown would wait 5 s for) are cut.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	var errs []error
	servers := []*http.Server{s.apiSrv, s.regSrv}
	if s.s3 != nil {
		servers = append(servers, s.s3.http)
	}
	for _, u := range s.upstreams {
		if !s.member {
			servers = append(servers, u.http)
		}
	}
	for _, u := range s.stubs {
		if !s.member {
			servers = append(servers, u.http)
		}
	}
	for _, srv := range servers {
		if srv == nil {
			continue
		}
		if err := srv.Shutdown(ctx); err != nil {
			errs = append(errs, srv.Close())
		}
	}
	return errors.Join(errs...)
}

// Reset puts the account back as the scenario describes it, with the clock back at its
// start (in a fleet, whose clock is shared, the clock is kept), and empties the event log.
func (s *Server) Reset() error {
	if !s.sharedClock {
		s.clock.Rewind() // the scenario's ages count from the start again
	}
	st, err := newState(s.scenario, s.clock.Now())
	if err != nil {
		return err
	}
	for _, u := range s.upstreams {
		if err := u.reset(); err != nil {
			return err
		}
	}
	s.mu.Lock()
	s.st = st
	s.mu.Unlock()
	s.events.reset()
	s.faults.set(s.scenario.Faults)
	return nil
}

// Events returns the event log from sequence number since on.
func (s *Server) Events(since int) []Event { return s.events.since(since) }

const maxRequestBody = 10 << 20

// ServeHTTP serves the AWS APIs: JSON 1.1 routed by X-Amz-Target, query protocol by Action.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/_sim/") || strings.HasPrefix(r.URL.Path, "//_sim/") {
		s.serveAdmin(w, r)
		return
	}
	body, err := readBody(r)
	if err != nil {
		return
	}
	s.serveAPI(w, r, body, nil)
}

// readBody reads at most maxRequestBody+1 bytes of a request's body (one more than is
// accepted, to tell a body too large), into a buffer of the size it declares.
func readBody(r *http.Request) ([]byte, error) {
	if n := r.ContentLength; n >= 0 && n <= maxRequestBody {
		body := make([]byte, n+1) // +1: a body longer than it said is read as ReadAll would
		read, err := io.ReadFull(io.LimitReader(r.Body, maxRequestBody+1), body)
		if err == io.ErrUnexpectedEOF || err == io.EOF {
			err = nil
		}
		if err != nil || read <= int(n) {
			return body[:read], err
		}
		rest, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBody+1-int64(read)))
		return append(body[:read], rest...), err
	}
	return io.ReadAll(io.LimitReader(r.Body, maxRequestBody+1))
}

// serveAPI serves an AWS API request whose body (at most maxRequestBody+1 bytes of it) has
// been read, and whose Authorization header has been parsed when auth is not nil.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request, body []byte, auth *sigv4Header) {
	c := &call{srv: s, w: w, r: r, body: body, auth: auth, requestID: newRequestID()}
	if target := r.Header.Get("X-Amz-Target"); target != "" {
		c.protocol = "json"
		prefix, op, _ := strings.Cut(target, ".")
		c.op = op
		switch prefix {
		case s.ecrModel.Metadata.TargetPrefix:
			c.service, c.model, c.handler = "ecr", s.ecrModel, ecrHandlers[op]
		case s.smModel.Metadata.TargetPrefix:
			c.service, c.model, c.handler = "secretsmanager", s.smModel, secretsHandlers[op]
		}
		if c.service == "" {
			c.fail(clientError("UnknownOperationException", "Operation %s is not supported by this stand-in", sanitizeForMessage(target)))
			return
		}
	} else {
		c.protocol = "query"
		form, err := url.ParseQuery(string(body))
		if err != nil {
			c.fail(clientError("MalformedQueryString", "The request body is not a form: %v", err))
			return
		}
		c.form = form
		c.op = form.Get("Action")
		c.service, c.handler = queryService(c.op)
		if c.service == "" {
			c.fail(clientError("InvalidAction", "Could not find operation %s", sanitizeForMessage(c.op)))
			return
		}
	}
	if len(body) > maxRequestBody {
		c.fail(&apiError{Code: "RequestEntityTooLargeException", Message: "Request body is too large", Status: http.StatusRequestEntityTooLarge, Sender: true})
		return
	}
	if c.handler == nil {
		c.fail(clientError("UnknownOperationException", "Operation %s.%s is not supported by this stand-in", c.service, sanitizeForMessage(c.op)))
		return
	}
	c.run()
}

// sanitizeForMessage keeps a client's string printable before it goes back in an error.
func sanitizeForMessage(s string) string {
	if len(s) > 128 {
		s = s[:128]
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, s)
}

// call is one AWS API request on its way through the stand-in.
type call struct {
	srv       *Server
	w         http.ResponseWriter
	r         *http.Request
	body      []byte
	form      map[string][]string
	protocol  string
	service   string
	op        string
	model     *apiModel
	handler   handler
	principal *principal
	requestID string
	auth      *sigv4Header // parsed by a fleet, which routes by it; nil until authenticate
}

type handler func(c *call) (any, *apiError)

func (c *call) run() {
	s := c.srv
	p, aerr := s.authenticate(c)
	if aerr != nil {
		c.fail(aerr)
		return
	}
	c.principal = p
	if aerr := s.faults.apply(c.r.Context(), c.op, c.w); aerr != nil {
		if aerr == errConnectionReset {
			s.events.add(s.clock.Now(), Event{Principal: p.CallerARN, Service: c.service, Operation: c.op,
				Outcome: "ConnectionReset", Write: isWrite(c.op), RequestID: c.requestID})
			resetConnection(c.w)
			return
		}
		c.fail(aerr)
		return
	}
	if c.protocol == "json" {
		var in map[string]any
		if len(c.body) > 0 {
			if err := json.Unmarshal(c.body, &in); err != nil {
				c.fail(clientError("SerializationException", "Start of structure or map found where not expected, or the body is not JSON"))
				return
			}
		}
		if in == nil {
			in = map[string]any{}
		}
		if aerr := c.model.validationError(c.service, c.op, in); aerr != nil {
			c.fail(aerr)
			return
		}
	}
	var out any
	s.mu.Lock()
	s.evaluateLifecycles()
	if selfLocking[c.op] {
		s.mu.Unlock()
		out, aerr = c.handler(c)
	} else {
		out, aerr = c.handler(c)
		s.mu.Unlock()
	}
	if aerr != nil {
		c.fail(aerr)
		return
	}
	c.succeed(out)
}

func (c *call) decode(v any) *apiError {
	if len(c.body) == 0 {
		return nil
	}
	if err := json.Unmarshal(c.body, v); err != nil {
		return clientError("SerializationException", "%v", err)
	}
	return nil
}

func (c *call) logEvent(outcome string, status int) {
	ev := Event{Service: c.service, Operation: c.op, Outcome: outcome, Status: status,
		Write: isWrite(c.op), RequestID: c.requestID}
	if c.principal != nil {
		ev.Principal = c.principal.CallerARN
	}
	c.srv.events.add(c.srv.clock.Now(), ev)
}

func (c *call) succeed(out any) {
	c.logEvent("ok", http.StatusOK)
	h := c.w.Header()
	h.Set("X-Amzn-RequestId", c.requestID)
	if c.protocol == "query" {
		h.Set("Content-Type", "text/xml")
		c.w.WriteHeader(http.StatusOK)
		io.WriteString(c.w, out.(string))
		return
	}
	h.Set("Content-Type", "application/x-amz-json-1.1")
	if out == nil {
		out = struct{}{}
	}
	if m, ok := out.(map[string]any); ok {
		dropNils(m)
	}
	buf := answerBuffers.Get().(*bytes.Buffer)
	defer answerBuffers.Put(buf)
	buf.Reset()
	if err := json.NewEncoder(buf).Encode(out); err != nil {
		c.fail(serverError("ServerException", "the stand-in could not encode its answer"))
		return
	}
	c.w.WriteHeader(http.StatusOK)
	c.w.Write(bytes.TrimSuffix(buf.Bytes(), []byte("\n"))) // Encode's newline: the answer is json.Marshal's bytes
}

// answerBuffers hold JSON answers being written (json.Marshal would allocate each anew).
var answerBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func (c *call) fail(e *apiError) {
	c.logEvent(e.Code, e.Status)
	h := c.w.Header()
	h.Set("X-Amzn-RequestId", c.requestID)
	if c.protocol == "query" {
		kind := "Sender"
		if !e.Sender {
			kind = "Receiver"
		}
		h.Set("Content-Type", "text/xml")
		c.w.WriteHeader(e.Status)
		fmt.Fprintf(c.w, `<ErrorResponse xmlns="%s"><Error><Type>%s</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>%s</RequestId></ErrorResponse>`,
			queryNamespace(c.service), kind, xmlEscape(e.Code), xmlEscape(e.Message), c.requestID)
		return
	}
	h.Set("Content-Type", "application/x-amz-json-1.1")
	h.Set("X-Amzn-ErrorType", e.Code)
	c.w.WriteHeader(e.Status)
	raw, _ := json.Marshal(errorOut{Type: e.Code, Message: e.Message})
	c.w.Write(raw)
}

// errorOut is a JSON 1.1 error's body.
type errorOut struct {
	Type    string `json:"__type"`
	Message string `json:"message"`
}

// authenticate checks the SigV4 signature and returns the principal that made it.
func (s *Server) authenticate(c *call) (*principal, *apiError) {
	auth := c.auth
	if auth == nil {
		var aerr *apiError
		if auth, aerr = parseAuthorization(c.r.Header.Get("Authorization")); aerr != nil {
			return nil, aerr
		}
	}
	s.mu.Lock()
	p := s.st.byKey[auth.Credential.AccessKeyID]
	s.mu.Unlock()
	if p == nil {
		if c.protocol == "query" {
			return nil, &apiError{Code: "InvalidClientTokenId", Message: "The security token included in the request is invalid.", Status: http.StatusForbidden, Sender: true}
		}
		return nil, clientError("UnrecognizedClientException", "The security token included in the request is invalid.")
	}
	if p.expired {
		if c.protocol == "query" {
			return nil, &apiError{Code: "ExpiredToken", Message: "The security token included in the request is expired", Status: http.StatusForbidden, Sender: true}
		}
		return nil, clientError("ExpiredTokenException", "The security token included in the request is expired")
	}
	if auth.Credential.Service != c.service {
		return nil, incompleteSignature(fmt.Sprintf("Credential should be scoped to correct service: '%s'. ", c.service))
	}
	if (c.service == "ecr" || c.service == "secretsmanager") && auth.Credential.Region != s.st.region {
		return nil, incompleteSignature(fmt.Sprintf("Credential should be scoped to a valid region. This endpoint serves '%s'. ", s.st.region))
	}
	if !signatureMatches(c.r, c.body, auth, p.SecretAccessKey) {
		code, status := "InvalidSignatureException", http.StatusBadRequest
		if c.protocol == "query" {
			code, status = "SignatureDoesNotMatch", http.StatusForbidden
		}
		return nil, &apiError{Code: code, Status: status, Sender: true,
			Message: "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."}
	}
	return p, nil
}

// isWrite tells the operations that change an account from those that read it.
func isWrite(op string) bool {
	for _, p := range []string{"Create", "Update", "Delete", "Put", "Set", "Tag", "Untag", "BatchDelete", "Register", "Deregister", "Restore", "Rotate"} {
		if strings.HasPrefix(op, p) {
			return true
		}
	}
	return false
}

// newRequestID is a random ID in the form of a UUID, as AWS's request IDs are.
func newRequestID() string {
	var b [16]byte
	randRead(b[:])
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:36], b[10:16])
	return string(out[:])
}

// dropNils removes absent optional members (nil pointers), which AWS leaves out of its
// answers rather than sending null.
func dropNils(m map[string]any) {
	for k, v := range m {
		if v == nil {
			delete(m, k)
			continue
		}
		if rv := reflect.ValueOf(v); rv.Kind() == reflect.Pointer && rv.IsNil() {
			delete(m, k)
		}
	}
}
