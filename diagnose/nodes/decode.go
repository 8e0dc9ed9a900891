package nodes

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/ptcdoctor/ptcdoctor/model"
)

// Decoding errors said in the file's terms: which field, what it holds and what it
// should hold, never the Go type it was decoded into.

// decodeError words a JSON or YAML decoding error of data.
func decodeError(data []byte, err error) string {
	var jt *json.UnmarshalTypeError
	if errors.As(err, &jt) {
		field := jt.Field
		if field == "" {
			field = "the document"
		}
		return fmt.Sprintf("%s is %s; want %s", field, article(jt.Value), kindOfType(jt.Type))
	}
	var yt *yaml.TypeError
	if errors.As(err, &yt) {
		var out []string
		for _, e := range yt.Errors {
			out = append(out, yamlTypeProblem(data, e))
		}
		return strings.Join(out, "; ")
	}
	return err.Error()
}

// yamlMismatch is yaml.v3's wording: "line 4: cannot unmarshal !!str `ecr-cre...` into struct { … }".
var yamlMismatch = regexp.MustCompile("^line (\\d+): cannot unmarshal !!(\\w+) (`[^`]*` )?into (.*)$")

func yamlTypeProblem(data []byte, e string) string {
	m := yamlMismatch.FindStringSubmatch(e)
	if m == nil {
		return e
	}
	var line int
	fmt.Sscan(m[1], &line)
	field := yamlPathAt(data, line)
	if field == "" {
		field = "a value"
	}
	got := map[string]string{"str": "a string", "int": "a number", "float": "a number", "bool": "true or false", "seq": "a list", "map": "a mapping", "null": "empty"}[m[2]]
	if got == "" {
		got = "a " + m[2]
	}
	return fmt.Sprintf("line %d: %s is %s; want %s", line, field, got, kindOfGo(m[4]))
}

// yamlPathAt is the path (providers[0].matchImages) of the value written on a line.
func yamlPathAt(data []byte, line int) string {
	var root yaml.Node
	if yaml.Unmarshal(data, &root) != nil {
		return ""
	}
	var walk func(n *yaml.Node, path string) string
	walk = func(n *yaml.Node, path string) string {
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				if p := walk(c, path); p != "" {
					return p
				}
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				p := strings.TrimPrefix(path+"."+n.Content[i].Value, ".")
				if q := walk(n.Content[i+1], p); q != "" {
					return q
				}
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				if q := walk(c, fmt.Sprintf("%s[%d]", path, i)); q != "" {
					return q
				}
			}
		}
		if n.Line == line && n.Kind != yaml.DocumentNode && path != "" {
			return path
		}
		return ""
	}
	return walk(&root, "")
}

// kindOfGo names the kind of a Go type as yaml.v3 prints it.
func kindOfGo(t string) string {
	switch t = strings.TrimPrefix(t, "*"); {
	case strings.HasPrefix(t, "struct"), strings.HasPrefix(t, "map["):
		return "a mapping"
	case strings.HasPrefix(t, "[]"):
		return "a list"
	case t == "string":
		return "a string"
	case t == "bool":
		return "true or false"
	case strings.HasPrefix(t, "int"), strings.HasPrefix(t, "uint"), strings.HasPrefix(t, "float"):
		return "a number"
	}
	return "another kind of value"
}

func kindOfType(t reflect.Type) string {
	if t == nil {
		return "another kind of value"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		return "a mapping"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		return "a number"
	}
	return "another kind of value"
}

// article puts "a" before a JSON value's kind as encoding/json names it.
func article(v string) string {
	switch v {
	case "object":
		return "a mapping"
	case "array":
		return "a list"
	case "bool":
		return "true or false"
	case "null":
		return "null"
	}
	return "a " + strings.TrimPrefix(v, "number ")
}

// Keys containerd reads in a hosts.toml (remotes/docker/config/hosts.go hostFileConfig):
// at the root, and in each [host."…"] table.
var (
	hostsRootKeys = []string{"server", "host", "capabilities", "ca", "client", "skip_verify", "header", "override_path", "dial_timeout"}
	hostsHostKeys = []string{"capabilities", "ca", "client", "skip_verify", "header", "override_path", "dial_timeout"}
)

// unknownKeys lists the keys of m that containerd does not read, which it ignores
// without a word, each with the known key nearest to it.
func unknownKeys(m map[string]any, known []string) []string {
	var out []string
	for k := range m {
		if contains(known, k) {
			continue
		}
		if near := nearest(k, known); model.EditDistance(k, near) <= max(2, len(near)/4) {
			out = append(out, fmt.Sprintf("%s (did you mean %s?)", k, near))
		} else {
			out = append(out, fmt.Sprintf("%s (containerd reads %s)", k, strings.Join(known, ", ")))
		}
	}
	sort.Strings(out)
	return out
}

// nearest is the known word the fewest edits away from w.
func nearest(w string, known []string) string {
	best, bestD := "", 1<<30
	for _, k := range known {
		if d := model.EditDistance(w, k); d < bestD {
			best, bestD = k, d
		}
	}
	return best
}
