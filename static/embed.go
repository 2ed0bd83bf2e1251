// Package static holds the lab's front end: ES modules (static/js), styles
// (static/css) and vendored libraries (static/vendor), embedded in the binary.
package static

import "embed"

// FS holds the files of this directory, served under /static/.
//
//go:embed css js vendor favicon.svg
var FS embed.FS
