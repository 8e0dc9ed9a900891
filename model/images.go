package model

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"go.yaml.in/yaml/v3"
)

// ImagesFromFile reads image references from a file: one reference a line (# starts a
// comment), or Kubernetes manifests (YAML or JSON, several documents, kubectl get -o json
// output included), from which every `image:` field is taken. Duplicates are dropped.
func ImagesFromFile(data []byte) ([]string, error) {
	if len(data) > 32<<20 {
		return nil, fmt.Errorf("the images file is %d bytes; the limit is 32 MiB", len(data))
	}
	trimmed := bytes.TrimSpace(data)
	if looksLikeManifest(trimmed) {
		return imagesFromManifests(trimmed)
	}
	var out []string
	seen := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(trimmed))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if i := strings.Index(line, "#"); i >= 0 {
			line = strings.TrimSpace(line[:i])
		}
		if line == "" {
			continue
		}
		if strings.ContainsAny(line, " \t") {
			return nil, fmt.Errorf("line %d: %q is not one image reference", n, Printable(line))
		}
		if !seen[line] {
			seen[line] = true
			out = append(out, line)
		}
	}
	return out, sc.Err()
}

func looksLikeManifest(b []byte) bool {
	return bytes.HasPrefix(b, []byte("{")) || bytes.HasPrefix(b, []byte("apiVersion")) || bytes.HasPrefix(b, []byte("---")) ||
		bytes.Contains(b, []byte("image:")) || bytes.Contains(b, []byte(`"image"`))
}

func imagesFromManifests(data []byte) ([]string, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var out []string
	seen := map[string]bool{}
	for doc := 1; ; doc++ {
		var v any
		err := dec.Decode(&v)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("document %d: not YAML or JSON: %v", doc, err)
		}
		walkImages(v, 0, func(s string) {
			if !seen[s] {
				seen[s] = true
				out = append(out, s)
			}
		})
	}
	if len(out) == 0 {
		return nil, errors.New("no image: fields in the file")
	}
	return out, nil
}

// walkImages finds every string value of a key named image; depth bounds a hostile file.
func walkImages(v any, depth int, found func(string)) {
	if depth > 64 {
		return
	}
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			if s, ok := x.(string); ok && k == "image" && s != "" {
				found(s)
				continue
			}
			walkImages(x, depth+1, found)
		}
	case []any:
		for _, x := range t {
			walkImages(x, depth+1, found)
		}
	}
}
