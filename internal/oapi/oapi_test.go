package oapi

import (
	"strings"
	"testing"
)

const doc = `{
 "openapi": "3.1.0",
 "paths": {
  "/things/{id}": {"get": {"responses": {
    "200": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}}},
    "404": {"$ref": "#/components/responses/Error"}}}},
  "/ws": {"get": {"responses": {"101": {"description": "upgrade"}}}}
 },
 "components": {
  "responses": {"Error": {"description": "e", "content": {"application/json": {"schema": {"type": "object", "required": ["error"]}}}}},
  "schemas": {"Thing": {"type": "object", "required": ["id", "n"], "properties": {
    "id": {"type": "string"}, "n": {"type": "integer"}, "f": {"type": "number"},
    "phase": {"type": "string", "enum": ["a", "b"]},
    "parent": {"oneOf": [{"$ref": "#/components/schemas/Thing"}, {"type": "null"}]},
    "tags": {"type": "array", "items": {"type": "string"}},
    "counts": {"type": "object", "additionalProperties": {"type": "integer"}}}}}
 }}`

func TestCheck(t *testing.T) {
	d, err := Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	thing := Route{"GET", "/things/{id}"}
	cases := []struct {
		name   string
		r      Route
		status int
		body   string
		want   string // "" = valid, else a substring of the error
	}{
		{"valid", thing, 200, `{"id":"x","n":3,"f":1.5,"phase":"a","parent":null,"tags":["t"],"counts":{"200":4},"extra":true}`, ""},
		{"nested valid", thing, 200, `{"id":"x","n":3,"parent":{"id":"y","n":1}}`, ""},
		{"missing required", thing, 200, `{"id":"x"}`, `required property "n"`},
		{"wrong type", thing, 200, `{"id":1,"n":3}`, "$.id: 1 is not of type string"},
		{"not an integer", thing, 200, `{"id":"x","n":3.5}`, "$.n: 3.5 is not of type integer"},
		{"enum", thing, 200, `{"id":"x","n":3,"phase":"c"}`, "$.phase"},
		{"oneOf", thing, 200, `{"id":"x","n":3,"parent":"p"}`, "$.parent: matches 0"},
		{"nested missing", thing, 200, `{"id":"x","n":3,"parent":{"id":"y"}}`, `$.parent`},
		{"array item", thing, 200, `{"id":"x","n":3,"tags":[1]}`, "$.tags[0]"},
		{"additional properties", thing, 200, `{"id":"x","n":3,"counts":{"a":"b"}}`, "$.counts.a"},
		{"error response", thing, 404, `{"error":"no"}`, ""},
		{"error response missing field", thing, 404, `{}`, `required property "error"`},
		{"undocumented status", thing, 500, `{}`, "status 500 is not documented"},
		{"undocumented route", Route{"POST", "/things/{id}"}, 200, `{}`, "not documented"},
		{"no schema", Route{"GET", "/ws"}, 101, ``, ""},
		{"not JSON", thing, 200, `<html>`, "not JSON"},
	}
	for _, c := range cases {
		err := d.Check(c.r, c.status, []byte(c.body))
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: Check(%v, %d, %s) = %v, want valid", c.name, c.r, c.status, c.body, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: Check(%v, %d, %s) = %v, want an error containing %q", c.name, c.r, c.status, c.body, err, c.want)
		}
	}
}

func TestRoutesAndVersion(t *testing.T) {
	d, err := Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	got := d.Routes()
	if len(got) != 2 || got[0] != (Route{"GET", "/things/{id}"}) || got[1] != (Route{"GET", "/ws"}) {
		t.Errorf("Routes() = %v", got)
	}
	if _, err := Parse([]byte(`{"openapi":"3.0.3","paths":{}}`)); err == nil {
		t.Error("Parse accepted an OpenAPI 3.0 document")
	}
}
