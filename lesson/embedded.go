package lesson

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// The lessons that ship with backpropviz, embedded: lessons/NAME.json,
// and the model files they name beside them.
//
//go:embed lessons
var embedded embed.FS

// Info names an embedded lesson for a menu.
type Info struct {
	Name  string // the file's name without .json: what -lesson and the form take
	Title string
}

// Embedded lists the embedded lessons by name.
func Embedded() []Info {
	ents, _ := fs.ReadDir(embedded, "lessons")
	var out []Info
	for _, e := range ents {
		name, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || strings.Contains(name, ".") { // NAME.model.json is a model
			continue
		}
		l, err := LoadEmbedded(name, 1<<30)
		if err != nil {
			continue // TestEmbeddedLessonsParse fails on it
		}
		out = append(out, Info{Name: name, Title: l.Title})
	}
	slices.SortFunc(out, func(a, b Info) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// LoadEmbedded reads the embedded lesson name.
func LoadEmbedded(name string, maxModel int64) (*Lesson, error) {
	if name == "" || strings.ContainsAny(name, "/\\.") {
		return nil, fieldErr("", "no embedded lesson is called %.40q", name)
	}
	b, err := embedded.ReadFile("lessons/" + name + ".json")
	if err != nil {
		return nil, fieldErr("", "no embedded lesson is called %.40q (there are %s)", name, names())
	}
	l, err := Parse(b, func(p string) ([]byte, error) { return embedded.ReadFile(path.Join("lessons", p)) }, maxModel)
	if err != nil {
		return nil, err
	}
	l.Name = name
	return l, nil
}

// names lists the embedded lessons' names.
func names() string {
	var ns []string
	for _, i := range Embedded() {
		ns = append(ns, i.Name)
	}
	return strings.Join(ns, ", ")
}

// IsEmbedded reports whether name is an embedded lesson's name.
func IsEmbedded(name string) bool {
	_, err := fs.Stat(embedded, "lessons/"+name+".json")
	return err == nil && name != "" && !strings.ContainsAny(name, "/\\.")
}

// Open reads the lesson of the -lesson flag: an embedded lesson's name, or
// a file (whose model file, if it names one, is read from its directory).
// maxLesson bounds the lesson file's bytes, maxModel its model's.
func Open(arg string, maxLesson, maxModel int64) (*Lesson, error) {
	if IsEmbedded(arg) {
		return LoadEmbedded(arg, maxModel)
	}
	fi, err := os.Stat(arg)
	if err != nil {
		return nil, fmt.Errorf("lesson %s: %w (or name an embedded lesson: %s)", arg, err, names())
	}
	if fi.Size() > maxLesson {
		return nil, fmt.Errorf("lesson %s: %d bytes, at most %d (-max-lesson)", arg, fi.Size(), maxLesson)
	}
	b, err := os.ReadFile(arg)
	if err != nil {
		return nil, fmt.Errorf("lesson %s: %w", arg, err)
	}
	dir := os.DirFS(filepath.Dir(arg))
	l, err := Parse(b, func(p string) ([]byte, error) { return fs.ReadFile(dir, p) }, maxModel)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", arg, err)
	}
	l.Name = filepath.Base(arg)
	l.Path = arg
	return l, nil
}
