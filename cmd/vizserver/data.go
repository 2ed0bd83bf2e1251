package main

import (
	"flag"
	"strings"

	"github.com/backpropviz/backpropviz/engine/dataset"
	"github.com/backpropviz/backpropviz/server"
)

// dataDirs is the repeatable -dataset NAME=DIR flag.
type dataDirs struct{ dirs *[]server.DataDir }

func (d dataDirs) String() string {
	if d.dirs == nil {
		return ""
	}
	var s []string
	for _, dd := range *d.dirs {
		s = append(s, dd.Name+"="+dd.Dir)
	}
	return strings.Join(s, ",")
}

// Set takes one NAME=DIR; from the environment (BPV_DATASET) several,
// separated by commas.
func (d dataDirs) Set(v string) error {
	for _, one := range strings.Split(v, ",") {
		dd, err := server.ParseDataDir(strings.TrimSpace(one))
		if err != nil {
			return err
		}
		*d.dirs = append(*d.dirs, dd)
	}
	return nil
}

// dataFlags binds the flags of the data sets into cfg.
func dataFlags(fs *flag.FlagSet, cfg *server.Config) {
	c := &cfg.DataConfig
	fs.StringVar(&c.FashionDir, "fashion-dir", dataset.FashionMNISTDir, "directory of Fashion-MNIST's gzipped IDX files, as Debian's dataset-fashion-mnist installs them (env BPV_FASHION_DIR)")
	fs.Int64Var(&c.MaxModel, "max-model", 8<<20, "largest saved model a page may load, in bytes (env BPV_MAX_MODEL)")
	fs.Int64Var(&c.MaxImage, "max-image", 2<<20, "largest image a page may send as its own input (a drawing or an upload), in bytes (env BPV_MAX_IMAGE)")
	fs.IntVar(&c.MaxImageSide, "max-image-side", 4096, "largest width or height of such an image, in pixels (env BPV_MAX_IMAGE_SIDE)")
	fs.Var(dataDirs{&c.DataDirs}, "dataset", "NAME=DIR: a directory of IDX files (train-/t10k- images and labels, optional classes.txt) as data set NAME; repeatable (env BPV_DATASET, comma-separated)")
}
