package protocol

import (
	"go/build"
	"strings"
	"testing"
)

// TestImportsOnlyEngineAndStdlib: a third-party client takes this package
// without the server, so it imports the standard library and the engine
// (whose traces it encodes) and nothing else.
func TestImportsOnlyEngineAndStdlib(t *testing.T) {
	pkg, err := build.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range append(pkg.Imports, pkg.TestImports...) {
		first, _, _ := strings.Cut(path, "/")
		if strings.Contains(first, ".") && path != "github.com/backpropviz/backpropviz/engine" {
			t.Errorf("package protocol imports %s: want only the standard library and the engine", path)
		}
	}
}
