package ecrops

import (
	"io"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// The SDK (smithy-go) closes a request's body as soon as the HTTP client returns the
// answer's headers, and its body's WriteTo answers io.EOF, as an error, once closed.
// net/http's writeLoop, after sending a body of a known length, copies the rest of it
// (io.Copy, which uses WriteTo) to check that nothing is left over; when the answer came
// before that check (a fast server: the stand-in on loopback, or a busy machine that
// pauses the writeLoop), the check fails with that io.EOF, and the writeLoop closes the
// connection under the answer being read: "read tcp ...: use of closed network
// connection", which the SDK retries. Hiding WriteTo makes the check a plain Read, which
// the closed body answers with a clean end (0, io.EOF).

// readOnlyBody is a request body with only Read and Close, so that io.Copy reads it.
type readOnlyBody struct{ io.ReadCloser }

// keepAnswers is an SDK HTTP client whose requests' bodies show net/http only Read and Close.
type keepAnswers struct{ inner aws.HTTPClient }

// SDKHTTPClient wraps an SDK HTTP client so that an answer is not broken off by the
// SDK closing the request's body while net/http still checks it (see above). Clients
// of the SDK outside an Account (the stand-in's tests) use it as Open does.
func SDKHTTPClient(inner aws.HTTPClient) aws.HTTPClient { return keepAnswers{inner: inner} }

func (c keepAnswers) Do(req *http.Request) (*http.Response, error) {
	hideWriteTo(req)
	return c.inner.Do(req)
}

// hideWriteTo hides the request body's other methods from net/http.
func hideWriteTo(req *http.Request) {
	if req.Body != nil && req.Body != http.NoBody {
		if _, ok := req.Body.(io.WriterTo); ok {
			req.Body = readOnlyBody{req.Body}
		}
	}
}
