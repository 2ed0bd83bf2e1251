package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
)

// envelopeFields are the fields every message has ("message": the message
// itself, not an object); a wrong type there makes the message malformed
// (bad_message) rather than an invalid argument.
var envelopeFields = map[string]bool{"message": true, "type": true, "v": true, "cmd": true}

// typeErrorCode is the error code for a value of the wrong type in field
// (as typeErrorMessage names it).
func typeErrorCode(msg string) string {
	field, _, _ := strings.Cut(msg, ":")
	if envelopeFields[field] {
		return codeBadMessage
	}
	return codeInvalid
}

// typeErrorMessage turns a JSON value of the wrong type in a client message
// into a message for the user that names the field (as the client wrote
// it: "lr", "speed.rate", "args.batch") and the type it wants, e.g.
// "lr: want a number, got a string". ok is false if err is not such an
// error.
func typeErrorMessage(err error) (msg string, ok bool) {
	var te *json.UnmarshalTypeError
	if !errors.As(err, &te) {
		return "", false
	}
	var path []string
	for _, p := range strings.Split(te.Field, ".") {
		if p != "" && p != "cmdArgs" { // cmdArgs: the embedded struct of top-level arguments
			path = append(path, p)
		}
	}
	field := strings.Join(path, ".")
	if field == "" {
		field = "message"
	}
	return fmt.Sprintf("%s: want %s, got %s", field, wantedType(te.Type), gotValue(te.Value)), true
}

// wantedType says in words what a Go type accepts in JSON.
func wantedType(t reflect.Type) string {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil {
		return "another type"
	}
	switch t.Kind() {
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer (digits only, no fraction or exponent)"
	case reflect.Bool:
		return "true or false"
	case reflect.String:
		return "a string"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Struct, reflect.Map:
		return "an object"
	}
	return "another type"
}

// gotValue describes the JSON value of an UnmarshalTypeError ("string",
// "number 1.5", "bool", "array", "object").
func gotValue(v string) string {
	switch {
	case strings.HasPrefix(v, "number "):
		return "the " + v
	case v == "array":
		return "a list"
	case v == "object":
		return "an object"
	case v == "bool":
		return "true or false"
	case v == "":
		return "another type"
	}
	return "a " + v
}
