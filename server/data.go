package server

import (
	"fmt"
	"regexp"
	"strings"
	"sync"

	"github.com/backpropviz/backpropviz/engine"
	"github.com/backpropviz/backpropviz/engine/dataset"
	"github.com/backpropviz/backpropviz/protocol"
	"github.com/backpropviz/backpropviz/web"
)

// shapesSeed fixes the procedural shapes set: every session sees the same
// images; the network seed only changes the weights and the order.
const shapesSeed = 1

// DataConfig says where the data sets beyond the embedded MNIST and the
// procedural shapes come from, and how large a saved model may be.
type DataConfig struct {
	// FashionDir is the directory of Fashion-MNIST's four gzipped IDX
	// files; default dataset.FashionMNISTDir, where Debian's package
	// dataset-fashion-mnist puts them. Without them the data menu says
	// how to install them.
	FashionDir string
	// DataDirs are more data sets, each a directory of IDX files laid out
	// as MNIST's (see dataset.LoadDir), with an optional classes.txt.
	// They are read and checked when the server starts.
	DataDirs []DataDir
	// MaxModel bounds a saved model a page loads, in bytes (model_http.go);
	// a larger one gets 413; default 8 MiB.
	MaxModel int64
	// MaxLesson bounds a lesson file (lesson.go): uploaded on the
	// create-room form (a larger one gets 413) or named by -lesson;
	// default 64 KiB more than a base64 model of the default MaxModel.
	MaxLesson int64
	// MaxImage bounds an image a page sends as its own input (drawn or
	// uploaded), in bytes; a larger one gets 413; default 2 MiB.
	MaxImage int64
	// MaxImageSide bounds its width and height in pixels; default 4096.
	MaxImageSide int
}

// DataDir is a named directory of IDX files (the -dataset NAME=DIR flag).
type DataDir struct {
	Name string // the "data" parameter's value: lowercase letters, digits, '-' and '_'
	Dir  string
}

// dataNameRE is what a data set's name may be.
var dataNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,31}$`)

// ParseDataDir reads a -dataset flag's value NAME=DIR.
func ParseDataDir(v string) (DataDir, error) {
	name, dir, ok := strings.Cut(v, "=")
	if !ok || dir == "" {
		return DataDir{}, fmt.Errorf("data set %q: want NAME=DIR", v)
	}
	return DataDir{Name: name, Dir: dir}, nil
}

// dataInfo is one entry of the data menu.
type dataInfo struct {
	name, label string
	problem     string // why it cannot be chosen ("" if it can)
}

// dataSets builds each named engine.Data once and shares it: the sets are
// read-only and safe for many trainers.
type dataSets struct {
	shapesTrain, shapesTest int
	fashionDir              string

	list []dataInfo // the menu, in order

	mu   sync.Mutex
	sets map[string]engine.Data
}

// newDataSets lists the data sets of cfg and loads the directories of
// cfg.DataDirs; an error names the data set, the file and the problem.
func newDataSets(cfg Config) (*dataSets, error) {
	d := &dataSets{shapesTrain: cfg.ShapesTrain, shapesTest: cfg.ShapesTest,
		fashionDir: cfg.FashionDir, sets: map[string]engine.Data{}}
	if d.fashionDir == "" {
		d.fashionDir = dataset.FashionMNISTDir
	}
	d.list = []dataInfo{
		{name: protocol.DataMNIST, label: "MNIST digits"},
		{name: protocol.DataShapes, label: "shapes"},
		{name: protocol.DataFashion, label: "Fashion-MNIST"},
	}
	if !dataset.FashionMNISTInstalled(d.fashionDir) {
		d.list[2].problem = fmt.Sprintf("not installed (%s)", dataset.FashionMNISTInstall)
	}
	for _, dd := range cfg.DataDirs {
		if !dataNameRE.MatchString(dd.Name) {
			return nil, fmt.Errorf("data set %q: a name is 1 to 32 lowercase letters, digits, '-' or '_'", dd.Name)
		}
		if d.info(dd.Name) != nil {
			return nil, fmt.Errorf("data set %q: the name is taken", dd.Name)
		}
		train, test, err := dataset.LoadDir(dd.Dir)
		if err != nil {
			return nil, fmt.Errorf("data set %s: %w", dd.Name, err)
		}
		d.sets[dd.Name] = engine.Data{Name: dd.Name, Train: train, Test: test, ClassNames: train.ClassNames()}
		sh := train.Shape()
		d.list = append(d.list, dataInfo{name: dd.Name,
			label: fmt.Sprintf("%s (%d×%d, %d classes)", dd.Name, sh[1], sh[2], train.NumClasses())})
	}
	return d, nil
}

// info is the menu entry of name, or nil.
func (d *dataSets) info(name string) *dataInfo {
	for i := range d.list {
		if d.list[i].name == name {
			return &d.list[i]
		}
	}
	return nil
}

// names are the names of the data sets, in the menu's order.
func (d *dataSets) names() []string {
	out := make([]string, len(d.list))
	for i, e := range d.list {
		out[i] = e.name
	}
	return out
}

// get returns the data set called name.
func (d *dataSets) get(name string) (engine.Data, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if data, ok := d.sets[name]; ok {
		return data, nil
	}
	var data engine.Data
	switch name {
	case protocol.DataMNIST:
		train, test, err := dataset.MNIST()
		if err != nil {
			return engine.Data{}, fmt.Errorf("load MNIST: %w", err)
		}
		data = engine.Data{Name: name, Train: train, Test: test, ClassNames: train.ClassNames()}
	case protocol.DataShapes:
		train, test := dataset.Shapes(shapesSeed, d.shapesTrain, d.shapesTest)
		data = engine.Data{Name: name, Train: train, Test: test, ClassNames: train.ClassNames()}
	case protocol.DataFashion:
		train, test, err := dataset.FashionMNIST(d.fashionDir)
		if err != nil {
			return engine.Data{}, err
		}
		data = engine.Data{Name: name, Train: train, Test: test, ClassNames: train.ClassNames()}
	default:
		return engine.Data{}, fmt.Errorf("data %q: want one of %s", name, strings.Join(d.names(), ", "))
	}
	d.sets[name] = data
	return data, nil
}

// defaultSpec is the network made for data set name: the classic MNIST
// network for 1×28×28 images of 10 classes, the shapes network for the
// shapes, and otherwise two small conv blocks (one for images smaller than
// 4×4) and a dense layer of the set's classes.
func (d *dataSets) defaultSpec(data engine.Data) string {
	if data.Name == protocol.DataShapes {
		return ShapesSpec
	}
	sh, k := data.Train.Shape(), data.Train.NumClasses()
	if sh[0] == 1 && sh[1] == 28 && sh[2] == 28 && k == 10 {
		return engine.DefaultSpec
	}
	if sh[1] < 4 || sh[2] < 4 {
		return fmt.Sprintf("conv(8,3,s1,p1) relu dense(%d)", k)
	}
	return fmt.Sprintf("conv(8,3,s1,p1) relu maxpool(2,s2,p0) conv(16,3,s1,p1) relu maxpool(2,s2,p0) dense(%d)", k)
}

// menu is the lab page's data menu: a data set that cannot be chosen is
// shown disabled, with the reason in its label.
func (d *dataSets) menu() []web.Option {
	out := make([]web.Option, len(d.list))
	for i, e := range d.list {
		out[i] = web.Option{Value: e.name, Label: e.label}
		if e.problem != "" {
			out[i].Label, out[i].Disabled = e.label+": "+e.problem, true
		}
	}
	return out
}
