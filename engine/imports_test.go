package engine

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestEngineImportsNothingOfTheProject parses every .go file of package
// engine (its in-package tests included; external engine_test files may use
// other packages of the project) and fails on an import of the module's own
// packages.
func TestEngineImportsNothingOfTheProject(t *testing.T) {
	mod, err := os.ReadFile(filepath.Join("..", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	var module string
	for _, line := range strings.Split(string(mod), "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "module" {
			module = f[1]
		}
	}
	if module == "" {
		t.Fatal("no module line in ../go.mod")
	}
	files, _ := filepath.Glob("*.go")
	if len(files) == 0 {
		t.Fatal("no .go files")
	}
	fset := token.NewFileSet()
	for _, f := range files {
		af, err := parser.ParseFile(fset, f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		if af.Name.Name != "engine" {
			continue
		}
		for _, imp := range af.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if path == module || strings.HasPrefix(path, module+"/") {
				t.Errorf("%s imports %s: package engine must not import the project", f, path)
			}
		}
	}
}
