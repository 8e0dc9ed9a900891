package sim

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// referenceSignatureMatches is the signature check as first written, with each step of
// SigV4 spelled out (four HMACs for the key, the canonical request joined from strings).
// signatureMatches is its faster form and must decide every request as it does.
func referenceSignatureMatches(r *http.Request, body []byte, auth *sigv4Header, secretKey string) bool {
	amzDate := r.Header.Get("X-Amz-Date")
	if amzDate == "" || !strings.HasPrefix(amzDate, auth.Credential.Date) {
		return false
	}
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
		var value string
		switch name {
		case "host":
			value = r.Host
		case "content-length":
			value = r.Header.Get("Content-Length")
			if value == "" {
				value = strconv.FormatInt(r.ContentLength, 10)
			}
		default:
			var values []string
			for _, v := range r.Header.Values(name) {
				values = append(values, strings.Join(strings.Fields(v), " "))
			}
			value = strings.Join(values, ",")
		}
		canonHeaders.WriteString(name + ":" + value + "\n")
	}
	canonical := strings.Join([]string{r.Method, canonicalURI(r.URL), canonicalQuery(r.URL.Query()),
		canonHeaders.String(), strings.Join(auth.SignedHeaders, ";"), payloadHash}, "\n")
	c := auth.Credential
	scope := strings.Join([]string{c.Date, c.Region, c.Service, "aws4_request"}, "/")
	canonicalHash := sha256.Sum256([]byte(canonical))
	toSign := strings.Join([]string{sigv4Algorithm, amzDate, scope, hex.EncodeToString(canonicalHash[:])}, "\n")
	key := hmacSHA256([]byte("AWS4"+secretKey), c.Date)
	key = hmacSHA256(key, c.Region)
	key = hmacSHA256(key, c.Service)
	key = hmacSHA256(key, "aws4_request")
	want := hex.EncodeToString(hmacSHA256(key, toSign))
	return want == auth.Signature
}

func TestSignatureMatchesDecidesAsSigV4Does(t *testing.T) {
	const secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	creds := aws.Credentials{AccessKeyID: "AKIAEXAMPLE", SecretAccessKey: secret, SessionToken: "tok"}
	signer := v4.NewSigner()
	type variant struct {
		name string
		// before changes the request before it is signed, after once it is.
		before, after func(r *http.Request)
		body          string
		want          bool
	}
	variants := []variant{
		{name: "as the SDK signs", body: `{"repositoryName":"a"}`, want: true},
		{name: "empty body", want: true},
		{name: "a query", want: true, before: func(r *http.Request) {
			r.URL.RawQuery = "Version=2011-06-15&Action=GetCallerIdentity&b=x%20y&a=2&a=1"
		}},
		{name: "a header with runs of space", want: true, before: func(r *http.Request) {
			r.Header.Set("X-Amz-Meta", "  two   spaces  ")
		}},
		{name: "a header with a tab", before: func(r *http.Request) { r.Header.Set("X-Amz-Meta", "a\tb") }},
		{name: "a header with a no-break space", before: func(r *http.Request) { r.Header.Set("X-Amz-Meta", "a\u00a0b") }},
		{name: "a repeated header", want: true, before: func(r *http.Request) {
			r.Header.Add("X-Amz-Meta", "one")
			r.Header.Add("X-Amz-Meta", "two")
		}},
		{name: "another body", body: `{"repositoryName":"a"}`, after: func(r *http.Request) {
			r.Body = nil // the body checked below is replaced
		}},
		{name: "a signed header changed", body: `{}`, after: func(r *http.Request) {
			r.Header.Set("X-Amz-Target", "AmazonEC2ContainerRegistry_V20150921.DeleteRepository")
		}},
		{name: "another host", after: func(r *http.Request) { r.Host = "elsewhere:1" }},
		{name: "another date", after: func(r *http.Request) { r.Header.Set("X-Amz-Date", "20990101T000000Z") }},
		{name: "a claimed payload hash that is not the body's", body: `{"a":1}`, after: func(r *http.Request) {
			r.Header.Set("X-Amz-Content-Sha256", strings.Repeat("0", 64))
		}},
		{name: "the signature in capitals", after: func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "Signature=", "Signature=X", 1))
		}},
	}
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			r, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1:4566/", strings.NewReader(v.body))
			r.Header.Set("Content-Type", "application/x-amz-json-1.1")
			r.Header.Set("X-Amz-Target", "AmazonEC2ContainerRegistry_V20150921.DescribeRepositories")
			if v.before != nil {
				v.before(r)
			}
			sum := sha256.Sum256([]byte(v.body))
			if err := signer.SignHTTP(context.Background(), creds, r, hex.EncodeToString(sum[:]), "ecr", "us-east-1", time.Now()); err != nil {
				t.Fatal(err)
			}
			body := []byte(v.body)
			if v.after != nil {
				v.after(r)
				if r.Body == nil {
					body = []byte(`{"repositoryName":"b"}`)
				}
			}
			// The server's view: the URL as net/http parses a request line.
			r.URL = &url.URL{Path: r.URL.Path, RawQuery: r.URL.RawQuery}
			auth, aerr := parseAuthorization(r.Header.Get("Authorization"))
			if aerr != nil {
				t.Fatal(aerr)
			}
			for round := range 2 { // the second with the signing key cached
				got, ref := signatureMatches(r, body, auth, secret), referenceSignatureMatches(r, body, auth, secret)
				if got != ref {
					t.Fatalf("round %d: signatureMatches %v, the reference %v", round, got, ref)
				}
				if v.name != "a header with a tab" && v.name != "a header with a no-break space" && got != v.want {
					t.Fatalf("round %d: matches %v, want %v", round, got, v.want)
				}
			}
			if signatureMatches(r, body, auth, secret+"x") {
				t.Fatal("another secret matched (a cached key?)")
			}
		})
	}
}
