package main

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/ptcdoctor/ptcdoctor"

// The directions of ../shared/architecture.md, kept true by the build: a failing test is
// cheaper than a tangled house. Each package lists what of this module it may import;
// "aws" says whether it may import the AWS SDK.
var allowed = map[string]struct {
	imports []string
	aws     bool
}{
	"model":      {nil, false},
	"ecrops":     {[]string{"model"}, true},
	"ecrops/sim": {nil, true},
	"diagnose":   {[]string{"model"}, false},
	// diagnose/nodes judges node configuration files: model only, and not diagnose
	// (diagnose may use it, for the snippets setup prints).
	"diagnose/nodes": {[]string{"model"}, false},
	"ui":             {[]string{"model", "diagnose"}, false},
}

func TestImportDirections(t *testing.T) {
	root := filepath.Join("..", "..")
	imports := map[string]map[string]bool{} // package dir -> imported paths (non-test files)
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && path != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		dir, _ := filepath.Rel(root, filepath.Dir(path))
		dir = filepath.ToSlash(dir)
		if imports[dir] == nil {
			imports[dir] = map[string]bool{}
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			imports[dir][p] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, must := range []string{"model", "ecrops", "ecrops/sim", "diagnose", "diagnose/nodes", "ui", "cmd/ptcdoctor"} {
		if imports[must] == nil {
			t.Errorf("package %s is missing from the layout", must)
		}
	}
	for dir, imps := range imports {
		rule, ok := ruleFor(dir)
		if !ok {
			continue // cmd/ptcdoctor may import everything
		}
		for p := range imps {
			if inside, ok := strings.CutPrefix(p, module+"/"); ok {
				if !permitted(dir, inside, rule.imports) {
					t.Errorf("%s imports %s: the architecture does not allow it", dir, inside)
				}
			}
			if strings.HasPrefix(p, "github.com/aws/") && !rule.aws {
				t.Errorf("%s imports the AWS SDK (%s): only ecrops talks to AWS", dir, p)
			}
		}
	}
}

// ruleFor finds the rule of a package or of the nearest parent that has one.
func ruleFor(dir string) (struct {
	imports []string
	aws     bool
}, bool) {
	for d := dir; d != "."; d = filepath.ToSlash(filepath.Dir(d)) {
		if r, ok := allowed[d]; ok {
			return r, true
		}
	}
	return allowed["model"], false
}

func permitted(dir, imported string, list []string) bool {
	if dir == "ecrops/sim" || strings.HasPrefix(dir, "ecrops/sim/") {
		return strings.HasPrefix(imported, "ecrops/sim") // its own subpackages only
	}
	if strings.HasPrefix(imported, dir+"/") && !strings.HasPrefix(imported, "ecrops/sim") {
		return true // a package's own subpackages
	}
	for _, a := range list {
		if imported == a || strings.HasPrefix(imported, a+"/") && a != "ecrops" {
			return true
		}
	}
	return false
}
