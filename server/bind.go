package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"
)

// bind reads the request body and decodes it strictly into dst, a pointer to a struct of the
// api package. The README promises strict JSON, and encoding/json alone is lenient in ways
// that hide client bugs, so bind refuses:
//   - a Content-Type other than JSON (415; a missing one is taken as JSON) and any
//     Content-Encoding (415: bodies are not decompressed);
//   - anything but one JSON object: trailing data, a second object, a bare array;
//   - keys that match a field only case-insensitively, unknown keys and repeated keys;
//   - malformed JSON, wrong types and bodies over the payload limit (bindError).
//
// Nulls inside lists are refused by the api types themselves.
func bind(c *gin.Context, dst any) *Error { return bindJSON(c, dst, true) }

// bindLenient is bind for the drop-in routes (OpenAI, TEI): unknown fields are ignored, as the
// servers they stand in for ignore them, so clients that send extra options keep working.
func bindLenient(c *gin.Context, dst any) *Error { return bindJSON(c, dst, false) }

func bindJSON(c *gin.Context, dst any, strict bool) *Error {
	if e := checkMediaType(c.Request); e != nil {
		return e
	}
	body, err := io.ReadAll(c.Request.Body)
	if err != nil {
		return bindError(err)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return errorf(http.StatusBadRequest, CodeEmptyBody, "request body is empty: send a JSON object")
	}
	if e := checkObjectKeys(body, jsonFields(dst), strict); e != nil {
		return e
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if strict {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(dst); err != nil {
		return bindError(err)
	}
	return nil
}

// checkMediaType accepts application/json and the +json types, with any parameters
// (charset=utf-8), or no Content-Type at all; and no Content-Encoding but identity.
func checkMediaType(r *http.Request) *Error {
	if enc := r.Header.Get("Content-Encoding"); enc != "" && !strings.EqualFold(enc, "identity") {
		return errorf(http.StatusUnsupportedMediaType, CodeUnsupportedMediaType,
			"Content-Encoding %s is not supported: send the JSON body uncompressed", clip(enc))
	}
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err == nil && (mt == "application/json" || (strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json"))) {
		return nil
	}
	return errorf(http.StatusUnsupportedMediaType, CodeUnsupportedMediaType,
		"Content-Type %s is not supported: send Content-Type: application/json", clip(ct))
}

// checkObjectKeys requires body to be exactly one JSON object whose keys are all in fields,
// spelled exactly as they are there, each at most once; without strict, other keys are
// allowed, but none that differs from a field only in case (encoding/json would read it as
// that field). Values are checked by the typed decode that follows.
func checkObjectKeys(body []byte, fields []string, strict bool) *Error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return bindError(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return errorf(http.StatusBadRequest, CodeInvalidJSON, "the body must be a JSON object, got %s", jsonKind(tok))
	}
	// Past the opening brace, the end of the body is a truncated object, not an empty body.
	truncated := func(err error) *Error {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return bindError(err)
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return truncated(err)
		}
		key, _ := tok.(string)
		switch {
		case seen[key]:
			return errorf(http.StatusBadRequest, CodeInvalidJSON, "field %q appears twice", clip(key))
		case !slices.Contains(fields, key):
			for _, f := range fields {
				if strings.EqualFold(f, key) {
					return errorf(http.StatusBadRequest, CodeInvalidJSON,
						"unknown field %q: field names are case-sensitive, did you mean %q?", clip(key), f)
				}
			}
			if strict {
				return errorf(http.StatusBadRequest, CodeInvalidJSON, "unknown field %q (known: %s)", clip(key), strings.Join(fields, ", "))
			}
		}
		seen[key] = true
		if e := checkNoNullElements(dec, key, false); e != nil {
			return e
		}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return truncated(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		if err != nil {
			return bindError(err)
		}
		return errorf(http.StatusBadRequest, CodeInvalidJSON,
			"unexpected data after the JSON object at byte %d: send exactly one object", dec.InputOffset())
	}
	return nil
}

// checkNoNullElements reads one JSON value from dec and refuses a null inside any list in it:
// encoding/json would turn it into "", 0 or an empty list without a word, so that a client's
// missing value becomes a silent wrong one. A null field value means "absent" and is fine.
func checkNoNullElements(dec *json.Decoder, path string, inList bool) *Error {
	tok, err := dec.Token()
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return bindError(err)
	}
	if tok == nil && inList {
		return errorf(http.StatusBadRequest, CodeInvalidJSON, "%s is null: lists may not hold nulls", clip(path))
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return nil
	}
	for i := 0; dec.More(); i++ {
		elem := fmt.Sprintf("%s[%d]", path, i)
		if d == '{' {
			k, err := dec.Token()
			if err != nil {
				return bindError(err)
			}
			key, _ := k.(string)
			elem = path + "." + key
		}
		if e := checkNoNullElements(dec, elem, d == '['); e != nil {
			return e
		}
	}
	if _, err := dec.Token(); err != nil { // the closing delimiter
		return bindError(err)
	}
	return nil
}

// jsonFields lists the JSON names of the fields of the struct dst points to.
func jsonFields(dst any) []string {
	t := reflect.TypeOf(dst)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var names []string
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch name {
		case "-":
			continue
		case "":
			name = f.Name
		}
		names = append(names, name)
	}
	return names
}

func jsonKind(tok json.Token) string {
	switch v := tok.(type) {
	case json.Delim:
		if v == '[' {
			return "an array"
		}
		return "a " + v.String()
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", tok)
}

// bindError classifies a failure to read or decode a JSON request body.
func bindError(err error) *Error {
	var maxBytes *http.MaxBytesError
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var timeout interface{ Timeout() bool }
	switch {
	case errors.As(err, &maxBytes):
		return errorf(http.StatusRequestEntityTooLarge, CodePayloadTooLarge,
			"request body is larger than the payload limit of %d bytes", maxBytes.Limit)
	case errors.Is(err, errShuttingDownBody):
		return errShuttingDown
	case errors.As(err, &timeout) && timeout.Timeout():
		return errorf(http.StatusRequestTimeout, CodeBodyTimeout,
			"the request body did not arrive within the body read timeout")
	case errors.Is(err, io.EOF):
		return errorf(http.StatusBadRequest, CodeEmptyBody, "request body is empty: send a JSON object")
	case errors.As(err, &syntax):
		return errorf(http.StatusBadRequest, CodeInvalidJSON, "malformed JSON at byte %d: %v", syntax.Offset, clip(err.Error()))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errorf(http.StatusBadRequest, CodeInvalidJSON, "malformed JSON: the body ends early")
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "body"
		}
		return errorf(http.StatusBadRequest, CodeInvalidJSON, "%s: expected %s, got a JSON %s", clip(field), typ.Type, typ.Value)
	default:
		return errorf(http.StatusBadRequest, CodeInvalidJSON, "invalid request: %s", clip(err.Error()))
	}
}
