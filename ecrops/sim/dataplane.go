package sim

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// ECR does not serve layers itself: a blob GET on the registry is answered with a redirect
// to a pre-signed Amazon S3 URL (GetDownloadUrlForLayer's "pre-signed Amazon S3 download
// URL", API model), which is why nodes behind VPC endpoints need a route to S3 (the S3
// gateway endpoint, https://docs.aws.amazon.com/AmazonECR/latest/userguide/vpc-endpoints.html).
// The stand-in serves its "S3" on a loopback listener of its own, named in the resolve map
// as the region's layer bucket host, so that a client sees a second host and a test can
// take it away.
//
// A model, off unless a scenario asks (behaviours.upstreamCDNRedirect): layers of an image
// pulled through a moment ago, not yet copied into the cache, are redirected to the
// upstream's CDN (production.cloudflare.docker.com for Docker Hub), as users have reported
// (https://github.com/aws/containers-roadmap/issues/2304). AWS documents neither when nor
// for how long.

// presignedFor is how long a layer URL stays valid. AWS does not document ECR's figure;
// this is a model.
const presignedFor = time.Hour

// dockerHubCDNHost is where Docker Hub redirects its blob downloads.
const dockerHubCDNHost = "production.cloudflare.docker.com"

// layerBucketHost is the S3 host ECR's layer URLs name in a region.
func layerBucketHost(region string) string {
	return fmt.Sprintf("prod-%s-starport-layer-bucket.s3.%s.amazonaws.com", region, region)
}

// blobStore is the loopback "S3" (and upstream CDN) that layer redirects point at.
type blobStore struct {
	srv  *Server
	ln   net.Listener
	http *http.Server
	url  string
	key  [32]byte // signs the pre-signed URLs
}

func (s *Server) startBlobStore(host string) error {
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return err
	}
	b := &blobStore{srv: s, ln: ln, url: "http://" + ln.Addr().String()}
	randRead(b.key[:])
	b.http = &http.Server{Handler: b, ReadHeaderTimeout: 10 * time.Second}
	s.s3 = b
	go b.http.Serve(ln)
	return nil
}

// presign makes a pre-signed-URL-shaped address for a layer: it names the layer bucket's
// host in its path so that the event log and a person reading it see what AWS would send.
func (b *blobStore) presign(via, repo string, d v1.Hash, now time.Time) string {
	q := url.Values{}
	q.Set("X-Amz-Algorithm", "AWS4-HMAC-SHA256")
	q.Set("X-Amz-Date", now.UTC().Format("20060102T150405Z"))
	q.Set("X-Amz-Expires", strconv.Itoa(int(presignedFor.Seconds())))
	q.Set("X-Amz-SignedHeaders", "host")
	p := "/" + via + "/" + repo + "/" + d.String()
	q.Set("X-Amz-Signature", b.sign(p, q.Get("X-Amz-Date")))
	return b.url + p + "?" + q.Encode()
}

func (b *blobStore) sign(path, date string) string {
	m := hmac.New(sha256.New, b.key[:])
	m.Write([]byte(path + "|" + date))
	return hex.EncodeToString(m.Sum(nil))
}

// ServeHTTP answers a layer URL: a valid, unexpired signature gets the bytes; anything
// else S3's AccessDenied.
func (b *blobStore) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	b.serve(rec, r)
	via, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	b.srv.events.add(b.srv.clock.Now(), Event{Service: "s3:" + via, Operation: r.Method + " layer",
		Outcome: outcomeOf(rec.status), Status: rec.status, Detail: r.URL.Path})
}

func (b *blobStore) serve(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	denied := func(msg string) {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>%s</Message></Error>`, msg)
	}
	signed, err := time.Parse("20060102T150405Z", q.Get("X-Amz-Date"))
	if err != nil || !hmac.Equal([]byte(q.Get("X-Amz-Signature")), []byte(b.sign(r.URL.Path, q.Get("X-Amz-Date")))) {
		denied("Request signature does not match")
		return
	}
	if b.srv.clock.Now().After(signed.Add(presignedFor)) {
		denied("Request has expired")
		return
	}
	i := strings.LastIndex(r.URL.Path, "/")
	d, err := v1.NewHash(r.URL.Path[i+1:])
	if err != nil {
		denied("Invalid key")
		return
	}
	b.srv.mu.Lock()
	blob := b.srv.st.blobs[d]
	b.srv.mu.Unlock()
	if blob == nil {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.Itoa(len(blob)))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		w.Write(blob)
	}
}

// layerURL is where a blob GET is redirected: the layer bucket, or (the modelled CDN
// redirect) the upstream's CDN while the image's layers are still being copied. Called
// with s.mu held.
func (s *Server) layerURL(rs *repoState, d v1.Hash) string {
	now := s.clock.Now()
	via := layerBucketHost(s.st.region)
	if cdn := s.scenario.Behaviours.UpstreamCDNRedirect; cdn != nil && cdn.Enabled {
		window := time.Duration(cdn.For)
		if window <= 0 {
			window = 2 * time.Minute
		}
		for _, img := range rs.images {
			if img.Imported.IsZero() || now.Sub(img.Imported) >= window || !usesBlob(img, d) {
				continue
			}
			if rule := s.st.ruleFor(rs.Name); rule != nil {
				via = cdnHost(rule.URL)
			}
		}
	}
	return s.s3.presign(via, rs.Name, d, now)
}

func usesBlob(img *imageState, d v1.Hash) bool {
	for _, b := range img.Blobs {
		if b == d {
			return true
		}
	}
	return false
}

// cdnHost is the host an upstream serves its blobs from.
func cdnHost(upstreamURL string) string {
	if upstreamURL == dockerHubHost {
		return dockerHubCDNHost
	}
	return upstreamURL
}

// --- the layer operations of the control plane ---

func getDownloadURLForLayer(c *call) (any, *apiError) {
	var in struct {
		imagesIn
		LayerDigest string `json:"layerDigest"`
	}
	if e := c.decode(&in); e != nil {
		return nil, e
	}
	r, e := c.imagesRepo(&in.imagesIn)
	if e != nil {
		return nil, e
	}
	d, err := v1.NewHash(in.LayerDigest)
	if err != nil || !r.referencesPullable(d, c.srv.clock.Now()) {
		// The exception is the API model's; its wording here is the stand-in's.
		return nil, clientError("LayersNotFoundException", "The image layer %s does not exist in the repository with name '%s' in the registry with id '%s'",
			sanitizeForMessage(in.LayerDigest), r.Name, c.srv.st.accountID)
	}
	return map[string]any{"downloadUrl": c.srv.layerURL(r, d), "layerDigest": d.String()}, nil
}

func batchCheckLayerAvailability(c *call) (any, *apiError) {
	var in struct {
		imagesIn
		LayerDigests []string `json:"layerDigests"`
	}
	if e := c.decode(&in); e != nil {
		return nil, e
	}
	r, e := c.imagesRepo(&in.imagesIn)
	if e != nil {
		return nil, e
	}
	now := c.srv.clock.Now()
	layers, failures := []map[string]any{}, []map[string]any{}
	for _, raw := range in.LayerDigests {
		d, err := v1.NewHash(raw)
		if err != nil {
			failures = append(failures, map[string]any{"layerDigest": raw, "failureCode": "InvalidLayerDigest", "failureReason": "Invalid layer digest"})
			continue
		}
		state := "UNAVAILABLE"
		switch {
		case r.referencesPullable(d, now):
			state = "AVAILABLE"
		case r.references(d):
			state = "ARCHIVED"
		}
		l := map[string]any{"layerDigest": d.String(), "layerAvailability": state}
		if b := c.srv.st.blobs[d]; b != nil && state != "UNAVAILABLE" {
			l["layerSize"], l["mediaType"] = len(b), r.blobMediaType(d)
		}
		layers = append(layers, l)
	}
	return map[string]any{"layers": layers, "failures": failures}, nil
}

// blobMediaType is the media type a manifest of the repository gives blob d: the first
// blob of an image is its config, the others its layers.
func (r *repoState) blobMediaType(d v1.Hash) string {
	for _, img := range r.images {
		for i, b := range img.Blobs {
			if b != d {
				continue
			}
			oci := strings.Contains(string(img.MediaType), "oci")
			switch {
			case i == 0 && oci:
				return "application/vnd.oci.image.config.v1+json"
			case i == 0:
				return "application/vnd.docker.container.image.v1+json"
			case oci:
				return "application/vnd.oci.image.layer.v1.tar+gzip"
			}
			return "application/vnd.docker.image.rootfs.diff.tar.gzip"
		}
	}
	return ""
}

// referencesPullable reports whether an image that can be pulled now uses blob d.
func (r *repoState) referencesPullable(d v1.Hash, now time.Time) bool {
	for _, img := range r.images {
		if img.pullable(now) && usesBlob(img, d) {
			return true
		}
	}
	return false
}
