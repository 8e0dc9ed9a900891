package model

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unsafe"
)

func TestDigestReadsBackWhatWasRead(t *testing.T) {
	sha := "sha256:" + strings.Repeat("0123456789abcdef", 4)
	for _, s := range []string{
		"", sha,
		"sha256:" + strings.Repeat("0", 64),                     // all zeros: not taken for the empty digest
		"sha256:" + strings.Repeat("0123456789ABCDEF", 4),       // upper case: kept as written
		"sha512:" + strings.Repeat("ab", 64),                    // another algorithm
		"sha256:abc",                                            // too short
		"sha256:" + strings.Repeat("g", 64),                     // not hex
		"sha256:" + strings.Repeat("0123456789abcdef", 4) + "0", // too long
		"\x1b[31mred",
	} {
		d := ParseDigest(s)
		if got := d.String(); got != s {
			t.Errorf("ParseDigest(%q).String() = %q", s, got)
		}
		if d.IsZero() != (s == "") {
			t.Errorf("ParseDigest(%q).IsZero() = %v", s, d.IsZero())
		}
		if !d.Is(s) || d != ParseDigest(s) {
			t.Errorf("ParseDigest(%q) is not itself", s)
		}
		if s != sha && (d.Is(sha) || d == ParseDigest(sha)) {
			t.Errorf("ParseDigest(%q) equals %q", s, sha)
		}
	}
	other := "sha512:" + sha[7:]
	if n := testing.AllocsPerRun(10, func() { _ = ParseDigest(sha).Is(other) || ParseDigest(sha).Is(sha) }); n != 0 {
		t.Errorf("comparing a digest allocates %v times", n)
	}
	if d := ParseDigest(sha); d.other != (Digest{}.other) {
		t.Errorf("a sha256 digest in ECR's form is not held in its 32 bytes")
	}
}

func TestMediaTypeAndUnixTime(t *testing.T) {
	for s, index := range map[string]bool{"": false, "application/vnd.oci.image.index.v1+json": true,
		"application/vnd.docker.distribution.manifest.list.v2+json": true, "application/vnd.oci.image.manifest.v1+json": false} {
		m := MediaTypeOf(s)
		if m.String() != s || m.IsIndex() != index || (Image{MediaType: m}).IsIndex() != index {
			t.Errorf("MediaTypeOf(%q): %q, index %v", s, m.String(), m.IsIndex())
		}
	}
	if MediaTypeOf("a/b") != MediaTypeOf(strings.Clone("a/b")) {
		t.Error("two media types of the same text differ")
	}
	at := time.Date(2026, 11, 30, 9, 0, 1, 999_000_000, time.FixedZone("x", 3600))
	if got := UnixTimeOf(at).Time(); !got.Equal(at.Truncate(time.Second)) || got.Location() != time.UTC {
		t.Errorf("UnixTimeOf(%v).Time() = %v", at, got)
	}
	if u := UnixTimeOf(time.Time{}); !u.IsZero() || !u.Time().IsZero() {
		t.Errorf("the zero time gives %d, %v", u, u.Time())
	}
}

// An account holds 100,000 images (issue 15): what one costs, before its tags, is pinned
// here so that a field added without need shows. It was 136 bytes with strings and
// time.Times, plus a 71-byte digest string.
func TestImageIsCompact(t *testing.T) {
	if n := unsafe.Sizeof(Image{}); n > 104 {
		t.Errorf("an Image is %d bytes; it was brought to 104 (model/compact.go)", n)
	}
	var img Image
	if img.Children() != nil {
		t.Error("no children read: none")
	}
	img.SetChildren([]ChildManifest{{Platform: "linux/amd64", Present: true}, {Platform: "linux/arm64"}})
	if len(img.Children()) != 2 || strings.Join(img.MissingPlatforms(), ",") != "linux/arm64" {
		t.Errorf("children %v", img.Children())
	}
}

func FuzzParseDigest(f *testing.F) {
	sha := "sha256:" + strings.Repeat("0123456789abcdef", 4)
	f.Add(sha, sha)
	f.Add("sha256:"+strings.Repeat("0", 64), "")
	f.Add("", "sha512:zz")
	f.Add(sha, strings.ToUpper(sha))
	f.Fuzz(func(t *testing.T, s, o string) {
		d := ParseDigest(s)
		if d.String() != s {
			t.Fatalf("ParseDigest(%q).String() = %q", s, d.String())
		}
		if !d.Is(s) || d.IsZero() != (s == "") {
			t.Fatalf("ParseDigest(%q) is not itself", s)
		}
		if d.Is(o) != (s == o) || (d == ParseDigest(o)) != (s == o) {
			t.Fatalf("ParseDigest(%q) against %q: Is %v, == %v", s, o, d.Is(o), d == ParseDigest(o))
		}
	})
}

// Printable is called on every string a report or a screen shows: one that needs nothing
// escaped comes back as it is, not copied.
func TestPrintableDoesNotCopyAPlainString(t *testing.T) {
	s := strings.Repeat("gen-01/team/app-0001:v1 café ", 10)
	if n := testing.AllocsPerRun(10, func() { _ = Printable(s) }); n != 0 {
		t.Errorf("Printable of a plain string allocates %v times", n)
	}
	if got := Printable("a\x1bb\xff"); got != `a\x1bb`+"\ufffd" {
		t.Errorf("Printable escapes %q", got)
	}
}

// The describe screen shows an image as JSON: it reads as the strings and times it was
// made from, children included.
func TestImageJSONReadsAsItWasRead(t *testing.T) {
	sha := "sha256:" + strings.Repeat("ab", 32)
	img := Image{Digest: ParseDigest(sha), Tags: []string{"1.27"}, MediaType: MediaTypeOf("application/vnd.oci.image.index.v1+json"),
		SizeBytes: 7, PushedAt: UnixTimeOf(time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC))}
	img.SetChildren([]ChildManifest{{Digest: "sha256:cd", Platform: "linux/arm64"}})
	b, err := json.Marshal(img)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"Digest":"` + sha + `","Tags":["1.27"],"MediaType":"application/vnd.oci.image.index.v1+json","SizeBytes":7,` +
		`"PushedAt":"2026-11-30T09:00:00Z","LastPull":"0001-01-01T00:00:00Z","Children":[{"Digest":"sha256:cd","Platform":"linux/arm64","Present":false}]}`
	if string(b) != want {
		t.Errorf("JSON of an image:\n%s\nwant\n%s", b, want)
	}
}
