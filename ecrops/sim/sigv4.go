package sim

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/textproto"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"
)

// The stand-in checks Signature Version 4 as AWS does, so that a client with the wrong
// key or a broken signer fails here and not first against a real account. The canonical
// request is rebuilt from the headers the client says it signed and from the body as it
// arrived; nothing is shared with the client-side signer on purpose.

type sigv4Credential struct {
	AccessKeyID string
	Date        string // yyyymmdd
	Region      string
	Service     string
}

type sigv4Header struct {
	Credential    sigv4Credential
	SignedHeaders []string
	Signature     string
}

const sigv4Algorithm = "AWS4-HMAC-SHA256"

// parseAuthorization reads an "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=..." header.
func parseAuthorization(h string) (*sigv4Header, *apiError) {
	if h == "" {
		return nil, &apiError{Code: "MissingAuthenticationTokenException", Message: "Missing Authentication Token", Status: http.StatusForbidden, Sender: true}
	}
	rest, ok := strings.CutPrefix(h, sigv4Algorithm+" ")
	if !ok {
		return nil, incompleteSignature("Authorization header requires '" + sigv4Algorithm + "' as the algorithm.")
	}
	var out sigv4Header
	for rest != "" {
		var part string
		part, rest, _ = strings.Cut(rest, ",")
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "Credential":
			// <AccessKeyId>/<Date>/<Region>/<Service>/aws4_request, cut without a slice.
			if strings.Count(v, "/") != 4 {
				return nil, badCredential()
			}
			var f [5]string
			for i := range 4 {
				f[i], v, _ = strings.Cut(v, "/")
			}
			if f[4] = v; f[4] != "aws4_request" {
				return nil, badCredential()
			}
			out.Credential = sigv4Credential{AccessKeyID: f[0], Date: f[1], Region: f[2], Service: f[3]}
		case "SignedHeaders":
			out.SignedHeaders = strings.Split(v, ";")
		case "Signature":
			out.Signature = v
		}
	}
	if out.Credential.AccessKeyID == "" || len(out.SignedHeaders) == 0 || out.Signature == "" {
		return nil, incompleteSignature("Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters.")
	}
	return &out, nil
}

func badCredential() *apiError {
	return incompleteSignature("Credential should be of the form <AccessKeyId>/<Date>/<Region>/<Service>/aws4_request.")
}

func incompleteSignature(msg string) *apiError {
	return &apiError{Code: "IncompleteSignatureException", Message: msg, Status: http.StatusBadRequest, Sender: true}
}

// signatureMatches recomputes the signature of r (whose body has been read into body).
// It is on the path of every request (10,000 a second in a large fleet's scan), so the
// canonical request is built in one buffer and the signing key is derived once per
// secret and scope (signingKey), not four HMACs a request.
func signatureMatches(r *http.Request, body []byte, auth *sigv4Header, secretKey string) bool {
	amzDate := r.Header.Get("X-Amz-Date")
	if amzDate == "" || !strings.HasPrefix(amzDate, auth.Credential.Date) {
		return false
	}
	// The payload hash is always the hash of the body that arrived, never what a header
	// claims: X-Amz-Content-Sha256 is S3's, and trusting it when it is not among the signed
	// headers would let anyone who saw one signed request replay it with another body
	// (a DeleteRepository of one repository sent again for another, with force). A header
	// that disagrees with the body is refused outright. The only exception is an empty
	// body sent as UNSIGNED-PAYLOAD, where there is nothing to forge.
	sum := sha256.Sum256(body)
	var hexSum [sha256.Size * 2]byte
	hex.Encode(hexSum[:], sum[:])
	payloadHash := hexSum[:]
	switch claimed := r.Header.Get("X-Amz-Content-Sha256"); {
	case claimed == "":
	case claimed == "UNSIGNED-PAYLOAD" && len(body) == 0:
		payloadHash = []byte(claimed)
	case !strings.EqualFold(claimed, string(payloadHash)):
		return false
	}

	pooled := canonicalBuffers.Get().(*[]byte)
	defer canonicalBuffers.Put(pooled)
	canonical := (*pooled)[:0]
	defer func() { *pooled = canonical[:0] }() // keep what it grew to
	canonical = append(canonical, r.Method...)
	canonical = append(canonical, '\n')
	canonical = append(canonical, canonicalURI(r.URL)...)
	canonical = append(canonical, '\n')
	if r.URL.RawQuery != "" {
		canonical = append(canonical, canonicalQuery(r.URL.Query())...)
	}
	canonical = append(canonical, '\n')
	for _, name := range auth.SignedHeaders {
		canonical = append(canonical, name...)
		canonical = append(canonical, ':')
		canonical = appendCanonicalHeaderValue(canonical, r, name)
		canonical = append(canonical, '\n')
	}
	canonical = append(canonical, '\n')
	for i, name := range auth.SignedHeaders {
		if i > 0 {
			canonical = append(canonical, ';')
		}
		canonical = append(canonical, name...)
	}
	canonical = append(canonical, '\n')
	canonical = append(canonical, payloadHash...)
	canonicalHash := sha256.Sum256(canonical)

	c := auth.Credential
	toSign := canonical[:0] // the canonical request is hashed: its buffer is free again
	toSign = append(toSign, sigv4Algorithm+"\n"...)
	toSign = append(toSign, amzDate...)
	toSign = append(toSign, '\n')
	toSign = append(toSign, c.Date...)
	toSign = append(toSign, '/')
	toSign = append(toSign, c.Region...)
	toSign = append(toSign, '/')
	toSign = append(toSign, c.Service...)
	toSign = append(toSign, "/aws4_request\n"...)
	toSign = hex.AppendEncode(toSign, canonicalHash[:])

	key := signingKey(secretKey, c)
	mac := hmac.New(sha256.New, key[:])
	mac.Write(toSign)
	var want [sha256.Size * 2]byte
	hex.Encode(want[:], mac.Sum(nil))
	return hmac.Equal(want[:], []byte(auth.Signature))
}

// canonicalBuffers hold the canonical requests being hashed, one a request at a time.
var canonicalBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// signingScope is what a SigV4 signing key is derived from.
type signingScope struct {
	secret, date, region, service string
}

// signingKeys caches derived signing keys. A key changes only with the day, so a client
// signs thousands of requests with one; the cache is emptied when it grows past
// maxSigningKeys (every role session of a long rehearsal, every day), which costs only
// their derivation again.
var signingKeys struct {
	sync.Map // signingScope -> [sha256.Size]byte
	n        atomic.Int64
}

const maxSigningKeys = 1 << 14

// signingKey is HMAC(HMAC(HMAC(HMAC("AWS4"+secret, date), region), service), "aws4_request").
func signingKey(secret string, c sigv4Credential) [sha256.Size]byte {
	scope := signingScope{secret, c.Date, c.Region, c.Service}
	if k, ok := signingKeys.Load(scope); ok {
		return k.([sha256.Size]byte)
	}
	key := hmacSHA256([]byte("AWS4"+secret), c.Date)
	key = hmacSHA256(key, c.Region)
	key = hmacSHA256(key, c.Service)
	key = hmacSHA256(key, "aws4_request")
	var out [sha256.Size]byte
	copy(out[:], key)
	if signingKeys.n.Add(1) > maxSigningKeys {
		signingKeys.Clear()
		signingKeys.n.Store(1)
	}
	signingKeys.Store(scope, out)
	return out
}

// appendCanonicalHeaderValue appends a signed header's value as SigV4 canonicalizes it:
// the values of a repeated header joined by commas, each with its runs of white space
// made one space and trimmed. The request's header is only read.
func appendCanonicalHeaderValue(buf []byte, r *http.Request, name string) []byte {
	switch name {
	case "host":
		return append(buf, r.Host...)
	case "content-length":
		if v := r.Header.Get("Content-Length"); v != "" {
			return append(buf, v...)
		}
		return strconv.AppendInt(buf, r.ContentLength, 10)
	}
	key, ok := canonicalHeaderKeys[name]
	if !ok {
		key = textproto.CanonicalMIMEHeaderKey(name)
	}
	for i, v := range r.Header[key] {
		if i > 0 {
			buf = append(buf, ',')
		}
		if hasExtraSpace(v) {
			v = strings.Join(strings.Fields(v), " ")
		}
		buf = append(buf, v...)
	}
	return buf
}

// canonicalHeaderKeys are the headers SDKs sign, in the form net/http keeps them, so that
// looking one up costs no allocation.
var canonicalHeaderKeys = func() map[string]string {
	m := map[string]string{}
	for _, k := range []string{"Content-Type", "X-Amz-Date", "X-Amz-Target", "X-Amz-Security-Token",
		"X-Amz-Content-Sha256", "Amz-Sdk-Invocation-Id", "Amz-Sdk-Request", "X-Amz-User-Agent", "Content-Encoding"} {
		m[strings.ToLower(k)] = k
	}
	return m
}()

// hasExtraSpace reports whether strings.Fields would change v once joined again: white
// space other than single spaces between words.
func hasExtraSpace(v string) bool {
	prevSpace := true // a leading space is extra
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c > ' ' && c < utf8.RuneSelf:
			prevSpace = false
		case c == ' ':
			if prevSpace {
				return true
			}
			prevSpace = true
		default:
			// \t, \n, \v, \f, \r; and control or non-ASCII bytes, which may be (or begin)
			// Unicode white space: Fields judges them.
			return true
		}
	}
	return prevSpace && v != ""
}

func canonicalURI(u *url.URL) string {
	p := u.EscapedPath()
	if p == "" {
		return "/"
	}
	return p
}

func canonicalQuery(q url.Values) string {
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		vals := append([]string(nil), q[k]...)
		sort.Strings(vals)
		for _, v := range vals {
			parts = append(parts, awsEscape(k)+"="+awsEscape(v))
		}
	}
	return strings.Join(parts, "&")
}

// awsEscape is RFC 3986 escaping as SigV4 wants it: unreserved characters stay, the rest are %XX.
func awsEscape(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

func hmacSHA256(key []byte, data string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(data))
	return h.Sum(nil)
}
