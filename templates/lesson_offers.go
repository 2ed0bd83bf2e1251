package templates

import "slices"

// Offers reports whether the page offers control c (a lesson's fork
// control: play, step, lr, optimizer, reset, spec, data): all of them
// unless Only lists the ones offered.
func (vm Lab) Offers(c string) bool { return vm.Only == nil || slices.Contains(vm.Only, c) }
