package sim

import (
	"encoding/base64"
	"strconv"
	"strings"
	"time"
)

// epoch is a timestamp as the JSON 1.1 protocol writes it: seconds since the epoch, as a number.
type epoch time.Time

func (e epoch) MarshalJSON() ([]byte, error) {
	t := time.Time(e)
	return []byte(strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', 3, 64)), nil
}

func ts(t time.Time) *epoch {
	if t.IsZero() {
		return nil
	}
	e := epoch(t)
	return &e
}

// page cuts one page out of items. The token is opaque to clients; it carries the
// operation and an offset, so a token from another listing is refused.
func page[T any](op string, items []T, token *string, maxResults *int, def int) ([]T, *string, bool) {
	start := 0
	if token != nil {
		raw, err := base64.RawURLEncoding.DecodeString(*token)
		if err != nil {
			return nil, nil, false
		}
		name, off, ok := strings.Cut(string(raw), ":")
		n, err := strconv.Atoi(off)
		if !ok || name != op || err != nil || n < 0 || n > len(items) {
			return nil, nil, false
		}
		start = n
	}
	size := def
	if maxResults != nil {
		size = *maxResults
	}
	end := min(len(items), start+size)
	var next *string
	if end < len(items) {
		t := base64.RawURLEncoding.EncodeToString([]byte(op + ":" + strconv.Itoa(end)))
		next = &t
	}
	return items[start:end], next, true
}

// str dereferences an optional string.
func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func ptr[T any](v T) *T { return &v }

// emptyIfNil keeps a list a list on the wire: AWS answers [] rather than null.
func emptyIfNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
