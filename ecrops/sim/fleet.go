package sim

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Fleet is the stand-in for several accounts and regions behind one endpoint, as AWS is
// one set of endpoints for every account: a request goes to the account its access key
// belongs to, in the region its signature is scoped to. Each account-region is a Server
// of its own (its state, faults, throttling and registry endpoint); STS AssumeRole and
// Organizations ListAccounts, which span accounts, are answered here.
type Fleet struct {
	scenario *Scenario
	clock    *Clock
	members  []*Server          // account by account, region by region
	at       map[string]*Server // "account/region"
	accounts []FleetAccount
	keys     map[string]string // a scenario principal's access key -> its account

	// mu is read on every request signed with a role session, by every account-region at
	// once, and written only by AssumeRole.
	mu       sync.RWMutex
	sessions map[string]string // an assumed role's temporary access key -> its account

	// empty are the account-regions a scenario account does not list in a region every
	// account has enabled (not opt-in): made on the first call there, holding nothing.
	emptyMu sync.Mutex
	empty   map[string]*Server

	ln          net.Listener
	http        *http.Server
	info        FleetInfo
	allowRemote bool
}

// FleetInfo is what `ptcdoctor sim` prints first for a fleet: the fields of Info (for the
// management account's first region, with the keys of its first principal allowed
// everything) and every account-region with its registry endpoint.
type FleetInfo struct {
	Info
	Organization string             `json:"organization,omitempty"`
	Accounts     []FleetAccountInfo `json:"accounts"`
}

type FleetAccountInfo struct {
	ID      string            `json:"id"`
	Name    string            `json:"name,omitempty"`
	Regions []FleetRegionInfo `json:"regions"`
}

type FleetRegionInfo struct {
	Region   string `json:"region"`
	Registry string `json:"registry"`
	Admin    string `json:"admin"`
}

// NewFleet builds the stand-in for a fleet scenario. It serves nothing until Start.
func NewFleet(sc *Scenario) (*Fleet, error) {
	if !sc.IsFleet() {
		return nil, fmt.Errorf("scenario %q describes one account: serve it with New", sc.Name)
	}
	f := &Fleet{scenario: sc, clock: NewClock(time.Now()), at: map[string]*Server{},
		accounts: sc.fleetAccounts(), keys: map[string]string{}, sessions: map[string]string{}}
	ms := sc.members()
	var expanded []*Scenario
	for _, m := range ms {
		expanded = append(expanded, m.sc.withGenerated())
	}
	shared := mergeUpstreams(expanded)
	for _, m := range ms {
		esc := *m.sc
		esc.Upstreams = nil // the fleet's, below
		srv, err := New(&esc)
		if err != nil {
			return nil, fmt.Errorf("account %s, region %s: %w", m.account.ID, m.region, err)
		}
		srv.clock, srv.sharedClock = f.clock, true
		// The event logs share maxEvents (each keeps at least minMemberEvents), so that the
		// fleet's memory is bounded as one account's is, not 150 times that.
		srv.events.max = max(maxEvents/len(ms), minMemberEvents)
		f.members = append(f.members, srv)
		f.at[m.account.ID+"/"+m.region] = srv
	}
	// One set of upstreams for the fleet, served by the first member: every member knows
	// them all (ValidatePullThroughCacheRule reads them), and there is a stub for every
	// host any member's rules name that no upstream serves.
	hub := f.members[0]
	upstreams := map[string]*upstreamRegistry{}
	for _, u := range shared {
		ur, err := newUpstream(hub, u)
		if err != nil {
			return nil, err
		}
		upstreams[u.Host] = ur
	}
	stubs := map[string]*stubUpstream{}
	for i, srv := range f.members {
		srv.scenario.Upstreams = shared
		srv.upstreams, srv.stubs, srv.member = upstreams, stubs, i > 0
		for _, h := range ruleHosts(srv.scenario) {
			if upstreams[h] == nil && stubs[h] == nil && !(h == dockerHubAuthHost && upstreams[dockerHubHost] != nil) {
				stubs[h] = &stubUpstream{srv: hub, host: h}
			}
		}
	}
	for _, a := range f.accounts {
		for _, p := range a.Principals {
			f.keys[p.AccessKeyID] = a.ID
		}
	}
	return f, nil
}

// AllowRemote lets Start listen beyond loopback (see Server.AllowRemote).
func (f *Fleet) AllowRemote() { f.allowRemote = true }

// Start listens on addr for the AWS APIs of every account and region; each account-region
// takes a registry port of its own on the same host.
func (f *Fleet) Start(addr string) error {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--addr %q: %w", addr, err)
	}
	if !f.allowRemote && !IsLoopback(addr) {
		return fmt.Errorf("--addr %q is not a loopback address: the stand-in's admin API and keys would be open to the network; pass --allow-remote to do so anyway", addr)
	}
	for _, srv := range f.members {
		if f.allowRemote {
			srv.AllowRemote()
		}
		if err := srv.Start(net.JoinHostPort(host, "0")); err != nil {
			f.Close()
			return err
		}
	}
	if f.ln, err = net.Listen("tcp", addr); err != nil {
		f.Close()
		return err
	}
	f.http = &http.Server{Handler: f, ReadHeaderTimeout: 10 * time.Second}
	go f.http.Serve(f.ln)
	f.info = f.buildInfo("http://" + f.ln.Addr().String())
	return nil
}

func (f *Fleet) buildInfo(endpoint string) FleetInfo {
	mgmt := f.scenario.managementAccount()
	if mgmt == "" {
		mgmt = f.accounts[0].ID
	}
	var first *Server
	resolve := map[string]string{}
	var accounts []FleetAccountInfo
	for _, a := range f.accounts {
		ai := FleetAccountInfo{ID: a.ID, Name: a.Name}
		for _, r := range a.Regions {
			srv := f.at[a.ID+"/"+r.Region]
			if first == nil && a.ID == mgmt {
				first = srv
			}
			ai.Regions = append(ai.Regions, FleetRegionInfo{Region: r.Region, Registry: srv.Info().Registry,
				Admin: fmt.Sprintf("%s/_sim/at/%s/%s", endpoint, a.ID, r.Region)})
			// One layer bucket host per region: the first account's in that region serves it.
			for h, u := range srv.Info().Resolve {
				if _, ok := resolve[h]; !ok {
					resolve[h] = u
				}
			}
		}
		accounts = append(accounts, ai)
	}
	info := first.Info()
	info.Endpoint, info.Admin, info.Resolve, info.Scenario = endpoint, endpoint+"/_sim", resolve, f.scenario.Name
	out := FleetInfo{Info: info, Accounts: accounts}
	if f.scenario.managementAccount() != "" {
		out.Organization = f.scenario.organizationID()
	}
	return out
}

func (f *Fleet) Info() FleetInfo { return f.info }

// Clock is the fleet's one clock, which every account-region and upstream reads.
func (f *Fleet) Clock() *Clock { return f.clock }

// Member is the Server of one account-region, nil if the account is not in that region.
func (f *Fleet) Member(account, region string) *Server { return f.at[account+"/"+region] }

// Close stops every listener.
func (f *Fleet) Close() error {
	if f.http != nil {
		f.http.Close()
	}
	f.emptyMu.Lock()
	for _, srv := range f.empty {
		if srv != nil {
			srv.Close()
		}
	}
	f.emptyMu.Unlock()
	// The first member last: it serves the upstreams the others share.
	for i := len(f.members) - 1; i >= 0; i-- {
		if f.members[i].apiSrv != nil {
			f.members[i].Close()
		}
	}
	return nil
}

const organizationsTarget = "AWSOrganizationsV20161128"

// ServeHTTP routes a request to the account-region it is for.
func (f *Fleet) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/_sim/") || strings.HasPrefix(r.URL.Path, "//_sim/") {
		f.serveAdmin(w, r)
		return
	}
	body, err := readBody(r)
	if err != nil {
		return
	}
	auth, aerr := parseAuthorization(r.Header.Get("Authorization"))
	account := ""
	if aerr == nil {
		account = f.accountOf(auth.Credential.AccessKeyID)
	}
	if account == "" {
		// Not signed, or by a key no account has: the first member refuses it as AWS does.
		f.members[0].serveAPI(w, r, body, nil)
		return
	}
	if target := r.Header.Get("X-Amz-Target"); strings.HasPrefix(target, organizationsTarget+".") {
		f.serveOrganizations(w, r, body, account, strings.TrimPrefix(target, organizationsTarget+"."))
		return
	}
	global := auth.Credential.Service == "sts" || auth.Credential.Service == "iam"
	if global {
		if form, err := url.ParseQuery(string(body)); err == nil && form.Get("Action") == "AssumeRole" {
			f.assumeRole(w, r, body, form, account)
			return
		}
	}
	srv := f.at[account+"/"+auth.Credential.Region]
	if srv == nil && global {
		srv = f.firstOf(account)
	}
	if srv == nil && account != "" && !optInRegions[auth.Credential.Region] && regionRE.MatchString(auth.Credential.Region) {
		srv = f.emptyRegion(account, auth.Credential.Region)
	}
	if srv == nil {
		// AWS answers a call to an opt-in region the account has not enabled as if the
		// key did not exist there.
		f.refuseRegion(w, r)
		return
	}
	srv.serveAPI(w, r, body, auth)
}

// optInRegions are the regions an account must enable before it can use them: a
// scenario account that does not list one has not enabled it. Every other region is
// enabled in every account (AWS never answers "not enabled" there): one the scenario does
// not list is there, empty (emptyRegion).
var optInRegions = map[string]bool{
	"af-south-1": true, "ap-east-1": true, "ap-east-2": true, "ap-south-2": true,
	"ap-southeast-3": true, "ap-southeast-4": true, "ap-southeast-5": true, "ap-southeast-6": true, "ap-southeast-7": true,
	"ca-west-1": true, "eu-central-2": true, "eu-south-1": true, "eu-south-2": true,
	"il-central-1": true, "me-central-1": true, "me-south-1": true, "mx-central-1": true,
}

// emptyRegion is the account's Server in a region enabled by default that the scenario
// does not list: made, with the account's principals and nothing else, on its first call.
func (f *Fleet) emptyRegion(account, region string) *Server {
	f.emptyMu.Lock()
	defer f.emptyMu.Unlock()
	key := account + "/" + region
	if srv, ok := f.empty[key]; ok {
		return srv
	}
	var acct *FleetAccount
	for i := range f.accounts {
		if f.accounts[i].ID == account {
			acct = &f.accounts[i]
		}
	}
	if acct == nil || f.ln == nil {
		return nil
	}
	sc := &Scenario{Name: fmt.Sprintf("%s/%s/%s", f.scenario.Name, account, region), Account: Account{ID: account, Region: region},
		Principals: append([]Principal(nil), acct.Principals...)}
	sc.applyDefaults()
	srv, err := New(sc)
	if err == nil {
		hub := f.members[0]
		srv.clock, srv.sharedClock = f.clock, true
		srv.events.max = minMemberEvents
		srv.scenario.Upstreams, srv.upstreams, srv.stubs, srv.member = hub.scenario.Upstreams, hub.upstreams, hub.stubs, true
		if f.allowRemote {
			srv.AllowRemote()
		}
		// The account's roles' sessions, assumed before this region was first called.
		first := f.firstOf(account)
		f.mu.RLock()
		first.mu.Lock()
		for key, p := range first.st.byKey {
			if f.sessions[key] == account {
				srv.st.byKey[key] = p
			}
		}
		first.mu.Unlock()
		f.mu.RUnlock()
		host, _, _ := net.SplitHostPort(f.ln.Addr().String())
		err = srv.Start(net.JoinHostPort(host, "0"))
	}
	if err != nil {
		srv = nil // refused as a region not enabled: the stand-in could not make it
	}
	if f.empty == nil {
		f.empty = map[string]*Server{}
	}
	f.empty[key] = srv
	return srv
}

func (f *Fleet) accountOf(key string) string {
	if a := f.keys[key]; a != "" {
		return a
	}
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.sessions[key]
}

func (f *Fleet) firstOf(account string) *Server {
	for _, a := range f.accounts {
		if a.ID == account && len(a.Regions) > 0 {
			return f.at[a.ID+"/"+a.Regions[0].Region]
		}
	}
	return nil
}

func (f *Fleet) refuseRegion(w http.ResponseWriter, r *http.Request) {
	c := &call{srv: f.members[0], w: w, r: r, requestID: newRequestID(), protocol: "json", service: "ecr"}
	if r.Header.Get("X-Amz-Target") == "" {
		c.protocol = "query"
	}
	c.fail(clientError("UnrecognizedClientException", "The security token included in the request is invalid."))
}

// callFor authenticates a request made to the caller's own account, in its first region.
func (f *Fleet) callFor(w http.ResponseWriter, r *http.Request, body []byte, account, protocol, service, op string) (*call, bool) {
	srv := f.firstOf(account)
	c := &call{srv: srv, w: w, r: r, body: body, protocol: protocol, service: service, op: op, requestID: newRequestID()}
	p, aerr := srv.authenticate(c)
	if aerr != nil {
		c.fail(aerr)
		return nil, false
	}
	c.principal = p
	return c, true
}

var (
	roleARNRE     = regexp.MustCompile(`^arn:aws:iam::([0-9]{12}):role/(?:[\w+=,.@/-]*/)?([\w+=,.@-]{1,64})$`)
	sessionNameRE = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)
)

// assumeRole is STS AssumeRole: the caller's identity policy must allow sts:AssumeRole on
// the role, and the role's trust must name the caller's account or the caller. The
// temporary key then works in every region of the role's account, as the role.
func (f *Fleet) assumeRole(w http.ResponseWriter, r *http.Request, body []byte, form url.Values, account string) {
	c, ok := f.callFor(w, r, body, account, "query", "sts", "AssumeRole")
	if !ok {
		return
	}
	c.form = form
	roleARN, session := form.Get("RoleArn"), form.Get("RoleSessionName")
	var missing []string
	if roleARN == "" {
		missing = append(missing, "Value null at 'roleArn' failed to satisfy constraint: Member must not be null")
	}
	if session == "" {
		missing = append(missing, "Value null at 'roleSessionName' failed to satisfy constraint: Member must not be null")
	} else if !sessionNameRE.MatchString(session) {
		missing = append(missing, fmt.Sprintf("Value '%s' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*", sanitizeForMessage(session)))
	}
	if len(missing) > 0 {
		c.fail(iamError("ValidationError", "%s", validationMessage(missing)))
		return
	}
	duration := 3600
	if d := form.Get("DurationSeconds"); d != "" {
		n, err := strconv.Atoi(d)
		switch {
		case err != nil || n < 900:
			c.fail(iamError("ValidationError", "1 validation error detected: Value '%s' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900", sanitizeForMessage(d)))
			return
		case n > 3600:
			c.fail(iamError("ValidationError", "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."))
			return
		}
		duration = n
	}
	denied := &apiError{Code: "AccessDenied", Status: http.StatusForbidden, Sender: true,
		Message: fmt.Sprintf("User: %s is not authorized to perform: sts:AssumeRole on resource: %s", c.principal.CallerARN, sanitizeForMessage(roleARN))}
	m := roleARNRE.FindStringSubmatch(roleARN)
	if m == nil {
		c.fail(iamError("ValidationError", "%s is invalid", sanitizeForMessage(roleARN)))
		return
	}
	target := f.firstOf(m[1])
	if target == nil || c.principal.decide("sts:AssumeRole", roleARN) != decisionAllowed {
		c.fail(denied)
		return
	}
	target.mu.Lock()
	role := target.st.principalByARN(roleARN)
	target.mu.Unlock()
	if role == nil || role.Kind != "role" || !trusts(role, account, c.principal) {
		c.fail(denied) // AWS says the same whether the role is missing or does not trust the caller
		return
	}
	key, secret, token := "ASIA"+randomUpper(16), randomUpper(40), randomUpper(64)
	callerARN := fmt.Sprintf("arn:aws:sts::%s:assumed-role/%s/%s", m[1], role.Name, session)
	userID := strings.Split(role.UserID, ":")[0] + ":" + session
	var assumedFirst *principal // the session as the account's first region knows it
	for _, a := range f.accounts {
		if a.ID != m[1] {
			continue
		}
		for _, reg := range a.Regions {
			srv := f.at[a.ID+"/"+reg.Region]
			srv.mu.Lock()
			p := srv.st.principalByARN(roleARN)
			assumed := &principal{Principal: p.Principal, ARN: p.ARN, CallerARN: callerARN, UserID: userID}
			assumed.AccessKeyID, assumed.SecretAccessKey = key, secret
			srv.st.byKey[key] = assumed
			srv.mu.Unlock()
			if assumedFirst == nil {
				assumedFirst = assumed
			}
		}
	}
	f.mu.Lock()
	f.sessions[key] = m[1]
	f.mu.Unlock()
	// Then the regions made empty so far (emptyRegion copies those made before it).
	f.emptyMu.Lock()
	for k, srv := range f.empty {
		if srv != nil && strings.HasPrefix(k, m[1]+"/") {
			srv.mu.Lock()
			srv.st.byKey[key] = assumedFirst
			srv.mu.Unlock()
		}
	}
	f.emptyMu.Unlock()
	expires := f.clock.Now().Add(time.Duration(duration) * time.Second).UTC().Format("2006-01-02T15:04:05Z")
	c.succeed(fmt.Sprintf(`<AssumeRoleResponse xmlns="%s"><AssumeRoleResult><Credentials><AccessKeyId>%s</AccessKeyId><SecretAccessKey>%s</SecretAccessKey><SessionToken>%s</SessionToken><Expiration>%s</Expiration></Credentials><AssumedRoleUser><Arn>%s</Arn><AssumedRoleId>%s</AssumedRoleId></AssumedRoleUser></AssumeRoleResult><ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata></AssumeRoleResponse>`,
		queryNamespace("sts"), key, secret, token, expires, xmlEscape(callerARN), xmlEscape(userID), c.requestID))
}

// trusts reads a role's trust as the scenario gives it: an account ID (any principal of
// that account whose own policy allows it), a principal's ARN, or the account's root ARN.
func trusts(role *principal, account string, caller *principal) bool {
	for _, who := range role.Trust {
		switch who {
		case account, "arn:aws:iam::" + account + ":root", caller.ARN:
			return true
		}
	}
	return false
}

func randomUpper(n int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	b := make([]byte, n)
	randRead(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// serveOrganizations answers Organizations' ListAccounts (JSON 1.1) for the management
// account: every account of the scenario, twenty a page unless MaxResults says fewer.
func (f *Fleet) serveOrganizations(w http.ResponseWriter, r *http.Request, body []byte, account, op string) {
	c, ok := f.callFor(w, r, body, account, "json", "organizations", op)
	if !ok {
		return
	}
	if op != "ListAccounts" {
		c.fail(clientError("UnknownOperationException", "Operation organizations.%s is not supported by this stand-in", sanitizeForMessage(op)))
		return
	}
	mgmt := f.scenario.managementAccount()
	if mgmt == "" {
		c.fail(clientError("AWSOrganizationsNotInUseException", "Your account is not a member of an organization."))
		return
	}
	if account != mgmt || c.principal.decide("organizations:ListAccounts", "*") != decisionAllowed {
		c.fail(clientError("AccessDeniedException", "You don't have permissions to access this resource."))
		return
	}
	var in struct {
		MaxResults *int
		NextToken  *string
	}
	if aerr := c.decode(&in); aerr != nil {
		c.fail(aerr)
		return
	}
	size := 20
	if in.MaxResults != nil {
		if *in.MaxResults < 1 || *in.MaxResults > 20 {
			c.fail(clientError("InvalidInputException", "You provided a value that does not match the required pattern."))
			return
		}
		size = *in.MaxResults
	}
	start := 0
	if in.NextToken != nil {
		n, err := strconv.Atoi(strings.TrimPrefix(*in.NextToken, "page-"))
		if err != nil || n < 0 || n > len(f.accounts) {
			c.fail(clientError("InvalidInputException", "You specified an invalid value for nextToken. You must get the value from the response to a previous call to the API."))
			return
		}
		start = n
	}
	org := f.scenario.organizationID()
	var list []map[string]any
	end := min(start+size, len(f.accounts))
	for _, a := range f.accounts[start:end] {
		name, email := a.Name, a.Email
		if name == "" {
			name = "account-" + a.ID
		}
		if email == "" {
			email = a.ID + "@example.com"
		}
		list = append(list, map[string]any{"Id": a.ID, "Arn": fmt.Sprintf("arn:aws:organizations::%s:account/%s/%s", mgmt, org, a.ID),
			"Name": name, "Email": email, "Status": "ACTIVE", "State": "ACTIVE", "JoinedMethod": "CREATED",
			"JoinedTimestamp": float64(f.clock.Now().Add(-365 * 24 * time.Hour).Unix())})
	}
	out := map[string]any{"Accounts": list}
	if end < len(f.accounts) {
		out["NextToken"] = fmt.Sprintf("page-%d", end)
	}
	if list == nil {
		out["Accounts"] = []any{}
	}
	c.succeed(out)
}

// serveAdmin: /_sim/accounts lists the account-regions; /_sim/at/ACCOUNT/REGION/... is
// that account-region's own admin API; anything else goes to the management account's
// first region (its clock is the fleet's).
func (f *Fleet) serveAdmin(w http.ResponseWriter, r *http.Request) {
	p := "/" + strings.TrimLeft(path.Clean(r.URL.Path), "/")
	if p == "/_sim/accounts" {
		if status, why := f.members[0].refuseAdmin(r); status != 0 {
			adminError(w, status, why)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"accounts": f.info.Accounts})
		return
	}
	if rest, ok := strings.CutPrefix(p, "/_sim/at/"); ok {
		parts := strings.SplitN(rest, "/", 3)
		if len(parts) < 3 || f.at[parts[0]+"/"+parts[1]] == nil {
			adminError(w, http.StatusNotFound, "no such account-region; see /_sim/accounts")
			return
		}
		r2 := r.Clone(r.Context())
		r2.URL.Path = "/_sim/" + parts[2]
		f.at[parts[0]+"/"+parts[1]].serveAdmin(w, r2)
		return
	}
	if srv := f.firstOf(f.info.AccountID); srv != nil {
		srv.serveAdmin(w, r)
		return
	}
	f.members[0].serveAdmin(w, r)
}
