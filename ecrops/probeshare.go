package ecrops

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"slices"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/ptcdoctor/ptcdoctor/model"
)

// The targets of a fleet mirror the same upstreams: 150 generated targets probed the same
// 200 references, each its own ping and HEADs, 30,150 registry calls where 201 say all
// there is to know. While a fleet run is under way (EachTarget), its targets share what
// the probes learn: each registry's answer to the anonymous ping, by host, and each
// upstream probe's answer, by reference and the identity of the credentials it was asked
// with. A target's scan start forgets its own secrets, not the run's answers, which the
// other targets are using: the run is the freshness of a fleet scan, as a scan is one
// account's. The next run starts from nothing, and so does any write (see renew).
//
// The credentials' identity is "anonymous" or a keyed hash (HMAC-SHA256, with a key made
// at random for the run and kept in memory only) of the user name and token: two accounts
// whose secrets hold the same credentials share an answer, different ones never do, and
// neither the token nor a hash anyone could test a guess against is kept. An answer's
// text was masked with the credentials it was asked with, which are the same for every
// target that gets it.
//
// Docker Hub's rate-limit headers travel with a shared answer: anonymous pulls are
// counted per caller IP address and authenticated ones per Docker account, and every
// target of the run calls from this machine's address with the credentials its key
// names, so the budget one target was told is the budget every sharer has.

// probeShare is a fleet's shared probes (one per sdkShare): the run under way, if any.
type probeShare struct {
	mu   sync.Mutex
	runs int           // EachTarget calls under way
	run  *sharedProbes // nil when none is
}

// begin opens a run, or joins the one under way; end closes it.
func (s *probeShare) begin() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.runs == 0 {
		s.run = newSharedProbes()
	}
	s.runs++
}

func (s *probeShare) end() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.runs--; s.runs == 0 {
		s.run = nil
	}
}

// current is the run under way, or nil.
func (s *probeShare) current() *sharedProbes {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.run
}

// renew starts the run under way afresh after a write: the probes that follow ask again.
// Probes in flight finish into the run they started in, which no one asks any more.
func (s *probeShare) renew() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.run != nil {
		s.run = newSharedProbes()
	}
}

// sharedProbes is what one run's targets learned.
type sharedProbes struct {
	pings pingCache
	key   []byte // the credentials' fingerprints' key: random, in memory, this run only

	mu      sync.Mutex
	answers map[string]*sharedAnswer // by reference and credentials' identity
}

type sharedAnswer struct {
	asking chan struct{} // open while the probe is asked, closed when it is done
	kept   bool          // p is the answer every asker gets now
	failed int           // failed probes in a row (see settled)
	p      model.UpstreamProbe
}

// settled: the upstream answered the question (it has the manifest, or refused it for
// good: 401, 403, 404). A failure (no answer, a 5xx, a 429) may be a blip and is asked
// once more, by the next target that wants it, before it stands for the run (as a
// registry's failed ping does: pingTries); a target whose probe failed once said so itself.
func settled(p model.UpstreamProbe) bool {
	if p.Exists {
		return p.Class == "" // not an index whose GET failed
	}
	return p.Status >= 400 && p.Status < 500 && p.Status != http.StatusRequestTimeout && p.Status != http.StatusTooManyRequests
}

func newSharedProbes() *sharedProbes {
	key := make([]byte, 32)
	rand.Read(key) // never fails (crypto/rand panics rather than return short)
	return &sharedProbes{key: key, answers: map[string]*sharedAnswer{}}
}

// identity names the credentials a probe sends, without them.
func (s *sharedProbes) identity(known secrets) string {
	if known.token == "" {
		return "anonymous"
	}
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(known.user))
	m.Write([]byte{0})
	m.Write([]byte(known.token))
	return hex.EncodeToString(m.Sum(nil))
}

// answer is the probe of ref with the credentials known names: asked by ask, once in the
// run (a failure twice), while the other targets that want it wait. What belongs to the
// asking target (the reference as it wrote it, why it probed anonymously, its secret's
// read error) is its own in the answer it gets. An answer cut short by its asker's
// context says nothing of the upstream and is not kept: the next asker asks again.
func (s *sharedProbes) answer(ctx context.Context, ref name.Reference, known secrets, mine model.UpstreamProbe, ask func() model.UpstreamProbe) model.UpstreamProbe {
	key := ref.Name() + " " + s.identity(known)
	for {
		s.mu.Lock()
		e := s.answers[key]
		if e == nil {
			e = &sharedAnswer{}
			s.answers[key] = e
		}
		switch {
		case e.kept:
			p := e.p
			s.mu.Unlock()
			p.Reference, p.Anonymous, p.Why, p.SecretError = mine.Reference, mine.Anonymous, mine.Why, mine.SecretError
			p.Platforms = slices.Clone(p.Platforms)
			if p.RateLimit != nil {
				rl := *p.RateLimit
				p.RateLimit = &rl
			}
			return p
		case e.asking == nil:
			e.asking = make(chan struct{})
			s.mu.Unlock()
			p := ask()
			s.mu.Lock()
			switch {
			case ctx.Err() != nil:
			case settled(p) || e.failed+1 >= pingTries:
				e.kept, e.p = true, p
			default:
				e.failed++
			}
			close(e.asking)
			e.asking = nil
			s.mu.Unlock()
			return p
		}
		wait := e.asking
		s.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			mine.Class, mine.Message = "network", model.Printable(ctx.Err().Error())
			return mine
		}
	}
}

// sharedRun is the fleet run whose answers the account's probes share: one under way, for
// an account EachTarget opened in it. An account opened on its own (a target opened from
// the fleet screen) keeps to its own, as one account does.
func (a *Account) sharedRun() *sharedProbes {
	if a.sdk == nil || !a.inRun {
		return nil
	}
	return a.sdk.probes.current()
}

// pingsNow is the ping cache the account's registry calls use now: the run's, or its own.
func (a *Account) pingsNow() *pingCache {
	if r := a.sharedRun(); r != nil {
		return &r.pings
	}
	return &a.pings
}

// FleetRun opens a fleet run on the targets' shares (EachTarget holds one while it runs),
// or joins the one under way; the function returned closes it. A caller whose one scan of
// the fleet is several EachTarget calls (the fleet screen scans each account's regions as
// they are found) holds a run over all of them, so that they share as one call's do.
func FleetRun(targets []Target) func() {
	var shares []*sdkShare
	for _, t := range targets {
		if t.sdk != nil && !slices.Contains(shares, t.sdk) {
			shares = append(shares, t.sdk)
		}
	}
	for _, s := range shares {
		s.probes.begin()
	}
	return func() {
		for _, s := range shares {
			s.probes.end()
		}
	}
}
