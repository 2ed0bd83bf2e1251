package templates

import "context"

// assetsKey keys the URLs of the built front end in a page's context.
type assetsKey struct{}

// WithAssets returns ctx with the URLs of the built front end: url maps a
// file's path under /static/ ("js/main.js") to the URL of its bundled or
// minified, content-hashed form, or to "" if it has none.
func WithAssets(ctx context.Context, url func(name string) string) context.Context {
	return context.WithValue(ctx, assetsKey{}, url)
}

// AssetURL is the URL a page loads the front-end file name (a path under
// /static/) from: its built form (see WithAssets), or else the source,
// /static/NAME?v=VERSION (development, and what could not be built).
func AssetURL(ctx context.Context, name, version string) string {
	if url, ok := ctx.Value(assetsKey{}).(func(string) string); ok {
		if u := url(name); u != "" {
			return u
		}
	}
	return "/static/" + name + "?v=" + version
}
