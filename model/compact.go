package model

import (
	"encoding/hex"
	"encoding/json"
	"strings"
	"time"
	"unique"
)

// An account holds a hundred thousand images (issue 15), so what an Image keeps is stored
// compactly: a sha256 digest in its 32 bytes rather than a 71-byte string, a media type
// as a handle on one shared copy, and times as unix seconds, the precision of ECR's wire.
// Each type reads back as the string or time.Time it was made from.

// Digest is a manifest's digest. A "sha256:" followed by 64 lowercase hex digits, the
// form ECR gives, is held as its 32 bytes; any other string (another algorithm, another
// case, a malformed answer) is kept whole, so that String always gives back what was
// read. The zero Digest is the empty string. Digests compare with ==.
type Digest struct {
	sum   [32]byte
	other unique.Handle[string] // the whole digest when it is not held in sum; zero otherwise
}

const sha256Prefix = "sha256:"

// ParseDigest holds s; it never fails, since a digest is whatever the registry answered.
func ParseDigest(s string) Digest {
	if s == "" {
		return Digest{}
	}
	if sum, ok := sha256Sum(s); ok {
		return Digest{sum: sum}
	}
	return Digest{other: unique.Make(s)}
}

// sha256Sum decodes a digest in ECR's form, "sha256:" and 64 lowercase hex digits. All
// zeros is refused: it would read back as the empty digest.
func sha256Sum(s string) (sum [32]byte, ok bool) {
	hexPart, ok := strings.CutPrefix(s, sha256Prefix)
	if !ok || len(hexPart) != 64 || !isLowerHex(hexPart) {
		return sum, false
	}
	for i := range sum {
		sum[i] = unhex(hexPart[2*i])<<4 | unhex(hexPart[2*i+1])
	}
	return sum, sum != [32]byte{}
}

func unhex(c byte) byte {
	if c <= '9' {
		return c - '0'
	}
	return c - 'a' + 10
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// String is the digest as the registry wrote it.
func (d Digest) String() string {
	if d.other != (unique.Handle[string]{}) {
		return d.other.Value()
	}
	if d.sum == ([32]byte{}) {
		return ""
	}
	var b [len(sha256Prefix) + 64]byte
	copy(b[:], sha256Prefix)
	hex.Encode(b[len(sha256Prefix):], d.sum[:])
	return string(b[:])
}

// MarshalText writes the digest as the registry wrote it (the describe screen shows an
// image as JSON).
func (d Digest) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// IsZero reports whether the digest is empty.
func (d Digest) IsZero() bool { return d == Digest{} }

// Is reports whether the digest is s, without building its string or interning s.
func (d Digest) Is(s string) bool {
	if d.other != (unique.Handle[string]{}) {
		return d.other.Value() == s
	}
	if d.sum == ([32]byte{}) {
		return s == ""
	}
	sum, ok := sha256Sum(s)
	return ok && sum == d.sum
}

// MediaType is a manifest's media type, one shared copy for all the images that have it.
// The zero MediaType is the empty string.
type MediaType struct{ h unique.Handle[string] }

// MediaTypeOf returns the media type s.
func MediaTypeOf(s string) MediaType {
	if s == "" {
		return MediaType{}
	}
	return MediaType{unique.Make(s)}
}

// String is the media type as the registry wrote it.
func (m MediaType) String() string {
	if m == (MediaType{}) {
		return ""
	}
	return m.h.Value()
}

// MarshalText writes the media type as the registry wrote it.
func (m MediaType) MarshalText() ([]byte, error) { return []byte(m.String()), nil }

// IsIndex reports whether the media type is a multi-platform index (OCI or Docker).
func (m MediaType) IsIndex() bool {
	s := m.String()
	return strings.Contains(s, "image.index") || strings.Contains(s, "manifest.list")
}

// UnixTime is an instant to the second, as ECR's wire gives an image's times (epoch
// seconds), in 8 bytes where a time.Time takes 24. Zero is no time (ECR recorded none).
type UnixTime int64

// UnixTimeOf returns t to the second; the zero time gives zero.
func UnixTimeOf(t time.Time) UnixTime {
	if t.IsZero() {
		return 0
	}
	return UnixTime(t.Unix())
}

// Time returns the instant in UTC, or the zero time.
func (t UnixTime) Time() time.Time {
	if t == 0 {
		return time.Time{}
	}
	return time.Unix(int64(t), 0).UTC()
}

// IsZero reports whether there is no time.
func (t UnixTime) IsZero() bool { return t == 0 }

// MarshalJSON writes the time as a time.Time does.
func (t UnixTime) MarshalJSON() ([]byte, error) { return t.Time().MarshalJSON() }

// MarshalJSON writes an image as it reads: its digest, media type and times as text, and
// its children, which it keeps behind a pointer.
func (i Image) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Digest    Digest
		Tags      []string
		MediaType MediaType
		SizeBytes int64
		PushedAt  UnixTime
		LastPull  UnixTime
		Children  []ChildManifest
	}{i.Digest, i.Tags, i.MediaType, i.SizeBytes, i.PushedAt, i.LastPull, i.Children()})
}
