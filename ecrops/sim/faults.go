package sim

import (
	"context"
	"crypto/rand"
	"fmt"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// faultSet holds the faults injected per operation: a token bucket for throttling, a
// rate of 5xx answers, added latency, and connection resets. Throttling follows real time,
// not the stand-in's clock: it is about how fast a client calls.
type faultSet struct {
	mu       sync.Mutex
	faults   map[string]Fault
	limiters map[string]*rate.Limiter
	rng      *mrand.Rand
}

var errConnectionReset = &apiError{Code: "ConnectionReset"}

func newFaultSet(faults []Fault) *faultSet {
	f := &faultSet{rng: mrand.New(mrand.NewPCG(1, 2))}
	f.set(faults)
	return f
}

func (f *faultSet) set(faults []Fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults = map[string]Fault{}
	f.limiters = map[string]*rate.Limiter{}
	for _, x := range faults {
		f.faults[x.Operation] = x
		if x.ThrottlePerSecond > 0 && x.Operation != "*" {
			burst := max(1, int(x.ThrottlePerSecond))
			f.limiters[x.Operation] = rate.NewLimiter(rate.Limit(x.ThrottlePerSecond), burst)
		}
	}
}

func (f *faultSet) list() []Fault {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]Fault, 0, len(f.faults))
	for _, x := range f.faults {
		out = append(out, x)
	}
	return out
}

// apply runs the faults for op. It returns errConnectionReset when the connection is to be
// dropped (by resetConnection, once the caller has logged it), an error to answer with,
// or nil to go on.
func (f *faultSet) apply(ctx context.Context, op string, w http.ResponseWriter) *apiError {
	f.mu.Lock()
	x, ok := f.faults[op]
	lim := f.limiters[op]
	if !ok && !strings.HasPrefix(op, "upstream:") {
		// "*" gives every operation a bucket of its own, as AWS limits each API apart.
		x, ok = f.faults["*"]
		if ok && x.ThrottlePerSecond > 0 {
			if lim = f.limiters["*/"+op]; lim == nil {
				lim = rate.NewLimiter(rate.Limit(x.ThrottlePerSecond), max(1, int(x.ThrottlePerSecond)))
				f.limiters["*/"+op] = lim
			}
		}
	}
	var roll [4]float64
	for i := range roll {
		roll[i] = f.rng.Float64()
	}
	f.mu.Unlock()
	if !ok {
		return nil
	}
	if x.Latency > 0 && roll[0] < x.LatencyRate {
		select {
		case <-time.After(time.Duration(x.Latency)):
		case <-ctx.Done():
		}
	}
	if roll[1] < x.ResetRate {
		return errConnectionReset // the caller logs it, then resets the connection
	}
	if (lim != nil && !lim.Allow()) || roll[3] < x.ThrottleRate {
		return &apiError{Code: "ThrottlingException", Message: "Rate exceeded", Status: http.StatusBadRequest, Sender: true}
	}
	if roll[2] < x.ErrorRate {
		return &apiError{Code: "ServerException", Message: "An internal error occurred (injected by the stand-in)", Status: http.StatusInternalServerError}
	}
	return nil
}

// resetConnection closes the client's connection with an RST, as a dropped connection does.
func resetConnection(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		return
	}
	if tcp, ok := conn.(*net.TCPConn); ok {
		tcp.SetLinger(0)
	}
	conn.Close()
}

func randRead(b []byte) { rand.Read(b) }

// queryOperations are the operations the stand-in answers on the query protocol, and the
// fleet's cross-account ones (STS, IAM, Organizations), which have no model here.
var queryOperations = map[string]bool{"GetCallerIdentity": true, "SimulatePrincipalPolicy": true, "AssumeRole": true, "ListAccounts": true}

// faultOperationProblem says what is wrong with a fault's operation, if anything: it is
// "*", "upstream:<host>", or an operation of the API models (ECR, Secrets Manager) or of
// the query APIs; a typo (DescribeImagez) would otherwise be stored and never fire.
func faultOperationProblem(op string) string {
	switch {
	case op == "":
		return "name an operation, or * for all"
	case op == "*":
		return ""
	case strings.HasPrefix(op, "upstream:"):
		if strings.TrimPrefix(op, "upstream:") == "" {
			return "upstream: needs a host, as upstream:registry-1.docker.io"
		}
		return ""
	case queryOperations[op]:
		return ""
	}
	if m, err := models(); err == nil {
		if _, ok := m.ecr.Operations[op]; ok {
			return ""
		}
		if _, ok := m.secretsManager.Operations[op]; ok {
			return ""
		}
	}
	return fmt.Sprintf("%q is no operation of ECR, Secrets Manager, STS or IAM (as their API models spell them); name one, * for all, or upstream:<host>", sanitizeForMessage(op))
}
