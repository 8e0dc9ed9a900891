package sim

import (
	"container/heap"
	"encoding/base64"
	"sort"
	"strconv"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// DescribeImages pages through a repository of any size at the cost of one pass over its
// images per page: no sort of the whole repository, no scan of every tag for every image.
// (Both were done per page before, which took a repository of 100,000 images minutes a
// page.) The token names the last image served, by its place in the order (newest first,
// then by digest), rather than an offset: images pushed or deleted between pages move no
// other image to another page.

// imageBefore is the order of DescribeImages and ListImages: newest first, then by digest.
func imageBefore(a, b *imageState) bool {
	if !a.PushedAt.Equal(b.PushedAt) {
		return a.PushedAt.After(b.PushedAt)
	}
	if a.Digest.Algorithm != b.Digest.Algorithm {
		return a.Digest.Algorithm < b.Digest.Algorithm
	}
	return a.Digest.Hex < b.Digest.Hex
}

// imageCursor is the place of the last image a page served.
type imageCursor struct {
	pushed time.Time
	digest v1.Hash
}

func (c imageCursor) token(op string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(op + ":" + strconv.FormatInt(c.pushed.UnixNano(), 10) + ":" + c.digest.String()))
}

func parseImageCursor(op, token string) (imageCursor, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return imageCursor{}, false
	}
	parts := strings.SplitN(string(raw), ":", 3)
	if len(parts) != 3 || parts[0] != op {
		return imageCursor{}, false
	}
	nanos, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil {
		return imageCursor{}, false
	}
	d, err := v1.NewHash(parts[2])
	if err != nil {
		return imageCursor{}, false
	}
	return imageCursor{pushed: time.Unix(0, nanos), digest: d}, true
}

// worstFirst is a heap whose top is the image that comes last in the order, so that the
// heap keeps the first n images seen.
type worstFirst []*imageState

func (h worstFirst) Len() int           { return len(h) }
func (h worstFirst) Less(i, j int) bool { return imageBefore(h[j], h[i]) }
func (h worstFirst) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *worstFirst) Push(x any)        { *h = append(*h, x.(*imageState)) }
func (h *worstFirst) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// imagePage returns the images after the cursor (all when after is nil) that keep, in
// order, at most size of them, and whether more follow.
func (r *repoState) imagePage(after *imageCursor, keep func(*imageState) bool, size int) ([]*imageState, bool) {
	var mark *imageState
	if after != nil {
		mark = &imageState{manifestBlob: manifestBlob{Digest: after.digest}, PushedAt: after.pushed}
	}
	h := make(worstFirst, 0, min(size, len(r.images))+1) // a page of 1,000 of a repository of 10 holds 10
	for _, img := range r.images {
		if mark != nil && !imageBefore(mark, img) {
			continue
		}
		if len(h) == size+1 && !imageBefore(img, h[0]) {
			continue
		}
		if !keep(img) {
			continue
		}
		if len(h) < size+1 {
			heap.Push(&h, img)
			continue
		}
		h[0] = img
		heap.Fix(&h, 0)
	}
	out := []*imageState(h)
	sort.Slice(out, func(i, j int) bool { return imageBefore(out[i], out[j]) })
	if len(out) > size {
		return out[:size], true
	}
	return out, false
}

// tagsFor lists the tags of the given images, sorted, in one pass over the repository's tags.
func (r *repoState) tagsFor(images []*imageState) map[v1.Hash][]string {
	out := make(map[v1.Hash][]string, len(images))
	for _, img := range images {
		out[img.Digest] = nil
	}
	for t, d := range r.tags {
		if tags, ok := out[d]; ok {
			out[d] = append(tags, t)
		}
	}
	for _, tags := range out {
		sort.Strings(tags)
	}
	return out
}

// taggedFilter keeps the images a tagStatus filter asks for. ANY needs no look at the tags.
func (r *repoState) taggedFilter(status string) func(*imageState) bool {
	if status == "ANY" {
		return func(*imageState) bool { return true }
	}
	tagged := make(map[v1.Hash]bool, len(r.tags))
	for _, d := range r.tags {
		tagged[d] = true
	}
	return func(img *imageState) bool { return tagged[img.Digest] == (status == "TAGGED") }
}
