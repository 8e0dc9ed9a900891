package model

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/google/go-containerregistry/pkg/name"
)

// Ref is one image reference as ptcdoctor reasons about it: the cache repository it
// names in this registry, and the upstream reference the rule maps it to.
type Ref struct {
	Input      string // as given
	Registry   string // <account>.dkr.ecr.<region>.amazonaws.com
	Repository string // the cache repository, e.g. docker-hub/library/nginx
	Tag        string // "" when pinned by digest only
	Digest     string // "" when not pinned

	RulePrefix string // the covering rule's prefix; "" when none covers it
	Upstream   string // the upstream reference, e.g. registry-1.docker.io/library/nginx:1.27
	// FromUpstream is true when the input was an upstream reference (nginx:1.27) that
	// ptcdoctor mapped to the cache.
	FromUpstream bool
}

// CacheURI is the reference to pull through the cache.
func (r Ref) CacheURI() string {
	s := r.Registry + "/" + r.Repository
	if r.Tag != "" {
		s += ":" + r.Tag
	}
	if r.Digest != "" {
		s += "@" + r.Digest
	}
	return s
}

// Identifier is the tag, or the digest when there is no tag.
func (r Ref) Identifier() string {
	if r.Tag != "" {
		return r.Tag
	}
	return r.Digest
}

// Docker Hub's names: the one clients write, the one ggcr normalises to, the one ECR rules use.
const (
	DockerHubRegistry = "registry-1.docker.io"
	dockerHubIndex    = "index.docker.io"
	// noRegistry stands for "no registry written" when a reference is read.
	noRegistry = "no-registry.invalid"
)

// ParseRef reads a reference written either as a cache URI of this registry
// (<account>.dkr.ecr.<region>.amazonaws.com/docker-hub/library/nginx:1.27) or as an
// upstream reference (nginx:1.27, ghcr.io/org/app:v1), and maps it through the rules.
// A reference without tag or digest means :latest, as every client reads it.
func ParseRef(input, account, region string, rules []Rule) (Ref, error) {
	in := strings.TrimSpace(input)
	if in == "" {
		return Ref{}, fmt.Errorf("empty image reference")
	}
	if len(in) > 4096 {
		return Ref{}, fmt.Errorf("image reference is %d characters long; that is not a reference", len(in))
	}
	parsed, err := name.ParseReference(in, name.WeakValidation)
	if err != nil {
		return Ref{}, fmt.Errorf("'%s' is not an image reference: %s", Printable(in), Printable(err.Error()))
	}
	ref := Ref{Input: input, Registry: RegistryHost(account, region)}
	// A name written without a registry whose first segments are a rule's prefix
	// (docker-hub/nginx:latest) names the account's cache, not a Docker Hub user of that
	// name: people copy the cache path without the host. name reads it with a registry
	// that cannot occur, so a host written in the input is never mistaken for none.
	if bare, err := name.ParseReference(in, name.WeakValidation, name.WithDefaultRegistry(noRegistry)); err == nil && bare.Context().RegistryStr() == noRegistry {
		if r := RuleFor(rules, bare.Context().RepositoryStr()); r != nil && r.Prefix != "ROOT" {
			in = ref.Registry + "/" + in
			parsed, err = name.ParseReference(in, name.WeakValidation)
			if err != nil {
				return Ref{}, fmt.Errorf("'%s' is not an image reference: %s", Printable(in), Printable(err.Error()))
			}
		}
	}
	switch p := parsed.(type) {
	case name.Tag:
		ref.Tag = p.TagStr()
	case name.Digest:
		ref.Digest = p.DigestStr()
		// "repo:tag@sha256:..." keeps both.
		if at := strings.LastIndex(in, "@"); at > 0 {
			if t, err := name.NewTag(in[:at], name.WeakValidation); err == nil && strings.Contains(in[strings.LastIndex(in[:at], "/")+1:at], ":") {
				ref.Tag = t.TagStr()
			}
		}
	}
	host := parsed.Context().RegistryStr()
	path := parsed.Context().RepositoryStr()
	if host == ref.Registry {
		ref.Repository = path
		if r := RuleFor(rules, path); r != nil {
			ref.RulePrefix = r.Prefix
			ref.Upstream = r.UpstreamURL + "/" + upstreamPath(r, path) + ref.suffix()
		}
		return ref, nil
	}
	if host == dockerHubIndex {
		host = DockerHubRegistry
	}
	ref.FromUpstream = true
	ref.Upstream = host + "/" + path + ref.suffix()
	// An upstream reference maps through the rule that caches from its registry, another
	// account's or region's ECR registry among them (ECR to ECR).
	for i := range rules {
		r := &rules[i]
		if r.UpstreamURL != host {
			continue
		}
		cachePath, ok := cachePathFor(r, path)
		if !ok {
			continue
		}
		ref.RulePrefix, ref.Repository = r.Prefix, cachePath
		return ref, nil
	}
	if strings.HasSuffix(host, ".amazonaws.com") && strings.Contains(host, ".dkr.ecr.") && !strings.HasPrefix(host, account+".") {
		return Ref{}, fmt.Errorf("%s is in the registry %s, not in %s", Printable(in), host, ref.Registry)
	}
	if strings.HasSuffix(host, ".amazonaws.com") && strings.Contains(host, ".dkr.ecr.") {
		return Ref{}, fmt.Errorf("%s is in region %s; ptcdoctor is looking at %s (use --region)", Printable(in), strings.Split(host, ".")[3], region)
	}
	return ref, fmt.Errorf("no pull through cache rule has the upstream %s, so %s cannot be pulled through this registry", host, Printable(in))
}

func (r Ref) suffix() string {
	s := ""
	if r.Tag != "" {
		s += ":" + r.Tag
	}
	if r.Digest != "" {
		s += "@" + r.Digest
	}
	return s
}

// upstreamPath maps a cache repository under a rule to the upstream repository.
func upstreamPath(r *Rule, repo string) string {
	path := repo
	if r.Prefix != "ROOT" {
		path = strings.TrimPrefix(repo, r.Prefix+"/")
	}
	if r.UpstreamPrefix != "" && r.UpstreamPrefix != "ROOT" {
		path = r.UpstreamPrefix + "/" + path
	}
	return path
}

// UpstreamPath is the upstream repository a cache repository under rule r mirrors.
func UpstreamPath(r *Rule, repo string) string { return upstreamPath(r, repo) }

// cachePathFor maps an upstream repository to the cache repository under rule r.
func cachePathFor(r *Rule, path string) (string, bool) {
	if r.UpstreamPrefix != "" && r.UpstreamPrefix != "ROOT" {
		rest, ok := strings.CutPrefix(path, r.UpstreamPrefix+"/")
		if !ok {
			return "", false
		}
		path = rest
	}
	if r.Prefix == "ROOT" {
		return path, true
	}
	return r.Prefix + "/" + path, true
}

// Printable makes a string from outside safe to show in a terminal: control characters
// (escape sequences among them) become visible \x.. escapes, and it is cut at 4 KiB.
func Printable(s string) string {
	if len(s) <= 4096 && plain(s) {
		return s // most strings: no copy (a report of 100,000 images holds many)
	}
	if len(s) > 4096 {
		s = s[:4096] + "…"
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\n' || r == '\t':
			b.WriteRune(' ')
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			fmt.Fprintf(&b, `\x%02x`, r)
		case r == '\u2028' || r == '\u2029' || r == '\u202e' || r == '\u200f' || r == '\u200e':
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// plain reports whether Printable would give s back as it is: valid UTF-8 with nothing
// it escapes or replaces.
func plain(s string) bool {
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || r < 0xa0 || r == '\u2028' || r == '\u2029' || r == '\u202e' || r == '\u200f' || r == '\u200e' {
			return false
		}
		i += size
	}
	return true
}
