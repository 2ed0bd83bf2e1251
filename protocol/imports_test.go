package protocol

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestImportsOnlyEngineAndStdlib: a third-party client takes this package
// without the server, so it imports the standard library and the engine
// (whose traces it encodes) and nothing else.
func TestImportsOnlyEngineAndStdlib(t *testing.T) {
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
		for _, imp := range af.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			first, _, _ := strings.Cut(path, "/")
			if strings.Contains(first, ".") && path != "github.com/backpropviz/backpropviz/engine" {
				t.Errorf("%s imports %s: package protocol imports only the standard library and the engine", f, path)
			}
		}
	}
}
