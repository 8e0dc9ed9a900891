package ecrops_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"testing"

	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/ptcdoctor/ptcdoctor/ecrops"
)

// seenBody is an HTTP client that keeps the request body net/http would be given.
type seenBody struct{ body io.Reader }

func (s *seenBody) Do(req *http.Request) (*http.Response, error) {
	s.body = req.Body
	return &http.Response{StatusCode: http.StatusOK, Body: http.NoBody}, nil
}

// The SDK closes a request's body once the answer's headers are back; net/http may only
// then copy the rest of that body to check nothing is left over, and an error there
// closes the connection under the answer (pages of DescribeImages broken off with "use
// of closed network connection"). The copy must end cleanly.
func TestARequestBodyClosedByTheSDKEndsCleanly(t *testing.T) {
	req := smithyhttp.NewStackRequest().(*smithyhttp.Request)
	req.Method = http.MethodPost
	req, err := req.SetStream(bytes.NewReader([]byte(`{"repositoryName":"app"}`)))
	if err != nil {
		t.Fatal(err)
	}
	built := req.Build(context.Background())
	seen := &seenBody{}
	if _, err := ecrops.SDKHTTPClient(seen).Do(built); err != nil {
		t.Fatal(err)
	}
	built.Body.Close() // as smithy-go's ClientHandler does when Do returns
	// net/http's transferWriter.writeBody: the copy past the declared length.
	if n, err := io.Copy(io.Discard, seen.body); n != 0 || err != nil {
		t.Fatalf("copying the rest of a closed request body: %d bytes, %v; net/http would close the connection", n, err)
	}
}
