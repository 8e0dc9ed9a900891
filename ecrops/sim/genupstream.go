package sim

import (
	"bytes"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// A generated account's rules cache images of their upstream, and that upstream serves
// them: the repositories team/app-0001... with the tags v1..., the same manifests and
// digests the cache holds (except where a generated failure says otherwise), so that a
// generated account with no failures asked for is healthy. Like the cached copies, the
// upstream's images are made on demand from their names, never stored: a seed names the
// upstream path and tag, not the cache repository, so every rule, account and region that
// mirrors a path caches the same image, and a fleet's upstream holds one set of them
// however many account-regions mirror it (the largest repositoriesPerRule ×
// imagesPerRepository any of them asks for), not a copy per account-region.

// generatedContent is what generate adds to an upstream: the repositories team/app-0001
// up to repositories, each with the tags v1 up to images.
type generatedContent struct{ repositories, images int }

func generatedPath(n int) string { return fmt.Sprintf("team/app-%04d", n) }

func generatedTag(i int) string { return fmt.Sprintf("v%d", i) }

// generatedSeed names generated image i of repository n, by its upstream path and tag
// (whichever upstream serves it: they hold the same images). Every cached copy keeps its
// seed, so one string serves them all: a fleet of 300,000 cached images of 2,000 upstream
// ones holds 2,000 seeds, not 300,000.
func generatedSeed(n, i int) string {
	generatedSeeds.Lock()
	defer generatedSeeds.Unlock()
	t := &generatedSeeds.table
	for len(*t) < n {
		*t = append(*t, nil)
	}
	row := &(*t)[n-1]
	for len(*row) < i {
		*row = append(*row, "")
	}
	if (*row)[i-1] == "" {
		(*row)[i-1] = generatedPath(n) + ":" + generatedTag(i)
	}
	return (*row)[i-1]
}

// generatedSeeds are the seeds made so far, by repository and tag number (from 1).
var generatedSeeds struct {
	sync.Mutex
	table [][]string
}

// union is the content two accounts' generate blocks add to one upstream.
func (g generatedContent) union(o generatedContent) generatedContent {
	return generatedContent{max(g.repositories, o.repositories), max(g.images, o.images)}
}

func (g generatedContent) empty() bool { return g.repositories == 0 || g.images == 0 }

// repository returns n for team/app-NNNN when it is generated content.
func (g generatedContent) repository(name string) (int, bool) {
	return generatedNumber(name, "team/app-", g.repositories, generatedPath)
}

// tag returns i for vI when it is a generated tag.
func (g generatedContent) tag(t string) (int, bool) {
	return generatedNumber(t, "v", g.images, generatedTag)
}

func generatedNumber(s, prefix string, most int, format func(int) string) (int, bool) {
	rest, ok := strings.CutPrefix(s, prefix)
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(rest)
	if err != nil || n < 1 || n > most || format(n) != s {
		return 0, false
	}
	return n, true
}

// generatedUpstream serves an upstream's generated content in front of its registry,
// which serves everything else (what the scenario lists, the failure shapes' content).
type generatedUpstream struct {
	host    string
	content generatedContent
	next    http.Handler
	// configs are the configs of the manifests served by GET, by digest: the blobs a
	// client fetches next. Only what was pulled is remembered.
	configs sync.Map // v1.Hash -> seed
}

func (g *generatedUpstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m := upstreamPathRE.FindStringSubmatch(r.URL.Path)
	if m == nil || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
		g.next.ServeHTTP(w, r)
		return
	}
	n, ok := g.content.repository(m[1])
	if !ok {
		g.next.ServeHTTP(w, r)
		return
	}
	switch m[2] {
	case "manifests":
		if g.serveManifest(w, r, n, m[3]) {
			return
		}
	case "blobs":
		if g.serveBlob(w, r, m[3]) {
			return
		}
	case "tags":
		if m[3] == "list" {
			tags := make([]string, 0, g.content.images)
			for i := 1; i <= g.content.images; i++ {
				tags = append(tags, generatedTag(i))
			}
			sort.Strings(tags)
			writeJSON(w, http.StatusOK, map[string]any{"name": m[1], "tags": tags})
			return
		}
	}
	g.next.ServeHTTP(w, r)
}

// serveManifest serves image i of repository n by tag or digest; false when ref names none.
func (g *generatedUpstream) serveManifest(w http.ResponseWriter, r *http.Request, n int, ref string) bool {
	seed := ""
	if i, ok := g.content.tag(ref); ok {
		seed = generatedSeed(n, i)
	} else if d, err := v1.NewHash(ref); err == nil {
		// By digest: which tag it is, made again tag by tag (at most imagesPerRepository).
		for i := 1; i <= g.content.images && seed == ""; i++ {
			if mb, err := generatedManifest(generatedSeed(n, i)); err == nil && mb.Digest == d {
				seed = mb.Seed
			}
		}
	}
	if seed == "" {
		return false
	}
	mb, cfg, err := generatedImage(seed)
	if err != nil {
		return false
	}
	if r.Method == http.MethodGet {
		d, _, _ := v1.SHA256(bytes.NewReader(cfg))
		g.configs.Store(d, seed)
	}
	writeContent(w, r, string(mb.MediaType), mb.Digest, mb.Raw)
	return true
}

// serveBlob serves a pooled layer, or the config of a manifest served; false otherwise.
func (g *generatedUpstream) serveBlob(w http.ResponseWriter, r *http.Request, ref string) bool {
	d, err := v1.NewHash(ref)
	if err != nil {
		return false
	}
	pool, err := layerPool()
	if err != nil {
		return false
	}
	for _, l := range pool {
		if l.digest == d {
			writeContent(w, r, "application/octet-stream", d, l.data)
			return true
		}
	}
	seed, ok := g.configs.Load(d)
	if !ok {
		return false
	}
	_, cfg, err := generatedImage(seed.(string))
	if err != nil {
		return false
	}
	writeContent(w, r, "application/octet-stream", d, cfg)
	return true
}

// writeContent answers as a registry does: the digest and length, the body unless HEAD.
func writeContent(w http.ResponseWriter, r *http.Request, mediaType string, d v1.Hash, body []byte) {
	h := w.Header()
	h.Set("Content-Type", mediaType)
	h.Set("Docker-Content-Digest", d.String())
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}
