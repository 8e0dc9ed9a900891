package sim

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
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
	for _, part := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "Credential":
			f := strings.Split(v, "/")
			if len(f) != 5 || f[4] != "aws4_request" {
				return nil, incompleteSignature("Credential should be of the form <AccessKeyId>/<Date>/<Region>/<Service>/aws4_request.")
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

func incompleteSignature(msg string) *apiError {
	return &apiError{Code: "IncompleteSignatureException", Message: msg, Status: http.StatusBadRequest, Sender: true}
}

// signatureMatches recomputes the signature of r (whose body has been read into body).
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
	payloadHash := hex.EncodeToString(sum[:])
	switch claimed := r.Header.Get("X-Amz-Content-Sha256"); {
	case claimed == "":
	case claimed == "UNSIGNED-PAYLOAD" && len(body) == 0:
		payloadHash = claimed
	case !strings.EqualFold(claimed, payloadHash):
		return false
	}

	var canonHeaders strings.Builder
	for _, name := range auth.SignedHeaders {
		canonHeaders.WriteString(name + ":" + canonicalHeaderValue(r, name) + "\n")
	}
	canonical := strings.Join([]string{
		r.Method,
		canonicalURI(r.URL),
		canonicalQuery(r.URL.Query()),
		canonHeaders.String(),
		strings.Join(auth.SignedHeaders, ";"),
		payloadHash,
	}, "\n")

	c := auth.Credential
	scope := strings.Join([]string{c.Date, c.Region, c.Service, "aws4_request"}, "/")
	canonicalHash := sha256.Sum256([]byte(canonical))
	toSign := strings.Join([]string{sigv4Algorithm, amzDate, scope, hex.EncodeToString(canonicalHash[:])}, "\n")

	key := hmacSHA256([]byte("AWS4"+secretKey), c.Date)
	key = hmacSHA256(key, c.Region)
	key = hmacSHA256(key, c.Service)
	key = hmacSHA256(key, "aws4_request")
	want := hex.EncodeToString(hmacSHA256(key, toSign))
	return hmac.Equal([]byte(want), []byte(auth.Signature))
}

func canonicalHeaderValue(r *http.Request, name string) string {
	switch name {
	case "host":
		return r.Host
	case "content-length":
		if v := r.Header.Get("Content-Length"); v != "" {
			return v
		}
		return strconv.FormatInt(r.ContentLength, 10)
	}
	values := r.Header.Values(name)
	for i, v := range values {
		values[i] = strings.Join(strings.Fields(v), " ")
	}
	return strings.Join(values, ",")
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
