package sim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand"
	"strings"
	"sync"
	"sync/atomic"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Image content is made, not stored: the same source name and platforms always give the
// same bytes and digests, so a scenario's cached copy and its upstream agree, and a test
// can compute the digest it expects.

// manifestBlob is one manifest with its media type and digest.
type manifestBlob struct {
	Digest    v1.Hash
	MediaType types.MediaType
	Raw       []byte
	Platform  string // for a child of an index
	// Size is what ECR reports as imageSizeInBytes: the sum of the layers, or for an
	// index the largest of its images.
	Size int64
	// Blobs are the config and layers an image manifest references.
	Blobs []v1.Hash
	// Seed makes a generated image's manifest again; Raw is not kept for those.
	Seed string
}

// artifact is an image or an index with every manifest and blob it references.
type artifact struct {
	// Object is the v1.Image or v1.ImageIndex itself, for pushing to an upstream.
	Object   any
	Top      manifestBlob
	Children []manifestBlob // empty for a single-platform image
	Blobs    map[v1.Hash][]byte
}

const layerBytes = 512

var contentCache sync.Map // source+platforms -> *artifact

// buildArtifact returns the deterministic image for source. One platform gives an image
// manifest; several give an index of one image each.
func buildArtifact(source string, platforms []string) (*artifact, error) {
	if len(platforms) == 0 {
		platforms = []string{"linux/amd64"}
	}
	key := source + "|" + strings.Join(platforms, ",")
	if a, ok := contentCache.Load(key); ok {
		return a.(*artifact), nil
	}
	a := &artifact{Blobs: map[v1.Hash][]byte{}}
	var images []manifestBlob
	var built []v1.Image
	for _, p := range platforms {
		img, err := platformImage(source, p)
		if err != nil {
			return nil, err
		}
		m, err := a.addImage(img, p)
		if err != nil {
			return nil, err
		}
		images = append(images, m)
		built = append(built, img)
	}
	if len(platforms) == 1 {
		a.Top = images[0]
		a.Top.Platform = ""
		a.Object = built[0]
	} else {
		var adds []mutate.IndexAddendum
		for i, img := range built {
			plat, _ := v1.ParsePlatform(platforms[i])
			adds = append(adds, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: plat}})
		}
		idx := mutate.IndexMediaType(mutate.AppendManifests(empty.Index, adds...), types.OCIImageIndex)
		raw, err := idx.RawManifest()
		if err != nil {
			return nil, err
		}
		d, _ := idx.Digest()
		a.Top = manifestBlob{Digest: d, MediaType: types.OCIImageIndex, Raw: raw}
		a.Object = idx
		for _, m := range images {
			a.Top.Size = max(a.Top.Size, m.Size)
		}
		a.Children = images
	}
	contentCache.Store(key, a)
	return a, nil
}

func platformImage(source, platform string) (v1.Image, error) {
	h := fnv.New64a()
	h.Write([]byte(source + "|" + platform))
	layer, err := random.Layer(layerBytes, types.DockerLayer, random.WithSource(rand.NewSource(int64(h.Sum64()))))
	if err != nil {
		return nil, err
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		return nil, err
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cfg = cfg.DeepCopy()
	plat, err := v1.ParsePlatform(platform)
	if err != nil {
		return nil, fmt.Errorf("platform %q: %w", platform, err)
	}
	cfg.OS, cfg.Architecture, cfg.Variant = plat.OS, plat.Architecture, plat.Variant
	cfg.Config.Labels = map[string]string{"org.opencontainers.image.source": source}
	return mutate.ConfigFile(img, cfg)
}

func (a *artifact) addImage(img v1.Image, platform string) (manifestBlob, error) {
	raw, err := img.RawManifest()
	if err != nil {
		return manifestBlob{}, err
	}
	d, _ := img.Digest()
	mt, _ := img.MediaType()
	cfgName, _ := img.ConfigName()
	cfgRaw, err := img.RawConfigFile()
	if err != nil {
		return manifestBlob{}, err
	}
	a.Blobs[cfgName] = cfgRaw
	layers, err := img.Layers()
	if err != nil {
		return manifestBlob{}, err
	}
	var size int64
	refs := []v1.Hash{cfgName}
	for _, l := range layers {
		ld, _ := l.Digest()
		rc, err := l.Compressed()
		if err != nil {
			return manifestBlob{}, err
		}
		var b bytes.Buffer
		_, err = io.Copy(&b, rc)
		rc.Close()
		if err != nil {
			return manifestBlob{}, err
		}
		a.Blobs[ld] = b.Bytes()
		refs = append(refs, ld)
		size += int64(b.Len())
	}
	return manifestBlob{Digest: d, MediaType: mt, Raw: raw, Platform: platform, Size: size, Blobs: refs}, nil
}

// Generated accounts are large (up to 200,000 images), so their images are made the cheap
// way: a layer from a small shared pool, a config and a manifest written here, and only
// the digest kept; the manifest is made again when a client asks for it.

type pooledLayer struct {
	digest, diffID v1.Hash
	size           int64
	data           []byte // compressed, as a registry serves it (512 bytes before)
}

var layerPool = sync.OnceValues(func() ([]pooledLayer, error) {
	var pool []pooledLayer
	for i := range 16 {
		l, err := random.Layer(layerBytes, types.DockerLayer, random.WithSource(rand.NewSource(int64(i))))
		if err != nil {
			return nil, err
		}
		d, _ := l.Digest()
		diff, _ := l.DiffID()
		size, _ := l.Size()
		rc, err := l.Compressed()
		if err != nil {
			return nil, err
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return nil, err
		}
		pool = append(pool, pooledLayer{d, diff, size, data})
	}
	return pool, nil
})

// generatedManifest writes the manifest of a generated image.
func generatedManifest(seed string) (manifestBlob, error) {
	m, _, err := generatedImage(seed)
	return m, err
}

// generatedImage writes the manifest of a generated image and its config (the one blob
// of it not in the pool).
func generatedImage(seed string) (manifestBlob, []byte, error) {
	if e, ok := generatedImages.Load(seed); ok {
		e := e.(generatedEntry)
		return e.manifest, e.config, nil
	}
	m, cfg, err := makeGeneratedImage(seed)
	if err != nil {
		return manifestBlob{}, nil, err
	}
	if generatedImages.n.Add(1) > maxCachedGeneratedImages {
		generatedImages.Clear()
		generatedImages.n.Store(1)
	}
	generatedImages.Store(seed, generatedEntry{m, cfg})
	return m, cfg, nil
}

// generatedImages keeps the images generatedImage made last, by seed. A fleet's accounts
// cache the same upstream images (one seed each), and every probe of one asks for its
// manifest again: made once, it is served to the others from here (two JSON encodings
// and two SHA-256 less a request). Its callers only read what it returns. Bounded: when
// full it is emptied, which costs only the making again.
var generatedImages struct {
	sync.Map // seed -> generatedEntry
	n        atomic.Int64
}

const maxCachedGeneratedImages = 4096 // a few MB at most

type generatedEntry struct {
	manifest manifestBlob
	config   []byte
}

// makeGeneratedImage is generatedImage without the cache.
func makeGeneratedImage(seed string) (manifestBlob, []byte, error) {
	pool, err := layerPool()
	if err != nil {
		return manifestBlob{}, nil, err
	}
	h := fnv.New32a()
	h.Write([]byte(seed))
	layer := pool[h.Sum32()%uint32(len(pool))]
	// Structs whose fields are in the order of their JSON names write the bytes the maps
	// they replaced wrote (sorted keys), at a fraction of the cost: a registry request for
	// a generated image makes its manifest again.
	cfg, _ := json.Marshal(generatedConfig{Architecture: "amd64", OS: "linux",
		Config: generatedImageConfig{Labels: map[string]string{"org.opencontainers.image.source": seed}},
		RootFS: generatedRootFS{DiffIDs: []string{layer.diffID.String()}, Type: "layers"}})
	cfgDigest, _, _ := v1.SHA256(bytes.NewReader(cfg))
	raw, _ := json.Marshal(generatedManifestJSON{
		Config:        generatedDescriptor{Digest: cfgDigest.String(), MediaType: string(types.DockerConfigJSON), Size: int64(len(cfg))},
		Layers:        []generatedDescriptor{{Digest: layer.digest.String(), MediaType: string(types.DockerLayer), Size: layer.size}},
		MediaType:     string(types.DockerManifestSchema2),
		SchemaVersion: 2,
	})
	d, _, _ := v1.SHA256(bytes.NewReader(raw))
	return manifestBlob{Digest: d, MediaType: types.DockerManifestSchema2, Raw: raw, Size: layer.size, Seed: seed}, cfg, nil
}

type generatedConfig struct {
	Architecture string               `json:"architecture"`
	Config       generatedImageConfig `json:"config"`
	OS           string               `json:"os"`
	RootFS       generatedRootFS      `json:"rootfs"`
}

type generatedImageConfig struct {
	Labels map[string]string `json:"Labels"`
}

type generatedRootFS struct {
	DiffIDs []string `json:"diff_ids"`
	Type    string   `json:"type"`
}

type generatedManifestJSON struct {
	Config        generatedDescriptor   `json:"config"`
	Layers        []generatedDescriptor `json:"layers"`
	MediaType     string                `json:"mediaType"`
	SchemaVersion int                   `json:"schemaVersion"`
}

type generatedDescriptor struct {
	Digest    string `json:"digest"`
	MediaType string `json:"mediaType"`
	Size      int64  `json:"size"`
}

// manifest returns the image's manifest, making it again for a generated image.
func (m *manifestBlob) manifest() []byte {
	if m.Raw == nil && m.Seed != "" {
		again, _ := generatedManifest(m.Seed)
		return again.Raw
	}
	return m.Raw
}
